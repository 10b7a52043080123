variable "name_prefix" {
  description = "Prefix of every resource name (alarms are <name_prefix>-<what>, the topic and dashboard <name_prefix>-alarms / <name_prefix>)."
  type        = string
  default     = "roomchat"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,200}$", var.name_prefix))
    error_message = "name_prefix must be 1-200 letters, digits, '_' or '-' (alarm, topic and dashboard name rules)."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the functions' embedded-format metrics (their METRICS_NAMESPACE)."
  type        = string
  default     = "roomchat"

  validation {
    condition     = can(regex("^[A-Za-z0-9_./#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 characters of letters, digits, '.', '-', '_', '/', '#' or ':' and must not start with AWS/."
  }
}

variable "function_names" {
  description = "Lambda function name by function key (the functions module's function_names output); each gets an errors and a throttles alarm."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.function_names : can(regex("^[A-Za-z0-9_-]{1,64}$", v))])
    error_message = "function_names values must be Lambda function names (1-64 letters, digits, '-' or '_')."
  }
}

variable "api_id" {
  description = "ID of the WebSocket API (dimension ApiId of AWS/ApiGateway). Required."
  type        = string
  default     = null

  validation {
    condition     = can(regex("^[a-z0-9]+$", var.api_id))
    error_message = "api_id is required: the ID of the WebSocket API (lower-case letters and digits)."
  }
}

variable "stage_name" {
  description = "Stage of the WebSocket API (dimension Stage of AWS/ApiGateway)."
  type        = string
  default     = "live"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.stage_name))
    error_message = "stage_name must be 1-128 letters, digits, '-' or '_'."
  }
}

variable "table_names" {
  description = "DynamoDB table name by key (rooms, history); each gets read and write throttle alarms."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.table_names : can(regex("^[A-Za-z0-9_.-]{3,255}$", v))])
    error_message = "table_names values must be DynamoDB table names (3-255 letters, digits, '_', '.' or '-')."
  }
}

variable "dead_letter_queue_arn" {
  description = "ARN of an SQS dead-letter queue whose depth should alarm; null adds no alarm."
  type        = string
  default     = null

  validation {
    condition     = var.dead_letter_queue_arn == null || can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+(\\.fifo)?$", var.dead_letter_queue_arn))
    error_message = "dead_letter_queue_arn must be null or an SQS queue ARN (arn:aws:sqs:<region>:<account>:<name>)."
  }
}

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic; null subscribes nobody."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be null or an e-mail address (name@example.com)."
  }
}

variable "thresholds" {
  description = "Alarm thresholds: function_errors and function_throttles (per function, per period), api_integration_errors and api_execution_errors (per period), api_integration_latency_p99 (ms), dynamodb_throttle_events (per table and kind, per period), fanout_failures (failed posts per period), history_write_failures (per period), dead_letter_messages (visible messages)."
  type = object({
    function_errors             = optional(number, 1)
    function_throttles          = optional(number, 1)
    api_integration_errors      = optional(number, 5)
    api_execution_errors        = optional(number, 1)
    api_integration_latency_p99 = optional(number, 3000)
    dynamodb_throttle_events    = optional(number, 1)
    fanout_failures             = optional(number, 10)
    history_write_failures      = optional(number, 1)
    dead_letter_messages        = optional(number, 1)
  })
  default = {}

  validation {
    condition     = alltrue([for v in values(var.thresholds) : v > 0])
    error_message = "Every threshold must be a positive number."
  }
}

variable "period_seconds" {
  description = "Period of every alarm's statistic, in seconds: 60 or a multiple of 60."
  type        = number
  default     = 300

  validation {
    condition     = var.period_seconds >= 60 && var.period_seconds % 60 == 0
    error_message = "period_seconds must be 60 or a multiple of 60."
  }
}

variable "evaluation_periods" {
  description = "How many consecutive periods must breach before an alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.evaluation_periods >= 1 && var.evaluation_periods <= 100 && floor(var.evaluation_periods) == var.evaluation_periods
    error_message = "evaluation_periods must be a whole number from 1 to 100."
  }
}

variable "kms_key_arn" {
  description = "KMS key ARN for the alarm topic; its key policy must let cloudwatch.amazonaws.com use it. null creates a key for the topic (the AWS managed aws/sns key cannot be used: CloudWatch alarms are not allowed to use it)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN (arn:aws:kms:...)."
  }
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
