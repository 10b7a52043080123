data "aws_region" "current" {}

locals {
  region = data.aws_region.current.name
  api    = ["ApiId", var.api_id, "Stage", var.stage_name]
  ns     = var.metrics_namespace

  widgets = [
    {
      title   = "Connections and messages (API Gateway)"
      metrics = [["AWS/ApiGateway", "ConnectCount", local.api[0], local.api[1], local.api[2], local.api[3]], ["AWS/ApiGateway", "MessageCount", local.api[0], local.api[1], local.api[2], local.api[3]]]
      stat    = "Sum"
    },
    {
      title   = "Messages sent and fan-out (posts per period)"
      metrics = [[local.ns, "messagesSent"], [local.ns, "members"], [local.ns, "delivered"], [local.ns, "pruned"], [local.ns, "failed"]]
      stat    = "Sum"
    },
    {
      title   = "Send to last post (ms)"
      metrics = [[local.ns, "sendToLastPost", { stat = "p50" }], [local.ns, "sendToLastPost", { stat = "p99" }]]
      stat    = "p50"
    },
    {
      title   = "Refused, rate-limited, history write failures"
      metrics = [[local.ns, "refused"], [local.ns, "rateLimited"], [local.ns, "historyWriteFailures"]]
      stat    = "Sum"
    },
    {
      title   = "API errors (IntegrationError, ExecutionError, ClientError)"
      metrics = [for m in ["IntegrationError", "ExecutionError", "ClientError"] : ["AWS/ApiGateway", m, local.api[0], local.api[1], local.api[2], local.api[3]]]
      stat    = "Sum"
    },
    {
      title   = "Integration latency p99 (ms)"
      metrics = [["AWS/ApiGateway", "IntegrationLatency", local.api[0], local.api[1], local.api[2], local.api[3]]]
      stat    = "p99"
    },
    {
      title   = "Function errors"
      metrics = [for key, fn in var.function_names : ["AWS/Lambda", "Errors", "FunctionName", fn]]
      stat    = "Sum"
    },
    {
      title   = "Function throttles"
      metrics = [for key, fn in var.function_names : ["AWS/Lambda", "Throttles", "FunctionName", fn]]
      stat    = "Sum"
    },
    {
      title   = "Function duration p99 (ms)"
      metrics = [for key, fn in var.function_names : ["AWS/Lambda", "Duration", "FunctionName", fn]]
      stat    = "p99"
    },
    {
      title   = "DynamoDB throttle events"
      metrics = [for key, t in local.table_throttles : ["AWS/DynamoDB", t.metric, "TableName", t.table]]
      stat    = "Sum"
    },
  ]
}

# One dashboard: traffic on the top row, health below. Body format:
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({
    widgets = [
      for i, w in local.widgets : {
        type   = "metric"
        x      = (i % 2) * 12
        y      = floor(i / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = w.title
          region  = local.region
          metrics = w.metrics
          stat    = w.stat
          period  = var.period_seconds
          view    = "timeSeries"
          stacked = false
        }
      }
    ]
  })
}
