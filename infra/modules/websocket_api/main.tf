data "aws_region" "current" {}

resource "aws_apigatewayv2_api" "this" {
  name                       = var.name
  description                = var.description
  protocol_type              = "WEBSOCKET"
  route_selection_expression = "$request.body.action"

  tags = var.tags
}

resource "aws_apigatewayv2_stage" "this" {
  api_id = aws_apigatewayv2_api.this.id
  name   = var.stage_name
  # Every change to routes or integrations is deployed by API Gateway itself, so there is no
  # aws_apigatewayv2_deployment whose triggers could miss a change.
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit    = var.throttling_rate_limit
    throttling_burst_limit   = var.throttling_burst_limit
    detailed_metrics_enabled = var.detailed_metrics_enabled
    logging_level            = var.logging_level
    # Data trace would log every chat message; never on.
    data_trace_enabled = false
  }

  # One token bucket per route for every client of the stage (docs/capacity.md sizes them).
  dynamic "route_settings" {
    for_each = var.route_throttling
    content {
      route_key                = route_settings.key
      throttling_rate_limit    = route_settings.value.rate_limit
      throttling_burst_limit   = route_settings.value.burst_limit
      detailed_metrics_enabled = var.detailed_metrics_enabled
      logging_level            = var.logging_level
      data_trace_enabled       = false
    }
  }

  # Only with a CloudWatch role in the region's account settings (var.logging): without one,
  # AWS refuses the stage and the first apply in a fresh account would stop halfway.
  dynamic "access_log_settings" {
    for_each = local.logs_enabled ? [aws_cloudwatch_log_group.access[0].arn] : []
    content {
      destination_arn = access_log_settings.value
      # One JSON object per request; the variables are the ones API Gateway documents for
      # WebSocket APIs.
      format = jsonencode({
        requestId          = "$context.requestId"
        connectionId       = "$context.connectionId"
        eventType          = "$context.eventType"
        routeKey           = "$context.routeKey"
        status             = "$context.status"
        requestTime        = "$context.requestTime"
        sourceIp           = "$context.identity.sourceIp"
        error              = "$context.error.message"
        integrationError   = "$context.integrationErrorMessage"
        integrationLatency = "$context.integrationLatency"
      })
    }
  }

  tags = var.tags

  # With logging on, API Gateway checks the account's CloudWatch role when the stage is created;
  # its execution log group exists before the stage can write to it. route_settings name routes,
  # which must exist first (API Gateway refuses settings for an unknown route key).
  depends_on = [
    aws_api_gateway_account.this,
    aws_cloudwatch_log_group.execution,
    aws_apigatewayv2_route.this,
  ]
}

# API Gateway writes execution logs to a group it names itself,
# API-Gateway-Execution-Logs_{api-id}/{stage}, and creates it on first write with no retention
# (kept for ever) and no key: made here first, it keeps the stack's retention and key, and goes
# with the stack. https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html
resource "aws_cloudwatch_log_group" "execution" {
  count = var.logging_level != "OFF" ? 1 : 0

  name              = "API-Gateway-Execution-Logs_${aws_apigatewayv2_api.this.id}/${var.stage_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "access" {
  count = local.logs_enabled ? 1 : 0

  name              = "/aws/apigateway/${var.name}/${var.stage_name}/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}
