# Native checks of the root module against a mock AWS provider: nothing is created anywhere.
# tests/infra runs them (`terraform test -var lambda_zip_path=<zip>`) through scripts/tf.py;
# the zip must exist because source_code_hash hashes it.

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
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mocked" }
  }
}

# Distinct table ARNs so the policies can be told apart.
override_resource {
  target = module.tables.aws_dynamodb_table.rooms
  values = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/roomchat-rooms" }
}

override_resource {
  target = module.tables.aws_dynamodb_table.history
  values = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/roomchat-history" }
}

run "every_route_has_its_function" {
  command = apply

  assert {
    condition = output.routes == {
      "$connect"     = "connect"
      "$disconnect"  = "disconnect"
      "$default"     = "default"
      join           = "join"
      leave          = "leave"
      sendAll        = "send_all"
      history        = "history"
      members        = "members"
      ping           = "ping"
      delete         = "delete"
      edit           = "edit"
      typing         = "typing"
      markRead       = "mark_read"
      kick           = "kick"
      disconnectUser = "disconnect_user"
    }
    error_message = "The route table differs from docs/design.md."
  }

  assert {
    condition     = output.function_names["send_all"] == "roomchat-send_all" && length(output.function_names) == 15
    error_message = "Functions must be named <name_prefix>-<function key>, one per route."
  }

  assert {
    condition     = length(module.websocket_api.route_ids) == 15
    error_message = "Expected fifteen routes."
  }
}

run "urls_come_from_api_region_and_stage" {
  command = apply

  assert {
    condition     = output.websocket_url == "wss://abc123.execute-api.us-east-1.amazonaws.com/live"
    error_message = "websocket_url must be wss://<api>.execute-api.<region>.amazonaws.com/<stage>."
  }

  assert {
    condition     = output.callback_url == "https://abc123.execute-api.us-east-1.amazonaws.com/live"
    error_message = "callback_url must be https://<api>.execute-api.<region>.amazonaws.com/<stage>."
  }
}

run "custom_domain_changes_the_callback_url" {
  command = plan

  variables {
    custom_domain_name = "chat.example.com"
  }

  assert {
    condition     = output.callback_url == "https://chat.example.com"
    error_message = "With a custom domain the functions must post to https://<domain>."
  }
}

run "policies_are_least_privilege" {
  command = apply

  assert {
    condition = alltrue(flatten([
      for policy in values(module.functions.policies) : [
        for statement in policy.Statement : [
          for resource in statement.Resource :
          resource != "*" && (!strcontains(resource, "*") || endswith(resource, ":log-stream:*") || endswith(resource, "/POST/@connections/*") || endswith(resource, "/DELETE/@connections/*"))
        ]
      ]
    ]))
    error_message = "A policy has a wildcard resource other than <own log group>:log-stream:*, .../POST/@connections/* or .../DELETE/@connections/*."
  }

  assert {
    condition = alltrue(flatten([
      for policy in values(module.functions.policies) : [
        for statement in policy.Statement : [for action in statement.Action : !strcontains(action, "*")]
      ]
    ]))
    error_message = "A policy has a wildcard action."
  }

  assert {
    condition     = [for statement in module.functions.policies["ping"].Statement : statement.Sid] == ["OwnLogGroup"]
    error_message = "ping may only write its own logs."
  }

  assert {
    condition = toset(flatten([
      for key, policy in module.functions.policies : [
        for statement in policy.Statement : key if statement.Sid == "PostToConnections"
      ]
    ])) == toset(["disconnect", "join", "leave", "send_all", "delete", "edit", "typing", "kick", "disconnect_user"])
    error_message = "Only the fan-out functions may post to @connections."
  }

  assert {
    condition = toset(flatten([
      for key, policy in module.functions.policies : [
        for statement in policy.Statement : key if statement.Sid == "CloseConnections"
      ]
    ])) == toset(["disconnect_user"])
    error_message = "Only disconnect_user may DELETE @connections."
  }

  assert {
    condition = one([
      for statement in module.functions.policies["disconnect_user"].Statement : statement.Resource if statement.Sid == "CloseConnections"
    ]) == ["arn:aws:execute-api:us-east-1:123456789012:abc123/live/DELETE/@connections/*"]
    error_message = "Closing connections must be limited to <execution_arn>/<stage>/DELETE/@connections/*."
  }

  assert {
    condition = length(flatten([
      for policy in values(module.functions.policies) : [
        for statement in policy.Statement : statement if statement.Sid == "InvokeReviewHook"
      ]
    ])) == 0
    error_message = "Without a review hook no function may invoke anything."
  }

  assert {
    condition = one([
      for statement in module.functions.policies["join"].Statement : statement.Resource if statement.Sid == "PostToConnections"
    ]) == ["arn:aws:execute-api:us-east-1:123456789012:abc123/live/POST/@connections/*"]
    error_message = "@connections access must be limited to <execution_arn>/<stage>/POST/@connections/*."
  }
}

run "active_tracing_adds_xray" {
  command = apply

  variables {
    lambda_tracing_mode = "Active"
  }

  assert {
    condition = alltrue([
      for policy in values(module.functions.policies) :
      contains([for statement in policy.Statement : statement.Sid], "XRayTraces")
    ])
    error_message = "Active tracing needs xray:PutTraceSegments in every role."
  }
}

run "a_table_key_is_granted_only_to_table_users" {
  command = apply

  variables {
    tables_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/0000-1111"
  }

  assert {
    condition = toset(flatten([
      for key, policy in module.functions.policies : [
        for statement in policy.Statement : key if statement.Sid == "TableKeyThroughDynamoDB"
      ]
    ])) == toset(["connect", "disconnect", "history", "join", "leave", "members", "send_all", "delete", "edit", "typing", "mark_read", "kick", "disconnect_user"])
    error_message = "Exactly the functions that touch a table need the table key."
  }
}

run "account_cloudwatch_role_is_opt_in" {
  command = apply

  assert {
    condition     = module.websocket_api.account_cloudwatch_role_arn == null
    error_message = "The account-wide API Gateway role must not be created by default."
  }
}

run "account_cloudwatch_role_when_asked" {
  command = apply

  variables {
    create_api_gateway_account_role = true
  }

  assert {
    condition     = module.websocket_api.account_cloudwatch_role_arn != null
    error_message = "create_api_gateway_account_role = true must create the role."
  }
}

run "no_authorizer_by_default" {
  command = apply

  assert {
    condition     = output.authorizer_function_name == null && module.websocket_api.authorizer_id == null
    error_message = "The $connect authorizer is opt-in."
  }

  assert {
    condition     = !contains(keys(output.function_names), "authorize")
    error_message = "No authorize function unless auth_enabled."
  }
}

run "authorizer_reads_only_its_parameter" {
  command = apply

  variables {
    auth_enabled               = true
    auth_secret_parameter_name = "/roomchat/auth-secret"
  }

  assert {
    condition     = output.authorizer_function_name == "roomchat-authorize" && module.websocket_api.authorizer_id != null
    error_message = "auth_enabled must create roomchat-authorize and the $connect authorizer."
  }

  assert {
    condition     = [for statement in module.functions.policies["authorize"].Statement : statement.Sid] == ["OwnLogGroup", "ReadParameters"]
    error_message = "The authorizer may only write its logs and read its parameter."
  }

  assert {
    condition = one([
      for statement in module.functions.policies["authorize"].Statement : statement.Resource if statement.Sid == "ReadParameters"
    ]) == tolist(["arn:aws:ssm:us-east-1:123456789012:parameter/roomchat/auth-secret"])
    error_message = "ssm:GetParameter must name exactly the one parameter."
  }

  assert {
    condition     = length(output.routes) == 15
    error_message = "The authorizer is not a route."
  }
}

run "authorizer_with_an_inline_secret" {
  command = apply

  variables {
    auth_enabled = true
    auth_secret  = "0123456789abcdef0123456789abcdef"
  }

  assert {
    condition     = output.authorizer_function_name == "roomchat-authorize"
    error_message = "auth_secret alone must be enough to enable the authorizer."
  }

  assert {
    condition     = [for statement in module.functions.policies["authorize"].Statement : statement.Sid] == ["OwnLogGroup"]
    error_message = "With an inline secret the authorizer needs no SSM access."
  }
}

run "review_hook_is_invoked_by_send_all_and_edit_only_on_its_arn" {
  command = apply

  variables {
    review_hook_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:my-hook"
  }

  assert {
    condition = {
      for key, policy in module.functions.policies : key => flatten([
        for statement in policy.Statement : statement.Resource if statement.Sid == "InvokeReviewHook"
      ]) if anytrue([for statement in policy.Statement : statement.Sid == "InvokeReviewHook"])
      } == {
      send_all = ["arn:aws:lambda:us-east-1:123456789012:function:my-hook"]
      edit     = ["arn:aws:lambda:us-east-1:123456789012:function:my-hook"]
    }
    error_message = "Only send_all and edit may invoke the hook, and only its exact ARN."
  }

  assert {
    condition     = !contains(keys(output.function_names), "review_hook")
    error_message = "An existing hook is not created again."
  }
}

run "sample_review_hook_is_created_and_named_by_its_arn" {
  command = apply

  variables {
    create_sample_review_hook = true
    review_hook_masked_words  = ["heck"]
  }

  assert {
    condition     = output.function_names["review_hook"] == "roomchat-review_hook"
    error_message = "The sample hook is <name_prefix>-review_hook."
  }

  assert {
    condition = one([
      for statement in module.functions.policies["send_all"].Statement : statement.Resource if statement.Sid == "InvokeReviewHook"
    ]) == tolist(["arn:aws:lambda:us-east-1:123456789012:function:roomchat-review_hook"])
    error_message = "send_all may invoke exactly the sample hook."
  }

  assert {
    condition     = [for statement in module.functions.policies["review_hook"].Statement : statement.Sid] == ["OwnLogGroup"]
    error_message = "The sample hook may only write its own logs."
  }
}
