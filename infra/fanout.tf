# The fan-out tier of big rooms (docs/design.md, "Big rooms"): send_all queues a big room's
# recipients in chunks; the fanout function consumes them through an event source mapping.

# Encrypted at rest with SQS-managed keys (SSE-SQS): no KMS grant is needed by the producers or
# the consumer. https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-server-side-encryption.html
locals {
  fanout_timeout = coalesce(try(var.lambda_limits.fanout.timeout, null), local.fanout.timeout)
  # AWS: at least six times the function's timeout, so a batch retried by the mapping
  # after throttling is not visible again while it is still being worked on.
  # https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
  fanout_visibility_timeout = 6 * local.fanout_timeout
  # A chunk that fails every receive is moved to the dead-letter queue at its maxReceiveCount-th
  # receive, up to maxReceiveCount visibility timeouts after it was sent; retention counts from
  # that first send, so it must outlast them or the chunk expires on the way, unseen. An hour at
  # least (a chunk not delivered by then is chat history, not news), one timeout to spare, at
  # most SQS's 14 days (the precondition on the queue).
  # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html
  fanout_retention_seconds = max(3600, (var.fanout_max_receive_count + 1) * local.fanout_visibility_timeout)
  # The queues' names and ARNs built from their parts (arn:<partition>:sqs:<region>:<account>:
  # <name>, https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html#amazonsqs-resources-for-iam-policies),
  # so they are known at plan time and nothing on the chat's path waits for the queues: creating
  # one takes the provider ~25 s of attribute-propagation checks, then the redrive policy as long
  # again. The functions get the queue's name (FANOUT_QUEUE_NAME) and look its URL up once with
  # GetQueueUrl, as SQS asks ("don't build the queue URL from its components"):
  # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html
  # The queue resources below have exactly these names and ARNs (tests/infra checks it).
  fanout_queue_name        = "${var.name_prefix}-fanout"
  fanout_dead_letters_name = "${var.name_prefix}-fanout-dlq"
  fanout_queue_arn = format(
    "arn:%s:sqs:%s:%s:%s",
    data.aws_partition.current.partition,
    var.region,
    data.aws_caller_identity.current.account_id,
    local.fanout_queue_name,
  )
  fanout_dead_letters_arn = format(
    "arn:%s:sqs:%s:%s:%s",
    data.aws_partition.current.partition,
    var.region,
    data.aws_caller_identity.current.account_id,
    local.fanout_dead_letters_name,
  )
}

resource "aws_sqs_queue" "fanout_dead_letters" {
  name                    = local.fanout_dead_letters_name
  sqs_managed_sse_enabled = true
  # 14 days, the maximum: time to look at what failed. Longer than the queue's own retention,
  # as it must be: a moved message keeps its first enqueue time (standard queues).
  message_retention_seconds = 1209600
  tags                      = local.tags
}

resource "aws_sqs_queue" "fanout" {
  name                       = local.fanout_queue_name
  sqs_managed_sse_enabled    = true
  message_retention_seconds  = local.fanout_retention_seconds
  visibility_timeout_seconds = local.fanout_visibility_timeout
  tags                       = local.tags

  lifecycle {
    # aws_sqs_queue_redrive_policy.fanout below owns the redrive policy.
    ignore_changes = [redrive_policy]

    precondition {
      condition     = local.fanout_retention_seconds <= 1209600
      error_message = "fanout_max_receive_count x 6 x the fanout timeout (lambda_limits.fanout.timeout) must stay under SQS's 14-day retention (1209600 s): lower one of them."
    }
  }
}

# Failed records (batchItemFailures) are received again; after maxReceiveCount they move to the
# dead-letter queue, whose depth alarms (module monitoring). A resource of its own: the emulator
# returns the policy re-spaced, which the queue's own attribute would show as a change forever.
resource "aws_sqs_queue_redrive_policy" "fanout" {
  queue_url = aws_sqs_queue.fanout.id
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.fanout_dead_letters.arn
    maxReceiveCount     = var.fanout_max_receive_count
  })
}

# Only failed records are retried (ReportBatchItemFailures):
# https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
# maximum_concurrency bounds the instances, hence the posts/s against the account's quota:
# https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
resource "aws_lambda_event_source_mapping" "fanout" {
  event_source_arn        = aws_sqs_queue.fanout.arn
  function_name           = module.functions.function_arns["fanout"]
  batch_size              = var.fanout_batch_size
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.fanout_max_concurrency
  }
}
