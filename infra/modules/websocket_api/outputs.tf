output "api_id" {
  description = "ID of the WebSocket API."
  value       = aws_apigatewayv2_api.this.id
}

output "api_endpoint" {
  description = "Endpoint of the API without the stage (wss://<api>.execute-api.<region>.amazonaws.com)."
  # AWS answers wss:// for a WebSocket API; some emulators answer https://.
  value = replace(aws_apigatewayv2_api.this.api_endpoint, "/^https:/", "wss:")
}

output "execution_arn" {
  description = "execute-api ARN of the API (prefix of permission and IAM resource ARNs)."
  value       = aws_apigatewayv2_api.this.execution_arn
}

output "stage_name" {
  description = "Name of the stage."
  value       = aws_apigatewayv2_stage.this.name
}

output "websocket_url" {
  description = "URL clients connect to: wss://<api>.execute-api.<region>.amazonaws.com/<stage>."
  value       = "${replace(aws_apigatewayv2_api.this.api_endpoint, "/^https:/", "wss:")}/${aws_apigatewayv2_stage.this.name}"
}

output "callback_url" {
  description = "Base of the @connections management API the functions post to (https://<api>.execute-api.<region>.amazonaws.com/<stage>, or https://<callback_domain_name>)."
  # Built from the stage *name*, not the stage resource, so functions can be created in
  # parallel with the stage.
  value = (var.callback_domain_name != null
    ? "https://${var.callback_domain_name}"
    : "https://${aws_apigatewayv2_api.this.id}.execute-api.${data.aws_region.current.name}.amazonaws.com/${var.stage_name}"
  )
}

output "manage_connections_arn" {
  description = "The only execute-api resource the fan-out functions may call: <execution_arn>/<stage>/POST/@connections/*."
  value       = "${aws_apigatewayv2_api.this.execution_arn}/${var.stage_name}/POST/@connections/*"
}

output "disconnect_connections_arn" {
  description = "The only execute-api resource the functions that close connections may call: <execution_arn>/<stage>/DELETE/@connections/*."
  value       = "${aws_apigatewayv2_api.this.execution_arn}/${var.stage_name}/DELETE/@connections/*"
}

output "execution_log_group_name" {
  description = "CloudWatch log group of the stage's execution logs (created with the stack's retention), or null when logging_level is OFF."
  value       = var.logging_level != "OFF" ? aws_cloudwatch_log_group.execution[0].name : null
}

output "access_log_group_name" {
  description = "CloudWatch log group of the stage's access logs, or null when logging is off."
  value       = local.logs_enabled ? aws_cloudwatch_log_group.access[0].name : null
}

output "route_ids" {
  description = "Route ID by route key."
  value       = { for key, route in aws_apigatewayv2_route.this : key => route.id }
}

output "account_cloudwatch_role_arn" {
  description = "ARN of the region-wide API Gateway CloudWatch role, when this module manages it (logging = manage_account_role); null otherwise."
  value       = local.manage_account_role ? aws_iam_role.apigateway_cloudwatch[0].arn : null
}

output "authorizer_id" {
  description = "ID of the $connect authorizer, or null when there is none."
  value       = var.connect_authorizer != null ? aws_apigatewayv2_authorizer.connect[0].id : null
}
