output "alarm_topic_arn" {
  description = "ARN of the SNS topic every alarm notifies (subscribe more endpoints to it)."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "Name of every alarm this module created."
  value = concat(
    [for a in aws_cloudwatch_metric_alarm.function_errors : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.function_throttles : a.alarm_name],
    [
      aws_cloudwatch_metric_alarm.api_integration_errors.alarm_name,
      aws_cloudwatch_metric_alarm.api_execution_errors.alarm_name,
      aws_cloudwatch_metric_alarm.api_integration_latency.alarm_name,
    ],
    [for a in aws_cloudwatch_metric_alarm.table_throttles : a.alarm_name],
    [
      aws_cloudwatch_metric_alarm.fanout_failures.alarm_name,
      aws_cloudwatch_metric_alarm.history_write_failures.alarm_name,
    ],
    [for a in aws_cloudwatch_metric_alarm.dead_letters : a.alarm_name],
  )
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "dashboard_url" {
  description = "Console URL of the dashboard."
  value       = "https://${local.region}.console.aws.amazon.com/cloudwatch/home?region=${local.region}#dashboards/dashboard/${aws_cloudwatch_dashboard.this.dashboard_name}"
}
