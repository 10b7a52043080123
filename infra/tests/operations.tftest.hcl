# Monitoring, the hosted web client, the custom domain and the tables' data-safety settings,
# against a mock AWS provider: nothing is created anywhere. CloudFront response headers
# policies, ACM validation and API Gateway domain names are checked only here (the emulator
# lacks them; infra/README.md, "What the emulator checks").
# tests/infra runs this with -var lambda_zip_path=<zip> -var web_dir=<repo>/web.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      id            = "abc123"
      api_endpoint  = "wss://abc123.execute-api.us-east-1.amazonaws.com"
      execution_arn = "arn:aws:execute-api:us-east-1:123456789012:abc123"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:mocked" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-east-1:123456789012:roomchat-fanout"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/roomchat-fanout"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mocked" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:us-east-1:123456789012:key/mocked" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:us-east-1:123456789012:roomchat-alarms" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = {
      arn                         = "arn:aws:s3:::roomchat-web-123456789012"
      bucket_regional_domain_name = "roomchat-web-123456789012.s3.us-east-1.amazonaws.com"
    }
  }
  mock_resource "aws_cloudfront_distribution" {
    defaults = {
      arn         = "arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE"
      domain_name = "d111111abcdef8.cloudfront.net"
    }
  }
  mock_resource "aws_acm_certificate" {
    defaults = {
      arn = "arn:aws:acm:us-east-1:123456789012:certificate/mocked"
      domain_validation_options = [{
        domain_name           = "chat.example.com"
        resource_record_name  = "_x1.chat.example.com."
        resource_record_type  = "CNAME"
        resource_record_value = "_x2.acm-validations.aws."
      }]
    }
  }
  mock_resource "aws_acm_certificate_validation" {
    defaults = { certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/mocked" }
  }
  mock_resource "aws_route53_record" {
    defaults = { fqdn = "_x1.chat.example.com" }
  }
}

override_resource {
  target = module.tables.aws_dynamodb_table.rooms
  values = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/roomchat-rooms" }
}

override_resource {
  target = module.tables.aws_dynamodb_table.history
  values = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/roomchat-history" }
}

# The module with its default variables: one plan and apply for every check of it (each run is
# a whole plan and apply, ~3 s); each group of asserts below was a run of its own, named here.
run "operations_with_the_defaults" {
  command = apply
  # monitoring_is_on_by_default_with_one_alarm_per_signal
  assert {
    # every function x (errors, throttles) + 3 API + 2 tables x (read, write) + fan-out failures
    # + history + the fan-out dead-letter queue
    condition     = length(output.alarm_names) == 2 * length(module.functions.function_names) + 3 + 4 + 2 + 1
    error_message = "Unexpected alarm set: ${jsonencode(output.alarm_names)}"
  }
  assert {
    condition     = contains(output.alarm_names, "roomchat-fanout-failures") && contains(output.alarm_names, "roomchat-send_all-errors")
    error_message = "The fan-out failure or a function error alarm is missing."
  }
  assert {
    condition     = contains(output.alarm_names, "roomchat-dead-letters")
    error_message = "The fan-out dead-letter queue must alarm."
  }
  assert {
    condition     = output.alarm_topic_arn != null && output.metrics_namespace == "roomchat"
    error_message = "The alarm topic or the metrics namespace is missing."
  }
  assert {
    condition     = output.web_url == null && output.custom_domain_url == null
    error_message = "Hosting and the custom domain are opt-in."
  }
  assert {
    condition     = module.tables.history_table_name == "roomchat-history"
    error_message = "History table renamed."
  }

  # the_fanout_dead_letter_queue_gets_an_alarm
  assert {
    condition     = contains(output.alarm_names, "roomchat-dead-letters")
    error_message = "The dead-letter alarm is missing."
  }
}

run "monitoring_can_be_turned_off" {
  command = plan

  variables {
    monitoring_enabled = false
  }

  assert {
    condition     = output.alarm_names == [] && output.alarm_topic_arn == null
    error_message = "monitoring_enabled = false must create no alarm."
  }
}

run "hosting_uploads_the_client_and_its_config" {
  command = apply

  variables {
    hosting_enabled = true
  }

  assert {
    condition     = output.web_url == "https://d111111abcdef8.cloudfront.net/"
    error_message = "web_url is not the distribution's HTTPS URL."
  }
  assert {
    condition     = jsondecode(module.hosting[0].config_json) == { websocketUrl = "wss://abc123.execute-api.us-east-1.amazonaws.com/live" }
    error_message = "config.json does not hold the stack's wss:// URL: ${module.hosting[0].config_json}"
  }
  assert {
    condition = (
      module.hosting[0].files["index.html"] == "text/html; charset=utf-8" &&
      module.hosting[0].files["js/app.js"] == "text/javascript; charset=utf-8" &&
      module.hosting[0].files["style.css"] == "text/css; charset=utf-8" &&
      module.hosting[0].files["config.json"] == "application/json"
    )
    error_message = "Wrong content types: ${jsonencode(module.hosting[0].files)}"
  }
  assert {
    condition     = length([for k in keys(module.hosting[0].files) : k if startswith(k, "tests/") || k == "README.md"]) == 0
    error_message = "Tests or the README were uploaded."
  }
  assert {
    condition     = startswith(module.hosting[0].content_security_policy, "default-src 'self'; script-src 'self'") && strcontains(module.hosting[0].content_security_policy, "object-src 'none'")
    error_message = "The CSP header is not the page's own: ${module.hosting[0].content_security_policy}"
  }
  assert {
    # The stack's own API and nothing else: a link's ?ws= cannot take the token elsewhere.
    condition     = strcontains(module.hosting[0].content_security_policy, "connect-src 'self' wss://abc123.execute-api.us-east-1.amazonaws.com;")
    error_message = "Without a user pool the CSP must allow the stack's API and no sign-in origin: ${module.hosting[0].content_security_policy}"
  }
}

run "hosting_tells_the_page_how_to_sign_in" {
  command = apply

  variables {
    hosting_enabled     = true
    auth_mode           = "oidc"
    cognito_user_pool   = true
    authorizer_zip_path = var.lambda_zip_path
  }

  assert {
    condition = jsondecode(module.hosting[0].config_json).auth == {
      authMode        = "oidc"
      cognitoClientId = output.cognito_client_id
      cognitoEndpoint = "https://cognito-idp.us-east-1.amazonaws.com/"
    }
    error_message = "config.json must say how to sign in: ${module.hosting[0].config_json}"
  }
  assert {
    # The page's sign-in origins narrowed to the one regional Cognito endpoint.
    condition     = strcontains(module.hosting[0].content_security_policy, "connect-src 'self' wss://abc123.execute-api.us-east-1.amazonaws.com https://cognito-idp.us-east-1.amazonaws.com;")
    error_message = "The CSP must allow exactly the stack's API and Cognito endpoint: ${module.hosting[0].content_security_policy}"
  }
}

run "custom_domain_serves_the_api_and_keeps_the_callback_url" {
  command = apply

  variables {
    hosting_enabled = true
    domain_name     = "chat.example.com"
    domain_zone_id  = "Z0123456789ABCDEFGHIJ"
  }

  assert {
    condition     = output.custom_domain_url == "wss://chat.example.com"
    error_message = "custom_domain_url is not wss://<domain_name>."
  }
  assert {
    condition     = jsondecode(module.hosting[0].config_json).websocketUrl == "wss://chat.example.com"
    error_message = "The hosted page must connect through the custom domain."
  }
  assert {
    # @connections is served on the execute-api endpoint (AWS docs), whatever the domain.
    condition     = output.callback_url == "https://abc123.execute-api.us-east-1.amazonaws.com/live"
    error_message = "The functions' callback URL changed with the custom domain: ${output.callback_url}"
  }
}

run "history_is_protected_and_backed_up_rooms_are_not" {
  command = plan

  assert {
    condition     = module.tables.history_deletion_protection == true && module.tables.history_point_in_time_recovery == true
    error_message = "History must have deletion protection and PITR by default."
  }
  assert {
    condition     = module.tables.rooms_point_in_time_recovery == false
    error_message = "Rooms must not pay for PITR by default."
  }
}
