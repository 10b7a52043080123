variable "name_prefix" {
  description = "Prefix of the bucket name: <name_prefix>-attachments-<account id>."
  type        = string
  default     = "roomchat"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-40 characters: lower-case letters, digits and '-', starting with a letter and not ending with '-'."
  }
}

variable "cors_origins" {
  description = "Origins of the web pages that upload and download (e.g. https://chat.example.com, http://127.0.0.1:* for the local stack); used when cors_enabled."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for origin in var.cors_origins : can(regex("^https?://[^/*]*\\*?[^/*]*$", origin))
    ])
    error_message = "cors_origins must be http(s)://host[:port] origins without a path, with at most one '*'."
  }
}

variable "cors_enabled" {
  description = "Whether to configure CORS for cors_origins (known at plan time even when an origin is not, e.g. a new distribution's name)."
  type        = bool
  default     = false

  validation {
    condition     = !var.cors_enabled || length(var.cors_origins) > 0
    error_message = "cors_enabled needs at least one origin in cors_origins."
  }
}

variable "unattached_expiration_days" {
  description = "Days after which an upload never attached to a message (tag attached=no) is deleted (1-365)."
  type        = number
  default     = 1

  validation {
    condition     = var.unattached_expiration_days >= 1 && var.unattached_expiration_days <= 365 && floor(var.unattached_expiration_days) == var.unattached_expiration_days
    error_message = "unattached_expiration_days must be a whole number of days from 1 to 365."
  }
}

variable "retention_days" {
  description = "Days after which attached files and thumbnails are deleted, as history retention deletes their messages; 0 keeps them."
  type        = number
  default     = 0

  validation {
    condition     = var.retention_days >= 0 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be 0 (keep) or a whole number of days."
  }
}

variable "force_destroy" {
  description = "Let a destroy delete the bucket with its files (make destroy CONFIRM_DELETE_HISTORY=yes turns it on); false keeps files safe from a stray destroy."
  type        = bool
  default     = false
}

variable "tls_only" {
  description = "Deny every request not made over TLS (aws:SecureTransport) with the bucket policy; false only for the local stack's plain-HTTP emulator."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
