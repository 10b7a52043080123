output "rooms_table_name" {
  description = "Name of the rooms (membership) table."
  value       = aws_dynamodb_table.rooms.name
}

output "rooms_table_arn" {
  description = "ARN of the rooms table."
  value       = aws_dynamodb_table.rooms.arn
}

output "rooms_by_connection_index_name" {
  description = "Name of the rooms-table GSI keyed by connectionId."
  value       = var.rooms_by_connection_index_name
}

output "rooms_by_connection_index_arn" {
  description = "ARN of the rooms-table GSI keyed by connectionId (for IAM)."
  value       = "${aws_dynamodb_table.rooms.arn}/index/${var.rooms_by_connection_index_name}"
}

output "history_table_name" {
  description = "Name of the history table."
  value       = aws_dynamodb_table.history.name
}

output "history_table_arn" {
  description = "ARN of the history table."
  value       = aws_dynamodb_table.history.arn
}

output "history_deletion_protection" {
  description = "Whether the history table has deletion protection."
  value       = aws_dynamodb_table.history.deletion_protection_enabled
}

output "history_point_in_time_recovery" {
  description = "Whether the history table has point-in-time recovery."
  value       = aws_dynamodb_table.history.point_in_time_recovery[0].enabled
}

output "rooms_point_in_time_recovery" {
  description = "Whether the rooms table has point-in-time recovery."
  value       = aws_dynamodb_table.rooms.point_in_time_recovery[0].enabled
}
