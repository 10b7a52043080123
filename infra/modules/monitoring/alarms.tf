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

# Every alarm has one shape (a statistic over one period, >= its threshold, the topic for
# actions), so one resource makes them all from local.alarms: what each watches, keyed by its
# name after the prefix. The groups below are built in the order of the alarm_names output.

# ---- Lambda (AWS/Lambda, dimension FunctionName)
# https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
locals {
  function_alarms = {
    errors = {
      metric      = "Errors"
      threshold   = var.thresholds.function_errors
      description = "Function %s ended invocations with an error (an unhandled exception, a timeout or running out of memory)."
    }
    throttles = {
      metric      = "Throttles"
      threshold   = var.thresholds.function_throttles
      description = "Invocations of %s were throttled (account or reserved concurrency exhausted): those requests failed."
    }
  }
  lambda_alarms = [
    for kind, alarm in local.function_alarms : {
      for key, name in var.function_names : "${key}-${kind}" => {
        description = format(alarm.description, name)
        namespace   = "AWS/Lambda"
        metric      = alarm.metric
        dimensions  = { FunctionName = name }
        statistic   = "Sum"
        threshold   = alarm.threshold
      }
    }
  ]
}

# ---- API Gateway WebSocket (AWS/ApiGateway, dimensions ApiId + Stage). WebSocket APIs have no
# 5XXError metric; IntegrationError (4XX/5XX from the integration) and ExecutionError (errors
# calling it) are their server-side errors.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-logging.html
locals {
  api_alarms = {
    api-integration-errors = {
      description = "The WebSocket API got 4XX/5XX answers from the functions (IntegrationError)."
      metric      = "IntegrationError"
      statistic   = "Sum"
      threshold   = var.thresholds.api_integration_errors
    }
    api-execution-errors = {
      description = "The WebSocket API could not call a function at all (ExecutionError: permissions, throttling, timeouts)."
      metric      = "ExecutionError"
      statistic   = "Sum"
      threshold   = var.thresholds.api_execution_errors
    }
    api-integration-latency = {
      description = "p99 time from API Gateway calling a function to its answer (IntegrationLatency, ms) is high: a sendAll fan-out this slow is felt by users."
      metric      = "IntegrationLatency"
      statistic   = "p99"
      threshold   = var.thresholds.api_integration_latency_p99
    }
  }
}

# ---- DynamoDB (AWS/DynamoDB, dimension TableName), from local.table_throttles above
locals {
  dynamodb_alarms = {
    for key, t in local.table_throttles : "${key}-throttles" => {
      description = "${t.metric} on table ${t.table}: requests were throttled (on-demand tables throttle past twice their previous peak or the table's maximum throughput)."
      namespace   = "AWS/DynamoDB"
      metric      = t.metric
      dimensions  = { TableName = t.table }
      statistic   = "Sum"
      threshold   = var.thresholds.dynamodb_throttle_events
    }
  }
}

# ---- the functions' own metrics (embedded metric format, no dimension = the whole stack)
locals {
  stack_alarms = {
    fanout-failures = {
      description = "Posts to members failed for a reason other than 410 Gone, after retries (metric failed): those members missed a message or presence frame."
      metric      = "failed"
      threshold   = var.thresholds.fanout_failures
    }
    history-write-failures = {
      description = "Messages could not be stored (metric historyWriteFailures): their senders got an internal error and nobody received them."
      metric      = "historyWriteFailures"
      threshold   = var.thresholds.history_write_failures
    }
  }
}

# ---- a dead-letter queue, once one exists (AWS/SQS, dimension QueueName)
locals {
  dead_letter_alarms = var.dead_letter_queue_arn == null ? {} : {
    dead-letters = {
      description = "Messages are waiting in the dead-letter queue (ApproximateNumberOfMessagesVisible): work that failed for good and needs a look."
      namespace   = "AWS/SQS"
      metric      = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = element(split(":", var.dead_letter_queue_arn), 5) }
      statistic   = "Maximum"
      threshold   = var.thresholds.dead_letter_messages
    }
  }
}

locals {
  alarm_groups = concat(local.lambda_alarms, [
    { for key, a in local.api_alarms : key => merge(a, { namespace = "AWS/ApiGateway", dimensions = local.api_dimensions }) },
    local.dynamodb_alarms,
    { for key, a in local.stack_alarms : key => merge(a, { namespace = var.metrics_namespace, dimensions = null, statistic = "Sum" }) },
    local.dead_letter_alarms,
  ])
  # Keyed by the alarm's name after the prefix, as alarm names are unique in a region.
  alarms = merge(local.alarm_groups...)
}

# A statistic "pNN" is a percentile, which CloudWatch takes as extended_statistic.
resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = startswith(each.value.statistic, "p") ? null : each.value.statistic
  extended_statistic  = startswith(each.value.statistic, "p") ? each.value.statistic : null
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  tags = var.tags
}
