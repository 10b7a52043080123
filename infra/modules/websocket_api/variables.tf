variable "name" {
  description = "Name of the API (also names its access log group and, when created, the CloudWatch role)."
  type        = string
  default     = "roomchat"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1-64 characters of letters, digits, '_' or '-'."
  }
}

variable "description" {
  description = "Description of the API."
  type        = string
  default     = "roomchat: multi-room chat over WebSocket"
}

variable "stage_name" {
  description = "Name of the stage; it is part of the URL (wss://<api>.execute-api.<region>.amazonaws.com/<stage>)."
  type        = string
  default     = "live"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.stage_name))
    error_message = "stage_name must be 1-128 characters of letters, digits, '_' or '-'."
  }
}

variable "routes" {
  description = <<-EOT
    The routes, keyed by route key ($connect, $disconnect, $default or an action name), each
    {function_name, invoke_arn, two_way}. two_way adds route_response_selection_expression
    "$default" and a $default route response so the integration's body is sent back to the caller
    (not allowed on $connect/$disconnect).
  EOT
  type = map(object({
    function_name = string
    invoke_arn    = string
    two_way       = optional(bool, true)
  }))
  default = {}

  validation {
    condition = alltrue([
      for key, route in var.routes : !(route.two_way && contains(["$connect", "$disconnect"], key))
    ])
    error_message = "two_way must be false for $connect and $disconnect (API Gateway sends them no reply)."
  }
}

variable "connect_authorizer" {
  description = "Optional Lambda REQUEST authorizer on $connect: {function_name, invoke_arn, identity_sources}. null leaves $connect open (its handler still validates the handshake)."
  type = object({
    function_name    = string
    invoke_arn       = string
    identity_sources = optional(list(string), ["route.request.querystring.token"])
  })
  default = null

  validation {
    condition = var.connect_authorizer == null || alltrue([
      for source in try(var.connect_authorizer.identity_sources, []) : can(regex("^route\\.request\\.(header|querystring)\\.[A-Za-z0-9_-]+$|^stageVariables\\.[A-Za-z0-9_]+$|^context\\.[A-Za-z0-9_.]+$", source))
    ])
    error_message = "connect_authorizer.identity_sources must be route.request.header.<name>, route.request.querystring.<name>, stageVariables.<name> or context.<name> expressions."
  }
}

variable "permission_function_names" {
  description = <<-EOT
    Function name by route key (and "authorizer" for connect_authorizer's) for the Lambda
    permissions only, taken from the created functions (the functions module's function_names),
    so each permission waits for its function (AddPermission needs it) while the integrations and
    routes, built from var.routes' names and invoke ARNs known at plan time, need not wait for
    the functions. null: the names in var.routes and var.connect_authorizer.
  EOT
  type        = map(string)
  default     = null
}

variable "throttling_rate_limit" {
  description = "Steady-state requests per second allowed on every route of the stage (API Gateway's account limit is 10000)."
  type        = number
  default     = 100

  validation {
    condition     = var.throttling_rate_limit > 0 && var.throttling_rate_limit <= 10000
    error_message = "throttling_rate_limit must be above 0 and at most 10000 (requests per second)."
  }
}

variable "throttling_burst_limit" {
  description = "Burst of requests allowed on every route of the stage (API Gateway's account limit is 5000)."
  type        = number
  default     = 200

  validation {
    condition     = var.throttling_burst_limit >= 0 && var.throttling_burst_limit <= 5000
    error_message = "throttling_burst_limit must be between 0 and 5000 (requests)."
  }
}

variable "route_throttling" {
  description = "Throttling of single routes (the stage's route_settings), by route key: rate_limit requests/s and burst_limit, for all clients together; routes not named get throttling_rate_limit/throttling_burst_limit. Every key must be a route of `routes`."
  type = map(object({
    rate_limit  = number
    burst_limit = number
  }))
  default = {}

  validation {
    condition     = alltrue([for k, v in var.route_throttling : v.rate_limit > 0 && v.rate_limit <= 10000 && v.burst_limit >= 0 && v.burst_limit <= 5000])
    error_message = "route_throttling: rate_limit must be above 0 and at most 10000, burst_limit between 0 and 5000."
  }
}

variable "detailed_metrics_enabled" {
  description = "Per-route CloudWatch metrics (billed as custom metrics)."
  type        = bool
  default     = true
}

variable "logging_level" {
  description = "Execution logging of the stage (to API-Gateway-Execution-Logs_<api>/<stage>); message bodies are never logged (data trace stays off)."
  type        = string
  default     = "OFF"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.logging_level)
    error_message = "logging_level must be one of: OFF, ERROR, INFO."
  }

  validation {
    # Execution logs need the account's CloudWatch role just as access logs do.
    condition     = var.logging_level == "OFF" || var.logging != "off"
    error_message = "logging_level other than OFF needs the region's CloudWatch role: set logging to account_role_exists or manage_account_role."
  }
}

variable "log_retention_days" {
  description = "Retention of the access and execution log groups, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key ARN encrypting the access and execution log groups (its key policy must allow CloudWatch Logs); null uses CloudWatch's own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:...)."
  }
}

variable "logging" {
  description = <<-EOT
    Whether the stage writes logs, and where the region's API Gateway CloudWatch role comes from
    (API Gateway refuses a stage with logs while the account settings of the region name no role):
    "off" writes none (access or execution; metrics are unaffected) and needs nothing;
    "account_role_exists" writes access logs with the role already set in the region (by hand or
    another stack); "manage_account_role" also creates that role and sets it region-wide for
    every API there, and clears the setting again on destroy.
  EOT
  type        = string
  default     = "off"

  validation {
    condition     = contains(["off", "account_role_exists", "manage_account_role"], var.logging)
    error_message = "logging must be one of: off, account_role_exists, manage_account_role."
  }
}

variable "callback_domain_name" {
  description = "Custom domain that maps to this stage (managed elsewhere); when set, callback_url is https://<domain> instead of the execute-api URL."
  type        = string
  default     = null

  validation {
    condition     = var.callback_domain_name == null || can(regex("^[a-z0-9.-]+\\.[a-z]{2,}(/[A-Za-z0-9_./-]+)?$", var.callback_domain_name))
    error_message = "callback_domain_name must be null or a lower-case host name, optionally with a base path (chat.example.com or chat.example.com/ws)."
  }
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
