output "websocket_url" {
  description = "URL clients connect to (wss://<api>.execute-api.<region>.amazonaws.com/<stage>)."
  value       = module.websocket_api.websocket_url
}

output "callback_url" {
  description = "Base URL of the @connections management API (the functions' CALLBACK_URL)."
  value       = module.websocket_api.callback_url
}

output "api_id" {
  description = "ID of the WebSocket API."
  value       = module.websocket_api.api_id
}

output "stage_name" {
  description = "Name of the API stage."
  value       = module.websocket_api.stage_name
}

output "execution_arn" {
  description = "execute-api ARN of the API."
  value       = module.websocket_api.execution_arn
}

output "routes" {
  description = "Function key by route key, e.g. sendAll -> send_all (the route table of docs/design.md)."
  value       = { for key, fn in local.functions : fn.route_key => key }
}

output "authorizer_function_name" {
  description = "Name of the $connect token authorizer function, or null when auth_mode is none."
  value       = local.auth_enabled ? module.functions.function_names["authorize"] : null
}

output "rooms_table_name" {
  description = "Name of the rooms (membership) table."
  value       = module.tables.rooms_table_name
}

output "rooms_table_arn" {
  description = "ARN of the rooms table."
  value       = module.tables.rooms_table_arn
}

output "rooms_by_connection_index_name" {
  description = "Name of the rooms-table GSI on connectionId."
  value       = module.tables.rooms_by_connection_index_name
}

output "history_table_name" {
  description = "Name of the history table."
  value       = module.tables.history_table_name
}

output "history_table_arn" {
  description = "ARN of the history table."
  value       = module.tables.history_table_arn
}

output "function_names" {
  description = "Function name by function key (connect, disconnect, join, leave, send_all, history, members, ping, default, create_room, invite, uninvite, promote, demote, fanout, and authorize when auth_mode is not none)."
  value       = module.functions.function_names
}

output "function_arns" {
  description = "Function ARN by function key."
  value       = module.functions.function_arns
}

output "function_limits" {
  description = "Memory (MB) and timeout (s) by function key, as deployed: {memory_size, timeout}."
  value       = module.functions.limits
}

output "code_bucket_name" {
  description = "S3 bucket the deployment zip ships through (one object; every function is created from it)."
  value       = module.functions.code_bucket_name
}

output "role_names" {
  description = "Execution role name by function key."
  value       = module.functions.role_names
}

output "access_log_group_name" {
  description = "CloudWatch log group of the API's access logs, or null when api_logging is off."
  value       = module.websocket_api.access_log_group_name
}

output "lambda_zip_path" {
  description = "The deployment zip that was deployed."
  value       = var.lambda_zip_path
}

output "lambda_zip_sha256" {
  description = "Base64 SHA-256 of that zip (Lambda's CodeSha256)."
  value       = filebase64sha256(var.lambda_zip_path)
}

output "web_url" {
  description = "HTTPS URL of the hosted web client, or null when hosting_enabled is false."
  value       = var.hosting_enabled ? module.hosting[0].url : null
}

output "web_bucket_name" {
  description = "S3 bucket of the hosted web client, or null when hosting_enabled is false."
  value       = var.hosting_enabled ? module.hosting[0].bucket_name : null
}

output "custom_domain_url" {
  description = "wss:// URL through the custom domain, or null when domain_name is null."
  value       = var.domain_name != null ? module.domain[0].websocket_url : null
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies, or null when monitoring_enabled is false."
  value       = var.monitoring_enabled ? module.monitoring[0].alarm_topic_arn : null
}

output "alarm_names" {
  description = "Every alarm's name (empty when monitoring_enabled is false)."
  value       = var.monitoring_enabled ? module.monitoring[0].alarm_names : []
}

output "dashboard_url" {
  description = "Console URL of the CloudWatch dashboard, or null when monitoring_enabled is false."
  value       = var.monitoring_enabled ? module.monitoring[0].dashboard_url : null
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the functions' own metrics (METRICS_NAMESPACE)."
  value       = local.metrics_namespace
}

output "auth_mode" {
  description = "none, jwt or oidc: what clients must present on $connect."
  value       = var.auth_mode
}

output "cognito_user_pool_id" {
  description = "The Cognito user pool's id, or null without cognito_user_pool."
  value       = var.cognito_user_pool ? aws_cognito_user_pool.this[0].id : null
}

output "cognito_client_id" {
  description = "The app client's id (the ID tokens' aud), or null without cognito_user_pool."
  value       = var.cognito_user_pool ? aws_cognito_user_pool_client.this[0].id : null
}

output "fanout_queue_url" {
  description = "URL of the fan-out tier's queue (the functions get its name, FANOUT_QUEUE_NAME, and look the URL up)."
  value       = aws_sqs_queue.fanout.url
}

output "fanout_queue_arn" {
  description = "ARN of the fan-out tier's queue."
  value       = aws_sqs_queue.fanout.arn
}

output "fanout_dead_letter_queue_arn" {
  description = "ARN of the fan-out tier's dead-letter queue (its depth alarms)."
  value       = aws_sqs_queue.fanout_dead_letters.arn
}

output "fanout_event_source_mapping_id" {
  description = "UUID of the event source mapping from the fan-out queue to the fanout function."
  value       = aws_lambda_event_source_mapping.fanout.uuid
}

output "attachments_bucket_name" {
  description = "Name of the attachments bucket (the functions' ATTACHMENTS_BUCKET)."
  value       = module.attachments.bucket_name
}
