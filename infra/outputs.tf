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
  description = "Function name by function key (connect, disconnect, join, leave, send_all, history, members, ping, default, and authorize when auth_mode is not none)."
  value       = module.functions.function_names
}

output "function_arns" {
  description = "Function ARN by function key."
  value       = module.functions.function_arns
}

output "role_names" {
  description = "Execution role name by function key."
  value       = module.functions.role_names
}

output "access_log_group_name" {
  description = "CloudWatch log group of the API's access logs."
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
