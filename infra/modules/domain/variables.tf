variable "domain_name" {
  description = "Host name clients connect to, e.g. chat.example.com (wss://<domain_name>)."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain_name))
    error_message = "domain_name must be a lower-case host name such as chat.example.com."
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
  description = "ID of the WebSocket API to map."
  type        = string
}

variable "stage_name" {
  description = "Stage of the API the domain maps to (at its root: wss://<domain_name>)."
  type        = string
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
