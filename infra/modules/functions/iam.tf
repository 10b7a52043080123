# Least privilege, per function: the DynamoDB actions of the design.md table on the exact table
# and index ARNs, @connections only for the functions that fan out, SSM parameters only where
# named, and logs only in the function's own log group. The two unavoidable wildcards are suffixes inside an exact parent:
# "<log group>:log-stream:*" (Lambda names the streams) and ".../POST/@connections/*"
# (connection ids are only known at run time).

locals {
  # Actions DynamoDB needs on a customer-managed key when the caller reads or writes a table.
  dynamodb_kms_actions = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]

  policies = {
    for key, fn in var.functions : key => {
      Version = "2012-10-17"
      Statement = concat(
        [{
          Sid      = "OwnLogGroup"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = ["${aws_cloudwatch_log_group.this[key].arn}:log-stream:*"]
        }],
        [for statement in fn.dynamodb_statements : {
          Sid      = statement.sid
          Effect   = "Allow"
          Action   = sort(statement.actions)
          Resource = sort(statement.resources)
        }],
        [for statement in fn.s3_statements : {
          Sid      = statement.sid
          Effect   = "Allow"
          Action   = sort(statement.actions)
          Resource = sort(statement.resources)
        }],
        length(fn.parameter_arns) > 0 ? [{
          Sid      = "ReadParameters"
          Effect   = "Allow"
          Action   = ["ssm:GetParameter"]
          Resource = sort(fn.parameter_arns)
        }] : [],
        # A SecureString under a customer managed key is decrypted with the caller's own
        # kms:Decrypt (aws/ssm needs none): only through SSM, only for these parameters.
        # https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html
        fn.parameter_kms_key_arn != null ? [{
          Sid      = "DecryptParameters"
          Effect   = "Allow"
          Action   = ["kms:Decrypt"]
          Resource = [fn.parameter_kms_key_arn]
          Condition = {
            StringEquals = {
              "kms:ViaService"                      = "ssm.${data.aws_region.current.name}.amazonaws.com"
              "kms:EncryptionContext:PARAMETER_ARN" = sort(fn.parameter_arns)
            }
          }
        }] : [],
        # SendMessageBatch is authorized as sqs:SendMessage:
        # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
        # A sender knows its queue by name and looks the URL up once (sqs:GetQueueUrl, on the
        # queue's ARN): https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_GetQueueUrl.html
        length(fn.sqs_send_arns) > 0 ? [{
          Sid      = "SendToQueues"
          Effect   = "Allow"
          Action   = ["sqs:GetQueueUrl", "sqs:SendMessage"]
          Resource = sort(fn.sqs_send_arns)
        }] : [],
        # What an SQS event source mapping needs from the function's execution role:
        # https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
        length(fn.sqs_consume_arns) > 0 ? [{
          Sid      = "ConsumeQueues"
          Effect   = "Allow"
          Action   = ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
          Resource = sort(fn.sqs_consume_arns)
        }] : [],
        # The VAPID key (notify): GetSecretValue on exactly that secret.
        length(fn.secret_arns) > 0 ? [{
          Sid      = "ReadSecrets"
          Effect   = "Allow"
          Action   = ["secretsmanager:GetSecretValue"]
          Resource = sort(fn.secret_arns)
        }] : [],
        # Mobile devices: endpoints under the configured platform applications only.
        # https://docs.aws.amazon.com/sns/latest/dg/mobile-platform-endpoint.html
        length(fn.sns_create_endpoint_arns) > 0 ? [{
          Sid      = "RegisterMobileDevices"
          Effect   = "Allow"
          Action   = ["sns:CreatePlatformEndpoint"]
          Resource = sort(fn.sns_create_endpoint_arns)
        }] : [],
        length(fn.sns_publish_arns) > 0 ? [{
          Sid      = "PushToMobileDevices"
          Effect   = "Allow"
          Action   = ["sns:Publish"]
          Resource = sort(fn.sns_publish_arns)
        }] : [],
        fn.manage_connections ? [{
          Sid      = "PostToConnections"
          Effect   = "Allow"
          Action   = ["execute-api:ManageConnections"]
          Resource = [var.manage_connections_arn]
        }] : [],
        fn.disconnect_connections ? [{
          Sid      = "CloseConnections"
          Effect   = "Allow"
          Action   = ["execute-api:ManageConnections"]
          Resource = [var.disconnect_connections_arn]
        }] : [],
        # The message review hook: exactly the one function named, synchronously.
        length(fn.invoke_function_arns) > 0 ? [{
          Sid      = "InvokeReviewHook"
          Effect   = "Allow"
          Action   = ["lambda:InvokeFunction"]
          Resource = sort(fn.invoke_function_arns)
        }] : [],
        var.dynamodb_kms_key_arn != null && length(fn.dynamodb_statements) > 0 ? [{
          Sid      = "TableKeyThroughDynamoDB"
          Effect   = "Allow"
          Action   = local.dynamodb_kms_actions
          Resource = [var.dynamodb_kms_key_arn]
          Condition = {
            StringEquals = { "kms:ViaService" = "dynamodb.${data.aws_region.current.name}.amazonaws.com" }
          }
        }] : [],
        # X-Ray has no resource-level permissions: Active tracing needs "*" (opt-in only).
        var.tracing_mode == "Active" ? [{
          Sid      = "XRayTraces"
          Effect   = "Allow"
          Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
          Resource = ["*"]
        }] : [],
      )
    }
  }
}

data "aws_region" "current" {}

resource "aws_iam_role" "this" {
  for_each = var.functions

  name        = "${var.name_prefix}-${each.key}"
  description = "Execution role of the ${var.name_prefix}-${each.key} function only."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  for_each = var.functions

  name   = "${var.name_prefix}-${each.key}"
  role   = aws_iam_role.this[each.key].id
  policy = jsonencode(local.policies[each.key])

  lifecycle {
    precondition {
      condition     = !each.value.manage_connections || var.manage_connections_arn != null
      error_message = "Function ${each.key} fans out (manage_connections) but manage_connections_arn is null."
    }
    precondition {
      condition     = !each.value.disconnect_connections || var.disconnect_connections_arn != null
      error_message = "Function ${each.key} closes connections (disconnect_connections) but disconnect_connections_arn is null."
    }
  }
}
