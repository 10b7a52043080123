# Native checks of the root module against a mock AWS provider: nothing is created anywhere.
# tests/infra runs them (`terraform test -var lambda_zip_path=<zip>`) through roomchat_tools/infra/tf.py;
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
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-east-1:123456789012:roomchat-fanout"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/roomchat-fanout"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mocked" }
  }
  # The monitoring module (on by default) needs real-looking ARNs for its alarm actions.
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:us-east-1:123456789012:key/mocked" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:us-east-1:123456789012:roomchat-alarms" }
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

# The module with its default variables: one plan and apply for every check of it (each run is
# a whole plan and apply, ~3 s); each group of asserts below was a run of its own, named here.
run "the_module_with_its_defaults" {
  command = apply
  # every_route_has_its_function
  assert {
    condition = output.routes == {
      "$connect"       = "connect"
      "$disconnect"    = "disconnect"
      "$default"       = "default"
      join             = "join"
      leave            = "leave"
      sendAll          = "send_all"
      history          = "history"
      members          = "members"
      ping             = "ping"
      createRoom       = "create_room"
      invite           = "invite"
      uninvite         = "uninvite"
      promote          = "promote"
      demote           = "demote"
      delete           = "delete"
      edit             = "edit"
      typing           = "typing"
      markRead         = "mark_read"
      kick             = "kick"
      disconnectUser   = "disconnect_user"
      resume           = "resume"
      thread           = "thread"
      threads          = "threads"
      follow           = "follow"
      react            = "react"
      mentions         = "mentions"
      pin              = "pin"
      prepareUpload    = "prepare_upload"
      attachmentUrl    = "attachment_url"
      registerDevice   = "register_device"
      unregisterDevice = "unregister_device"
      notifyLevel      = "notify_level"
    }
    error_message = "The route table differs from docs/design.md."
  }

  assert {
    condition     = output.function_names["send_all"] == "roomchat-send_all" && length(output.function_names) == 33
    error_message = "Functions must be named <name_prefix>-<function key>, one per route and fanout."
  }

  assert {
    condition     = length(module.websocket_api.route_ids) == 32
    error_message = "Expected twenty-nine routes."
  }

  # urls_come_from_api_region_and_stage
  assert {
    condition     = output.websocket_url == "wss://abc123.execute-api.us-east-1.amazonaws.com/live"
    error_message = "websocket_url must be wss://<api>.execute-api.<region>.amazonaws.com/<stage>."
  }

  assert {
    condition     = output.callback_url == "https://abc123.execute-api.us-east-1.amazonaws.com/live"
    error_message = "callback_url must be https://<api>.execute-api.<region>.amazonaws.com/<stage>."
  }

  # policies_are_least_privilege
  assert {
    condition = alltrue(flatten([
      for policy in values(module.functions.policies) : [
        for statement in policy.Statement : [
          for resource in statement.Resource :
          resource != "*" && (!strcontains(resource, "*") || endswith(resource, ":log-stream:*") || endswith(resource, "/POST/@connections/*") || endswith(resource, "/DELETE/@connections/*") || can(regex("^arn:aws:s3:::[^/*]+/(uploads|thumbs)/\\*$", resource)))
        ]
      ]
    ]))
    error_message = "A policy has a wildcard resource other than <own log group>:log-stream:*, .../POST/@connections/*, .../DELETE/@connections/* or the attachments bucket's uploads/* and thumbs/*."
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
    ])) == toset(["disconnect", "join", "leave", "send_all", "history", "resume", "members", "create_room", "invite", "uninvite", "promote", "demote", "delete", "edit", "typing", "mark_read", "kick", "disconnect_user", "thread", "threads", "follow", "react", "mentions", "pin", "fanout"])
    error_message = "Only the functions that fan out or close a connection over its budgets (docs/limits.md) may post to @connections: not connect, ping, default or the attachments' and notifications' own."
  }

  assert {
    condition = toset(flatten([
      for key, policy in module.functions.policies : [
        for statement in policy.Statement : key if statement.Sid == "CloseConnections"
      ]
    ])) == toset(["join", "leave", "send_all", "history", "resume", "members", "create_room", "invite", "uninvite", "promote", "demote", "delete", "edit", "typing", "mark_read", "kick", "disconnect_user", "thread", "threads", "follow", "react", "mentions", "pin"])
    error_message = "Only disconnect_user and the functions that close a connection over its budgets (docs/limits.md) may DELETE @connections."
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

  # default_touches_no_region_wide_setting
  # A default apply must work in an account and region where nobody set the API Gateway
  # CloudWatch role. The resources themselves are checked in
  # modules/websocket_api/tests/logging.tftest.hcl and, in a real plan, by tests/infra.
  assert {
    condition     = module.websocket_api.account_cloudwatch_role_arn == null && output.access_log_group_name == null
    error_message = "By default: no account-wide role and no access logs (they need that role)."
  }

  # no_authorizer_by_default
  assert {
    condition     = output.authorizer_function_name == null && module.websocket_api.authorizer_id == null
    error_message = "The $connect authorizer is opt-in."
  }

  assert {
    condition     = !contains(keys(output.function_names), "authorize")
    error_message = "No authorize function unless auth_mode is jwt or oidc."
  }

  # each_function_has_its_own_memory_and_timeout
  # send_all fans out a message to the whole room at ~1 ms of CPU per post: one full vCPU
  # (1,769 MB); the other fan-out routes get 1,024 MB; the rest one or two DynamoDB calls.
  assert {
    condition = output.function_limits == {
      connect    = { memory_size = 256, timeout = 10 }
      disconnect = { memory_size = 1024, timeout = 29 }
      join       = { memory_size = 1024, timeout = 29 }
      leave      = { memory_size = 1024, timeout = 29 }
      send_all   = { memory_size = 1769, timeout = 29 }
      history    = { memory_size = 256, timeout = 10 }
      members    = { memory_size = 256, timeout = 10 }
      ping       = { memory_size = 256, timeout = 10 }
      default    = { memory_size = 256, timeout = 10 }
      # issue 12's room commands: one or two DynamoDB calls each
      create_room = { memory_size = 256, timeout = 10 }
      invite      = { memory_size = 256, timeout = 10 }
      uninvite    = { memory_size = 256, timeout = 10 }
      promote     = { memory_size = 256, timeout = 10 }
      demote      = { memory_size = 256, timeout = 10 }
      # issue 13's moderation: those that tell the room fan out like join
      delete          = { memory_size = 1024, timeout = 29 }
      edit            = { memory_size = 1024, timeout = 29 }
      typing          = { memory_size = 1024, timeout = 29 }
      mark_read       = { memory_size = 256, timeout = 10 }
      kick            = { memory_size = 1024, timeout = 29 }
      disconnect_user = { memory_size = 1024, timeout = 29 }
      resume          = { memory_size = 1024, timeout = 29 } # joins like join
      # the conversations: react and pin tell the room; the rest read or write a little
      thread   = { memory_size = 256, timeout = 10 }
      threads  = { memory_size = 256, timeout = 10 }
      follow   = { memory_size = 256, timeout = 10 }
      react    = { memory_size = 1024, timeout = 29 }
      mentions = { memory_size = 256, timeout = 10 }
      pin      = { memory_size = 1024, timeout = 29 }
      # attachments: each reads a record or two and signs a URL
      prepare_upload = { memory_size = 256, timeout = 10 }
      attachment_url = { memory_size = 256, timeout = 10 }
      fanout         = { memory_size = 1769, timeout = 60 }
      # notifications: one or two small writes each
      register_device   = { memory_size = 256, timeout = 10 }
      unregister_device = { memory_size = 256, timeout = 10 }
      notify_level      = { memory_size = 256, timeout = 10 }
    }
    error_message = "The default memory/timeout per function differs from infra/README.md."
  }

  # the_fanout_tier_is_wired
  assert {
    condition     = aws_lambda_event_source_mapping.fanout.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "The mapping must report partial batch failures."
  }
  assert {
    condition     = aws_lambda_event_source_mapping.fanout.scaling_config[0].maximum_concurrency == 8 && aws_lambda_event_source_mapping.fanout.batch_size == 1
    error_message = "The mapping's concurrency or batch size differs from the defaults."
  }
  assert {
    condition     = aws_sqs_queue.fanout.sqs_managed_sse_enabled && aws_sqs_queue.fanout_dead_letters.sqs_managed_sse_enabled
    error_message = "Both queues must be encrypted at rest."
  }
  assert {
    condition     = jsondecode(aws_sqs_queue_redrive_policy.fanout.redrive_policy).maxReceiveCount == 5
    error_message = "The queue must move a chunk to the dead-letter queue after 5 receives."
  }
  assert {
    condition     = aws_sqs_queue.fanout.visibility_timeout_seconds == 6 * 60
    error_message = "The visibility timeout must be six times the fanout function's timeout."
  }
  assert {
    condition     = contains([for s in module.functions.policies["send_all"].Statement : s.Sid], "SendToQueues")
    error_message = "send_all must be allowed to send to the fan-out queue."
  }
  assert {
    condition     = contains([for s in module.functions.policies["fanout"].Statement : s.Sid], "ConsumeQueues") && !contains([for s in module.functions.policies["send_all"].Statement : s.Sid], "ConsumeQueues")
    error_message = "Only fanout may consume the queue."
  }
  assert {
    condition     = module.functions.function_names["fanout"] == "roomchat-fanout" && !contains(values(output.routes), "fanout")
    error_message = "fanout is a function without a route."
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
    ])) == toset(["connect", "create_room", "demote", "disconnect", "history", "invite", "join", "leave", "members", "promote", "send_all", "uninvite", "delete", "edit", "typing", "mark_read", "kick", "disconnect_user", "resume", "thread", "threads", "follow", "react", "mentions", "pin", "prepare_upload", "attachment_url", "fanout", "register_device", "unregister_device", "notify_level"])
    error_message = "Exactly the functions that touch a table need the table key."
  }
}

run "access_logs_with_the_role_the_region_already_has" {
  command = apply

  variables {
    api_logging = "account_role_exists"
  }

  assert {
    condition     = output.access_log_group_name == "/aws/apigateway/roomchat/live/access" && module.websocket_api.account_cloudwatch_role_arn == null
    error_message = "account_role_exists must log to the stage's own group and leave the region-wide setting alone."
  }
}

run "managed_account_role_when_asked" {
  command = apply

  variables {
    api_logging         = "manage_account_role"
    stage_logging_level = "ERROR"
  }

  assert {
    condition     = module.websocket_api.account_cloudwatch_role_arn != null && output.access_log_group_name != null
    error_message = "manage_account_role must create the role and turn on access logs."
  }
}

run "authorizer_reads_only_its_parameter" {
  command = apply

  variables {
    auth_mode                  = "jwt"
    auth_secret_parameter_name = "/roomchat/auth-secret"
    authorizer_zip_path        = var.lambda_zip_path
  }

  assert {
    condition     = output.authorizer_function_name == "roomchat-authorize" && module.websocket_api.authorizer_id != null
    error_message = "auth_mode = jwt must create roomchat-authorize and the $connect authorizer."
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
    condition     = length(output.routes) == 32
    error_message = "The authorizer is not a route."
  }

  assert {
    condition     = module.functions.configurations["authorize"].architecture == "x86_64" && module.functions.configurations["authorize"].handler == "roomchat.authorizer.on_authorize"
    error_message = "The authorizer runs its own handler on x86_64 (its zip carries x86_64 wheels)."
  }

  assert {
    condition     = module.functions.configurations["authorize"].environment["AUTH_ISSUER"] == "roomchat-dev" && module.functions.configurations["authorize"].environment["AUTH_AUDIENCE"] == "roomchat"
    error_message = "jwt mode defaults to the issuer and audience `roomchat token` uses."
  }
}

run "oidc_with_a_cognito_user_pool" {
  command = apply

  variables {
    auth_mode           = "oidc"
    cognito_user_pool   = true
    cognito_base_url    = "http://127.0.0.1:5000"
    authorizer_zip_path = var.lambda_zip_path
  }

  assert {
    condition     = output.cognito_user_pool_id != null && output.cognito_client_id != null
    error_message = "cognito_user_pool must create a pool and an app client."
  }

  assert {
    condition     = startswith(module.functions.configurations["authorize"].environment["AUTH_JWKS_URL"], "http://127.0.0.1:5000/") && endswith(module.functions.configurations["authorize"].environment["AUTH_JWKS_URL"], "/.well-known/jwks.json")
    error_message = "The JWKS URL must follow cognito_base_url."
  }

  assert {
    condition     = startswith(module.functions.configurations["authorize"].environment["AUTH_ISSUER"], "https://cognito-idp.us-east-1.amazonaws.com/")
    error_message = "The issuer stays the pool's public URL."
  }

  assert {
    condition     = [for statement in module.functions.policies["authorize"].Statement : statement.Sid] == ["OwnLogGroup"]
    error_message = "In oidc mode the authorizer reads no parameter."
  }
}

run "authorizer_with_an_inline_secret" {
  command = apply

  variables {
    auth_mode           = "jwt"
    auth_secret         = "0123456789abcdef0123456789abcdef"
    authorizer_zip_path = var.lambda_zip_path
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

run "limits_override_one_function_only" {
  command = apply

  variables {
    lambda_limits = { send_all = { memory_size = 3008 }, ping = { timeout = 3 } }
  }

  assert {
    condition     = output.function_limits.send_all == { memory_size = 3008, timeout = 29 }
    error_message = "An override of memory_size alone must keep the default timeout."
  }

  assert {
    condition     = output.function_limits.ping == { memory_size = 256, timeout = 3 } && output.function_limits.join == { memory_size = 1024, timeout = 29 }
    error_message = "Overrides must change only the functions and attributes they name."
  }
}
