# One function per WebSocket route, all from the same zip (one S3 object, code.tf) with a
# different handler (docs/design.md), each with its own log group, role, memory and timeout.

resource "aws_cloudwatch_log_group" "this" {
  for_each = var.functions

  # The name Lambda writes to by default, created here so retention and encryption are ours and
  # the role can be limited to this one group.
  name              = "/aws/lambda/${var.name_prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}

resource "aws_lambda_function" "this" {
  for_each = var.functions

  function_name = "${var.name_prefix}-${each.key}"
  description   = each.value.description
  role          = aws_iam_role.this[each.key].arn
  handler       = each.value.handler
  runtime       = var.runtime
  architectures = [coalesce(each.value.architecture, var.architecture)]
  memory_size   = coalesce(each.value.memory_size, var.memory_size)
  timeout       = coalesce(each.value.timeout, var.timeout)

  s3_bucket = aws_s3_bucket.code.id
  s3_key    = each.value.zip_path == null ? aws_s3_object.code.key : aws_s3_object.own[each.key].key
  # The zips are built deterministically, so an unchanged source tree keeps this hash (and the
  # object's key) and the plan stays clean; a changed one updates the functions built from it.
  source_code_hash = filebase64sha256(coalesce(each.value.zip_path, var.zip_path))

  reserved_concurrent_executions = lookup(var.reserved_concurrency, each.key, -1)

  environment {
    variables = coalesce(each.value.environment, var.environment)
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = var.tags

  # The log group and permissions must exist before the first invocation can log.
  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}
