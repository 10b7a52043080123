# The alarm set and each alarm's shape, against a mock provider (nothing is created anywhere):
# one resource makes every alarm from local.alarms, so these pin what each group watches.
# tests/infra runs this file; infra/tests/operations.tftest.hcl checks the root module's set and
# tests/infra/test_emulator_apply.py reads the alarms back from the emulator.

# Alarm actions must be ARNs (the provider checks them); everything else may be made up.
mock_provider "aws" {
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:us-east-1:123456789012:roomchat-alarms" }
  }
}

variables {
  function_names = { join = "roomchat-join", send_all = "roomchat-send_all" }
  api_id         = "abc123"
  table_names    = { rooms = "roomchat-rooms", history = "roomchat-history" }
}

run "one_alarm_per_signal_in_group_order" {
  command = apply

  assert {
    condition = output.alarm_names == [
      "roomchat-join-errors", "roomchat-send_all-errors",
      "roomchat-join-throttles", "roomchat-send_all-throttles",
      "roomchat-api-execution-errors", "roomchat-api-integration-errors", "roomchat-api-integration-latency",
      "roomchat-history-read-throttles", "roomchat-history-write-throttles",
      "roomchat-rooms-read-throttles", "roomchat-rooms-write-throttles",
      "roomchat-fanout-failures", "roomchat-history-write-failures",
    ]
    error_message = "Unexpected alarm set: ${jsonencode(output.alarm_names)}"
  }
  assert {
    condition = alltrue([
      for a in aws_cloudwatch_metric_alarm.this :
      a.alarm_actions == toset([output.alarm_topic_arn]) && a.ok_actions == a.alarm_actions
      && a.comparison_operator == "GreaterThanOrEqualToThreshold" && a.treat_missing_data == "notBreaching"
      && a.period == 300 && a.evaluation_periods == 1
    ])
    error_message = "Every alarm notifies the topic both ways, fires at >= its threshold over one 5-minute period, and takes no data as no breach."
  }
}

run "each_group_watches_its_metric_and_dimensions" {
  command = apply

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["send_all-errors"].namespace == "AWS/Lambda"
      && aws_cloudwatch_metric_alarm.this["send_all-errors"].metric_name == "Errors"
      && aws_cloudwatch_metric_alarm.this["send_all-errors"].dimensions == tomap({ FunctionName = "roomchat-send_all" })
      && aws_cloudwatch_metric_alarm.this["send_all-errors"].statistic == "Sum"
      && aws_cloudwatch_metric_alarm.this["join-throttles"].metric_name == "Throttles"
      && aws_cloudwatch_metric_alarm.this["join-throttles"].alarm_description == "Invocations of roomchat-join were throttled (account or reserved concurrency exhausted): those requests failed."
    )
    error_message = "Function alarms: AWS/Lambda Errors / Throttles by FunctionName, summed."
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["api-integration-latency"].extended_statistic == "p99"
      && aws_cloudwatch_metric_alarm.this["api-integration-latency"].statistic == null
      && aws_cloudwatch_metric_alarm.this["api-integration-latency"].threshold == 3000
      && aws_cloudwatch_metric_alarm.this["api-execution-errors"].statistic == "Sum"
      && aws_cloudwatch_metric_alarm.this["api-execution-errors"].extended_statistic == null
      && aws_cloudwatch_metric_alarm.this["api-execution-errors"].dimensions == tomap({ ApiId = "abc123", Stage = "live" })
    )
    error_message = "API alarms: ApiId + Stage; the latency alarm is a p99 (extended_statistic), the others sums."
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["history-write-throttles"].metric_name == "WriteThrottleEvents"
      && aws_cloudwatch_metric_alarm.this["history-write-throttles"].dimensions == tomap({ TableName = "roomchat-history" })
      && aws_cloudwatch_metric_alarm.this["fanout-failures"].namespace == "roomchat"
      && aws_cloudwatch_metric_alarm.this["fanout-failures"].metric_name == "failed"
      && aws_cloudwatch_metric_alarm.this["fanout-failures"].dimensions == null
    )
    error_message = "Table alarms by TableName; the functions' own metrics in the stack's namespace with no dimension."
  }
}

run "a_dead_letter_queue_gets_a_depth_alarm" {
  command = apply

  variables {
    dead_letter_queue_arn = "arn:aws:sqs:us-east-1:123456789012:roomchat-fanout-dlq"
    thresholds            = { function_errors = 2 }
  }

  assert {
    condition = (
      output.alarm_names[length(output.alarm_names) - 1] == "roomchat-dead-letters"
      && aws_cloudwatch_metric_alarm.this["dead-letters"].dimensions == tomap({ QueueName = "roomchat-fanout-dlq" })
      && aws_cloudwatch_metric_alarm.this["dead-letters"].statistic == "Maximum"
      && aws_cloudwatch_metric_alarm.this["dead-letters"].namespace == "AWS/SQS"
    )
    error_message = "The queue's ApproximateNumberOfMessagesVisible (Maximum) by QueueName must alarm, listed last."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["join-errors"].threshold == 2 && aws_cloudwatch_metric_alarm.this["join-throttles"].threshold == 1
    error_message = "A threshold given overrides its default only."
  }
}
