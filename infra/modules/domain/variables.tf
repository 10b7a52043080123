variable "domain_name" {
  description = "Host name clients connect to, e.g. chat.example.com (wss://<domain_name>)."
  type        = string
  default     = null

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain_name))
    error_message = "domain_name is required: a lower-case host name such as chat.example.com."
  }
}

variable "zone_id" {
  description = "Route 53 hosted zone of domain_name; when given, the DNS validation record and the A/AAAA alias records are created there. null: create them yourself from the outputs."
  type        = string
  default     = null

  validation {
    condition     = var.zone_id == null || can(regex("^Z[A-Z0-9]{1,31}$", var.zone_id))
    error_message = "zone_id must be null or a Route 53 hosted zone ID (Z followed by capitals and digits)."
  }
}

variable "api_id" {
  description = "ID of the WebSocket API to map. Required."
  type        = string
  default     = null

  validation {
    condition     = can(regex("^[a-z0-9]+$", var.api_id))
    error_message = "api_id is required: the ID of the WebSocket API (lower-case letters and digits)."
  }
}

variable "stage_name" {
  description = "Stage of the API the domain maps to (at its root: wss://<domain_name>)."
  type        = string
  default     = "live"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.stage_name))
    error_message = "stage_name must be 1-128 letters, digits, '-' or '_'."
  }
}

variable "ip_address_type" {
  description = "Who may reach the domain: dualstack (IPv4 and IPv6: A and AAAA aliases) or ipv4 (an A alias only; AWS's default, whose regional domain has no IPv6 address)."
  type        = string
  default     = "dualstack"

  validation {
    condition     = contains(["dualstack", "ipv4"], var.ip_address_type)
    error_message = "ip_address_type must be one of: dualstack, ipv4."
  }
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
