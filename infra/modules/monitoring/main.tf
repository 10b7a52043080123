data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

# CloudWatch alarms can publish to an encrypted topic only with a customer managed key whose
# policy lets CloudWatch use it; the AWS managed aws/sns key does not allow that.
# https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger
resource "aws_kms_key" "alarms" {
  count = var.kms_key_arn == null ? 1 : 0

  description             = "${var.name_prefix} alarm topic"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*" # in a key policy, "*" is this key
      },
      {
        Sid       = "CloudWatchPublishes"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
      },
    ]
  })

  tags = var.tags
}

locals {
  topic_key = var.kms_key_arn != null ? var.kms_key_arn : aws_kms_key.alarms[0].arn
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = local.topic_key

  tags = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alarm_email != null ? 1 : 0

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}
