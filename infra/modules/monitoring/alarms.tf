# Every alarm notifies the topic when it fires and when it clears. Missing data (no traffic)
# is not a breach. infra/README.md ("Alarms") lists what each one watches.

locals {
  actions = [aws_sns_topic.alarms.arn]
  api_dimensions = {
    ApiId = var.api_id
    Stage = var.stage_name
  }
  # AWS/DynamoDB publishes ThrottledRequests only per operation; the read and write throttle
  # events cover every operation of a table (and its indexes) in one series each.
  # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html
  table_throttles = merge([
    for key, table in var.table_names : {
      "${key}-read"  = { table = table, metric = "ReadThrottleEvents" }
      "${key}-write" = { table = table, metric = "WriteThrottleEvents" }
    }
  ]...)
}

# ---- Lambda (AWS/Lambda, dimension FunctionName)
# https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each = var.function_names

  alarm_name          = "${var.name_prefix}-${each.key}-errors"
  alarm_description   = "Function ${each.value} ended invocations with an error (an unhandled exception, a timeout or running out of memory)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  threshold           = var.thresholds.function_errors
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "function_throttles" {
  for_each = var.function_names

  alarm_name          = "${var.name_prefix}-${each.key}-throttles"
  alarm_description   = "Invocations of ${each.value} were throttled (account or reserved concurrency exhausted): those requests failed."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  threshold           = var.thresholds.function_throttles
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  tags = var.tags
}

# ---- API Gateway WebSocket (AWS/ApiGateway, dimensions ApiId + Stage). WebSocket APIs have no
# 5XXError metric; IntegrationError (4XX/5XX from the integration) and ExecutionError (errors
# calling it) are their server-side errors.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-logging.html

resource "aws_cloudwatch_metric_alarm" "api_integration_errors" {
  alarm_name          = "${var.name_prefix}-api-integration-errors"
  alarm_description   = "The WebSocket API got 4XX/5XX answers from the functions (IntegrationError)."
  namespace           = "AWS/ApiGateway"
  metric_name         = "IntegrationError"
  dimensions          = local.api_dimensions
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  threshold           = var.thresholds.api_integration_errors
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "api_execution_errors" {
  alarm_name          = "${var.name_prefix}-api-execution-errors"
  alarm_description   = "The WebSocket API could not call a function at all (ExecutionError: permissions, throttling, timeouts)."
  namespace           = "AWS/ApiGateway"
  metric_name         = "ExecutionError"
  dimensions          = local.api_dimensions
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  threshold           = var.thresholds.api_execution_errors
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "api_integration_latency" {
  alarm_name          = "${var.name_prefix}-api-integration-latency"
  alarm_description   = "p99 time from API Gateway calling a function to its answer (IntegrationLatency, ms) is high: a sendAll fan-out this slow is felt by users."
  namespace           = "AWS/ApiGateway"
  metric_name         = "IntegrationLatency"
  dimensions          = local.api_dimensions
  extended_statistic  = "p99"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  threshold           = var.thresholds.api_integration_latency_p99
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  tags = var.tags
}

# ---- DynamoDB (AWS/DynamoDB, dimension TableName)

resource "aws_cloudwatch_metric_alarm" "table_throttles" {
  for_each = local.table_throttles

  alarm_name          = "${var.name_prefix}-${each.key}-throttles"
  alarm_description   = "${each.value.metric} on table ${each.value.table}: requests were throttled (on-demand tables throttle past twice their previous peak or the table's maximum throughput)."
  namespace           = "AWS/DynamoDB"
  metric_name         = each.value.metric
  dimensions          = { TableName = each.value.table }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  threshold           = var.thresholds.dynamodb_throttle_events
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  tags = var.tags
}

# ---- the functions' own metrics (embedded metric format, no dimension = the whole stack)

resource "aws_cloudwatch_metric_alarm" "fanout_failures" {
  alarm_name          = "${var.name_prefix}-fanout-failures"
  alarm_description   = "Posts to members failed for a reason other than 410 Gone, after retries (metric failed): those members missed a message or presence frame."
  namespace           = var.metrics_namespace
  metric_name         = "failed"
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  threshold           = var.thresholds.fanout_failures
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "history_write_failures" {
  alarm_name          = "${var.name_prefix}-history-write-failures"
  alarm_description   = "Messages could not be stored (metric historyWriteFailures): their senders got an internal error and nobody received them."
  namespace           = var.metrics_namespace
  metric_name         = "historyWriteFailures"
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  threshold           = var.thresholds.history_write_failures
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  tags = var.tags
}

# ---- a dead-letter queue, once one exists (AWS/SQS, dimension QueueName)

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  count = var.dead_letter_queue_arn != null ? 1 : 0

  alarm_name          = "${var.name_prefix}-dead-letters"
  alarm_description   = "Messages are waiting in the dead-letter queue (ApproximateNumberOfMessagesVisible): work that failed for good and needs a look."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = element(split(":", var.dead_letter_queue_arn), 5) }
  statistic           = "Maximum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  threshold           = var.thresholds.dead_letter_messages
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  tags = var.tags
}
