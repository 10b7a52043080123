variable "name_prefix" {
  description = "Prefix of the table names: <name_prefix>-rooms and <name_prefix>-history."
  type        = string
  default     = "roomchat"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,200}$", var.name_prefix))
    error_message = "name_prefix must be 3-200 characters of letters, digits, '_', '.' or '-' (DynamoDB table name rules)."
  }
}

variable "rooms_by_connection_index_name" {
  description = "Name of the rooms-table GSI keyed by connectionId (roomchat reads it from ROOMS_BY_CONNECTION_INDEX)."
  type        = string
  default     = "byConnection"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.rooms_by_connection_index_name))
    error_message = "rooms_by_connection_index_name must be 3-255 characters of letters, digits, '_', '.' or '-'."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key ARN for server-side encryption of both tables; null uses the AWS managed key (aws/dynamodb)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN (arn:aws:kms:...)."
  }
}

variable "deletion_protection_enabled" {
  description = "Deletion protection on the rooms table (membership only, rebuilt by reconnecting; a destroy fails while it is on)."
  type        = bool
  default     = false
}

variable "history_deletion_protection" {
  description = "Deletion protection on the history table (every message): DeleteTable fails while it is on. Turn it off only for throwaway stacks, or to delete history on purpose."
  type        = bool
  default     = true
}

variable "history_point_in_time_recovery" {
  description = "Point-in-time recovery (continuous backups, 35 days) on the history table."
  type        = bool
  default     = true
}

variable "rooms_point_in_time_recovery" {
  description = "Point-in-time recovery on the rooms (membership) table; off by default, since memberships expire within hours and a restore would only bring back gone connections."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
