# The stage's logs and the region-wide API Gateway account setting they need, per `logging`
# mode, against a mock provider (nothing is created anywhere). tests/infra runs this file and
# also checks a real plan of the root module.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      id            = "abc123"
      api_endpoint  = "wss://abc123.execute-api.us-east-1.amazonaws.com"
      execution_arn = "arn:aws:execute-api:us-east-1:123456789012:abc123"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:access" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/roomchat-apigateway-cloudwatch" }
  }
}

run "off_by_default_so_a_fresh_account_can_apply" {
  command = apply

  assert {
    condition     = length(aws_api_gateway_account.this) == 0 && length(aws_iam_role.apigateway_cloudwatch) == 0
    error_message = "By default the region-wide API Gateway account settings must not be touched."
  }

  assert {
    condition     = length(aws_apigatewayv2_stage.this.access_log_settings) == 0 && length(aws_cloudwatch_log_group.access) == 0
    error_message = "By default the stage must not ask for access logs (AWS refuses them without the region's role)."
  }

  assert {
    condition     = aws_apigatewayv2_stage.this.default_route_settings[0].logging_level == "OFF"
    error_message = "By default the stage must not ask for execution logs (they need the same role)."
  }

  assert {
    condition     = output.access_log_group_name == null && output.account_cloudwatch_role_arn == null
    error_message = "Outputs must say null when there are no logs and no managed role."
  }

  assert {
    condition     = length(aws_cloudwatch_log_group.execution) == 0 && output.execution_log_group_name == null
    error_message = "Without execution logs there is no execution log group."
  }
}

run "execution_logs_go_to_a_group_with_the_stacks_retention" {
  command = apply

  variables {
    logging            = "account_role_exists"
    logging_level      = "ERROR"
    log_retention_days = 14
  }

  # API Gateway would create API-Gateway-Execution-Logs_<api>/<stage> itself, kept for ever.
  assert {
    condition     = aws_cloudwatch_log_group.execution[0].name == "API-Gateway-Execution-Logs_abc123/live" && aws_cloudwatch_log_group.execution[0].retention_in_days == 14
    error_message = "The execution log group must be the one API Gateway writes to, with the stack's retention: ${aws_cloudwatch_log_group.execution[0].name}"
  }
}

run "account_role_exists_logs_without_touching_the_region" {
  command = apply

  variables {
    logging       = "account_role_exists"
    logging_level = "INFO"
  }

  assert {
    condition     = aws_apigatewayv2_stage.this.access_log_settings[0].destination_arn == "arn:aws:logs:us-east-1:123456789012:log-group:access"
    error_message = "Access logs must go to the stage's own log group."
  }

  assert {
    condition     = jsondecode(aws_apigatewayv2_stage.this.access_log_settings[0].format).connectionId == "$context.connectionId"
    error_message = "Access logs are one JSON object per request."
  }

  assert {
    condition     = length(aws_api_gateway_account.this) == 0 && length(aws_iam_role.apigateway_cloudwatch) == 0
    error_message = "account_role_exists must leave the region-wide setting alone."
  }
}

run "manage_account_role_sets_and_resets_the_region_setting" {
  command = apply

  variables {
    logging = "manage_account_role"
  }

  assert {
    condition     = aws_api_gateway_account.this[0].cloudwatch_role_arn == aws_iam_role.apigateway_cloudwatch[0].arn
    error_message = "The account settings must name the role this module creates."
  }

  assert {
    condition     = aws_api_gateway_account.this[0].reset_on_delete == true
    error_message = "Destroy must clear the region-wide setting instead of leaving it naming the deleted role."
  }

  assert {
    condition     = length(aws_apigatewayv2_stage.this.access_log_settings) == 1 && output.account_cloudwatch_role_arn == aws_iam_role.apigateway_cloudwatch[0].arn
    error_message = "manage_account_role must turn access logs on and output the role."
  }
}

run "logging_mode_must_be_known" {
  command = plan

  variables {
    logging = "on"
  }

  expect_failures = [var.logging]
}

run "execution_logs_need_the_region_role" {
  command = plan

  variables {
    logging_level = "ERROR"
  }

  expect_failures = [var.logging_level]
}
