# Notifications for away members (docs/notifications.md): send_all queues each stored message
# on the notify queue; the notify function (its own zip, with the Web Push libraries) consumes
# it, signs pushes with the VAPID key kept in Secrets Manager and, for mobile devices, publishes
# to SNS platform endpoints. Off unless notifications_enabled.

locals {
  notify_enabled      = var.notifications_enabled
  notify_queue_name   = "${var.name_prefix}-notify"
  notify_dlq_name     = "${var.name_prefix}-notify-dlq"
  notify_timeout      = 60
  notify_vapid_secret = "${var.name_prefix}-vapid"
  notify_queue_arn = format(
    "arn:%s:sqs:%s:%s:%s",
    data.aws_partition.current.partition,
    var.region,
    data.aws_caller_identity.current.account_id,
    local.notify_queue_name,
  )
  # Devices registered through an SNS platform application get endpoints under it:
  # arn:aws:sns:<region>:<account>:endpoint/<platform>/<app>/<id>
  # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html
  sns_endpoint_arns = [
    for arn in values(var.sns_platform_application_arns) : "${replace(arn, ":app/", ":endpoint/")}/*"
  ]
  notify_environment = local.notify_enabled ? {
    NOTIFY_QUEUE_NAME     = local.notify_queue_name
    NOTIFY_WINDOW_SECONDS = tostring(var.notify_window_seconds)
    PUSH_ALLOW_LOOPBACK   = tostring(var.push_allow_loopback)
    VAPID_SECRET_ID       = local.notify_vapid_secret
    VAPID_SUBJECT         = var.vapid_subject
    SNS_PLATFORM_APPS     = join(",", [for k, v in var.sns_platform_application_arns : "${k}=${v}"])
  } : {}
}

# The VAPID key pair, as {"privateKey", "publicKey"} (base64url). Terraform makes the secret, not
# its value, so the private key never enters the state: `roomchat vapid` makes a pair and the
# operator stores it once (aws secretsmanager put-secret-value); the local stack stores one.
resource "aws_secretsmanager_secret" "vapid" {
  count                   = local.notify_enabled ? 1 : 0
  name                    = local.notify_vapid_secret
  description             = "VAPID key pair the notify function signs Web Push requests with (RFC 8292)."
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "aws_sqs_queue" "notify_dead_letters" {
  count                     = local.notify_enabled ? 1 : 0
  name                      = local.notify_dlq_name
  sqs_managed_sse_enabled   = true
  message_retention_seconds = 1209600
  tags                      = local.tags
}

# A notification older than an hour is not news: retention 1 h; visibility six times the
# function's timeout (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
resource "aws_sqs_queue" "notify" {
  count                      = local.notify_enabled ? 1 : 0
  name                       = local.notify_queue_name
  sqs_managed_sse_enabled    = true
  message_retention_seconds  = 3600
  visibility_timeout_seconds = 6 * local.notify_timeout
  tags                       = local.tags

  lifecycle {
    ignore_changes = [redrive_policy]
  }
}

resource "aws_sqs_queue_redrive_policy" "notify" {
  count     = local.notify_enabled ? 1 : 0
  queue_url = aws_sqs_queue.notify[0].id
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.notify_dead_letters[0].arn
    maxReceiveCount     = 3
  })
}

resource "aws_lambda_event_source_mapping" "notify" {
  count                   = local.notify_enabled ? 1 : 0
  event_source_arn        = aws_sqs_queue.notify[0].arn
  function_name           = module.functions.function_arns["notify"]
  batch_size              = 10
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.notify_max_concurrency
  }
}
