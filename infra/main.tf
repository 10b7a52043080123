locals {
  tags = merge({ Project = "roomchat", ManagedBy = "terraform" }, var.tags)
}

module "tables" {
  source = "./modules/tables"

  name_prefix                 = var.name_prefix
  kms_key_arn                 = var.tables_kms_key_arn
  deletion_protection_enabled = var.table_deletion_protection
  tags                        = local.tags
}

module "websocket_api" {
  source = "./modules/websocket_api"

  name                           = var.name_prefix
  stage_name                     = var.stage_name
  throttling_rate_limit          = var.throttling_rate_limit
  throttling_burst_limit         = var.throttling_burst_limit
  detailed_metrics_enabled       = var.detailed_metrics_enabled
  logging_level                  = var.stage_logging_level
  log_retention_days             = var.log_retention_days
  log_kms_key_arn                = var.logs_kms_key_arn
  create_account_cloudwatch_role = var.create_api_gateway_account_role
  callback_domain_name           = var.custom_domain_name
  tags                           = local.tags

  routes = {
    for key, fn in local.functions : fn.route_key => {
      function_name = module.functions.function_names[key]
      invoke_arn    = module.functions.invoke_arns[key]
      two_way       = fn.two_way
    }
  }

  connect_authorizer = var.auth_enabled ? {
    function_name    = module.functions.function_names["authorize"]
    invoke_arn       = module.functions.invoke_arns["authorize"]
    identity_sources = local.authorizer.identity_sources
  } : null
}

module "functions" {
  source = "./modules/functions"

  name_prefix            = var.name_prefix
  zip_path               = var.lambda_zip_path
  runtime                = var.lambda_runtime
  architecture           = var.lambda_architecture
  memory_size            = var.lambda_memory_size
  timeout                = var.lambda_timeout
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
    HISTORY_RETENTION_DAYS    = tostring(var.history_retention_days)
    RECENT_ON_JOIN            = tostring(var.recent_on_join)
    MAX_MESSAGE_BYTES         = tostring(var.max_message_bytes)
    RATE_LIMIT_PER_SECOND     = tostring(var.rate_limit_per_second)
    LOG_LEVEL                 = var.log_level
    EDIT_WINDOW_SECONDS       = tostring(var.edit_window_seconds)
  }, local.review_hook_environment)

  functions = merge(
    {
      for key, fn in local.functions : key => {
        handler                = fn.handler
        description            = "roomchat ${fn.route_key} route"
        manage_connections     = fn.manage_connections
        disconnect_connections = try(fn.disconnect_connections, false)
        invoke_function_arns   = try(fn.review, false) && local.review_hook_arn != null ? [local.review_hook_arn] : []
        dynamodb_statements = [
          for statement in [
            { sid = "RoomsTable", actions = fn.rooms, resources = [module.tables.rooms_table_arn] },
            { sid = "RoomsByConnectionIndex", actions = fn.rooms_by_connection, resources = [module.tables.rooms_by_connection_index_arn] },
            { sid = "HistoryTable", actions = fn.history, resources = [module.tables.history_table_arn] },
          ] : statement if length(statement.actions) > 0
        ]
      }
    },
    var.auth_enabled ? {
      authorize = {
        handler        = local.authorizer.handler
        description    = "roomchat $connect token authorizer"
        environment    = local.authorizer.environment
        parameter_arns = compact([local.auth_secret_parameter_arn])
      }
    } : {},
    local.sample_review_hook,
  )
}
