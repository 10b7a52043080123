locals {
  tags = merge({ Project = "roomchat", ManagedBy = "terraform" }, var.tags)
  # One namespace per stack for the functions' embedded-format metrics (roomchat/logs.py).
  metrics_namespace = var.name_prefix
}

module "tables" {
  source = "./modules/tables"

  name_prefix                    = var.name_prefix
  kms_key_arn                    = var.tables_kms_key_arn
  deletion_protection_enabled    = var.table_deletion_protection
  history_deletion_protection    = var.history_deletion_protection
  history_point_in_time_recovery = var.history_point_in_time_recovery
  rooms_point_in_time_recovery   = var.rooms_point_in_time_recovery
  tags                           = local.tags
}

module "websocket_api" {
  source = "./modules/websocket_api"

  name                     = var.name_prefix
  stage_name               = var.stage_name
  throttling_rate_limit    = var.throttling_rate_limit
  throttling_burst_limit   = var.throttling_burst_limit
  route_throttling         = var.route_throttling
  detailed_metrics_enabled = var.detailed_metrics_enabled
  logging_level            = var.stage_logging_level
  log_retention_days       = var.log_retention_days
  log_kms_key_arn          = var.logs_kms_key_arn
  logging                  = var.api_logging
  callback_domain_name     = var.custom_domain_name
  tags                     = local.tags

  # Names and invoke ARNs known at plan time (local.invoke_arns), so the integrations and routes
  # are created while the functions are (~6 s of the provider's waits); only the permissions
  # wait for the functions they name.
  routes = {
    for key, fn in local.functions : fn.route_key => {
      function_name = local.function_names[key]
      invoke_arn    = local.invoke_arns[key]
      two_way       = fn.two_way
    }
  }
  permission_function_names = merge(
    { for key, fn in local.functions : fn.route_key => module.functions.function_names[key] },
    local.auth_enabled ? { authorizer = module.functions.function_names["authorize"] } : {},
  )

  connect_authorizer = local.auth_enabled ? {
    function_name    = local.function_names["authorize"]
    invoke_arn       = local.invoke_arns["authorize"]
    identity_sources = local.authorizer.identity_sources
  } : null
}

# A function's ARN and the URI API Gateway invokes it by, built from its name (as the functions
# module names it: <name_prefix>-<key>): arn:<partition>:lambda:<region>:<account>:function:<name>
# and arn:<partition>:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-integration-requests.html).
# tests/infra checks that they equal the created functions' arn and invoke_arn.
locals {
  function_names = {
    for key in concat(keys(local.functions), ["authorize"]) : key => "${var.name_prefix}-${key}"
  }
  invoke_arns = {
    for key, name in local.function_names : key => format(
      "arn:%s:apigateway:%s:lambda:path/2015-03-31/functions/arn:%s:lambda:%s:%s:function:%s/invocations",
      data.aws_partition.current.partition,
      var.region,
      data.aws_partition.current.partition,
      var.region,
      data.aws_caller_identity.current.account_id,
      name,
    )
  }
}

module "functions" {
  source = "./modules/functions"

  name_prefix            = var.name_prefix
  zip_path               = var.lambda_zip_path
  runtime                = var.lambda_runtime
  architecture           = var.lambda_architecture
  reserved_concurrency   = var.lambda_reserved_concurrency
  tracing_mode           = var.lambda_tracing_mode
  log_retention_days     = var.log_retention_days
  log_kms_key_arn        = var.logs_kms_key_arn
  dynamodb_kms_key_arn   = var.tables_kms_key_arn
  manage_connections_arn = module.websocket_api.manage_connections_arn
  tags                   = local.tags

  disconnect_connections_arn = module.websocket_api.disconnect_connections_arn

  # docs/design.md, "Environment": read once into roomchat.settings.Settings.
  environment = merge({
    ROOMS_TABLE               = module.tables.rooms_table_name
    HISTORY_TABLE             = module.tables.history_table_name
    ROOMS_BY_CONNECTION_INDEX = module.tables.rooms_by_connection_index_name
    CALLBACK_URL              = module.websocket_api.callback_url
    FANOUT_WORKERS            = tostring(var.fanout_workers)
    FANOUT_POSTER             = var.fanout_poster
    HISTORY_RETENTION_DAYS    = tostring(var.history_retention_days)
    RECENT_ON_JOIN            = tostring(var.recent_on_join)
    MAX_MESSAGE_BYTES         = tostring(var.max_message_bytes)
    RATE_LIMIT_PER_SECOND     = tostring(var.rate_limit_per_second)
    LOG_LEVEL                 = var.log_level
    EDIT_WINDOW_SECONDS       = tostring(var.edit_window_seconds)
    METRICS_NAMESPACE         = local.metrics_namespace
    FANOUT_TIER_THRESHOLD     = tostring(var.fanout_tier_threshold)
    FANOUT_QUEUE_NAME         = local.fanout_queue_name
    FANOUT_CHUNK_SIZE         = tostring(var.fanout_chunk_size)
    GRANTED_ROOM_PREFIX       = var.granted_room_prefix
    MAX_CONNECTIONS_PER_USER  = tostring(var.max_connections_per_user)
  }, local.review_hook_environment, local.attachments_environment, local.notify_environment)

  functions = merge(
    {
      for key, fn in local.functions : key => {
        handler                = fn.handler
        description            = "roomchat ${fn.route_key} route"
        memory_size            = coalesce(try(var.lambda_limits[key].memory_size, null), fn.memory_size)
        timeout                = coalesce(try(var.lambda_limits[key].timeout, null), fn.timeout)
        manage_connections     = fn.manage_connections
        disconnect_connections = try(fn.disconnect_connections, false)
        invoke_function_arns   = try(fn.review, false) && local.review_hook_arn != null ? [local.review_hook_arn] : []
        # send_all hands big rooms to the fan-out queue.
        sqs_send_arns = key == "send_all" ? concat(
          [local.fanout_queue_arn], local.notify_enabled ? [local.notify_queue_arn] : []
        ) : []
        # The attachments bucket: each function's few S3 calls (infra/attachments.tf).
        s3_statements            = lookup(local.attachment_statements, key, [])
        sns_create_endpoint_arns = key == "register_device" ? values(var.sns_platform_application_arns) : []
        dynamodb_statements = [
          for statement in [
            { sid = "RoomsTable", actions = fn.rooms, resources = [module.tables.rooms_table_arn] },
            { sid = "RoomsByConnectionIndex", actions = fn.rooms_by_connection, resources = [module.tables.rooms_by_connection_index_arn] },
            { sid = "HistoryTable", actions = fn.history, resources = [module.tables.history_table_arn] },
          ] : statement if length(statement.actions) > 0
        ]
      }
    },
    {
      fanout = {
        handler            = local.fanout.handler
        description        = "roomchat fan-out worker of big rooms (SQS)"
        memory_size        = coalesce(try(var.lambda_limits.fanout.memory_size, null), local.fanout.memory_size)
        timeout            = local.fanout_timeout
        manage_connections = local.fanout.manage_connections
        # It consumes the queue and puts back the recipients it could not reach.
        sqs_consume_arns = [local.fanout_queue_arn]
        sqs_send_arns    = [local.fanout_queue_arn]
        dynamodb_statements = [
          for statement in [
            { sid = "RoomsTable", actions = local.fanout.rooms, resources = [module.tables.rooms_table_arn] },
            { sid = "RoomsByConnectionIndex", actions = local.fanout.rooms_by_connection, resources = [module.tables.rooms_by_connection_index_arn] },
          ] : statement if length(statement.actions) > 0
        ]
      }
    },
    local.auth_enabled ? {
      authorize = {
        handler        = local.authorizer.handler
        description    = "roomchat $connect token authorizer (${var.auth_mode})"
        memory_size    = coalesce(try(var.lambda_limits.authorize.memory_size, null), local.authorizer.memory_size)
        timeout        = coalesce(try(var.lambda_limits.authorize.timeout, null), local.authorizer.timeout)
        environment    = local.authorizer.environment
        parameter_arns = compact([local.auth_secret_parameter_arn])
        # The key of that SecureString when it is a customer managed one (kms:Decrypt via SSM).
        parameter_kms_key_arn = local.auth_secret_parameter_arn == null ? null : var.auth_secret_kms_key_arn
        # Its own zip with PyJWT and cryptography's x86_64 wheel (roomchat build --authorizer).
        zip_path     = var.authorizer_zip_path
        architecture = "x86_64"
      }
    } : {},
    local.sample_review_hook,
    local.notify_enabled ? {
      notify = {
        handler          = local.notify.handler
        description      = "roomchat notifications for away members (SQS -> Web Push, SNS)"
        memory_size      = coalesce(try(var.lambda_limits.notify.memory_size, null), 512)
        timeout          = local.notify_timeout
        sqs_consume_arns = [local.notify_queue_arn]
        secret_arns      = [aws_secretsmanager_secret.vapid[0].arn]
        sns_publish_arns = local.sns_endpoint_arns
        zip_path         = var.notify_zip_path
        # Its zip carries cryptography's x86_64 wheels (as the authorizer's).
        architecture = "x86_64"
        dynamodb_statements = [
          { sid = "RoomsTable", actions = local.notify.rooms, resources = [module.tables.rooms_table_arn] },
          { sid = "HistoryTable", actions = local.notify.history, resources = [module.tables.history_table_arn] },
        ]
      }
    } : {},
  )
}

# ---- operations (infra/README.md, "Operations")

module "monitoring" {
  source = "./modules/monitoring"
  count  = var.monitoring_enabled ? 1 : 0

  name_prefix           = var.name_prefix
  metrics_namespace     = local.metrics_namespace
  function_names        = module.functions.function_names
  api_id                = module.websocket_api.api_id
  stage_name            = module.websocket_api.stage_name
  table_names           = { rooms = module.tables.rooms_table_name, history = module.tables.history_table_name }
  dead_letter_queue_arn = local.fanout_dead_letters_arn
  alarm_email           = var.alarm_email
  thresholds            = var.alarm_thresholds
  tags                  = local.tags
}

module "hosting" {
  source = "./modules/hosting"
  count  = var.hosting_enabled ? 1 : 0

  name_prefix   = var.name_prefix
  web_dir       = var.web_dir
  websocket_url = var.domain_name != null ? module.domain[0].websocket_url : module.websocket_api.websocket_url
  price_class   = var.hosting_price_class
  # TLS 1.2+ needs a name and certificate of your own (the default certificate allows TLSv1).
  domain_name     = var.hosting_domain_name
  certificate_arn = var.hosting_certificate_arn
  auth = var.auth_mode == "none" ? null : {
    auth_mode         = var.auth_mode
    cognito_client_id = var.cognito_user_pool ? aws_cognito_user_pool_client.this[0].id : null
    cognito_region    = var.region
  }
  tags = local.tags
}

module "domain" {
  source = "./modules/domain"
  count  = var.domain_name != null ? 1 : 0

  domain_name = var.domain_name
  zone_id     = var.domain_zone_id
  api_id      = module.websocket_api.api_id
  stage_name  = module.websocket_api.stage_name
  tags        = local.tags
}
