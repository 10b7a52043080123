variable "name_prefix" {
  description = "Prefix of every resource name (functions are <name_prefix>-<function>, tables <name_prefix>-rooms/-history)."
  type        = string
  default     = "roomchat"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-40 characters: lower-case letters, digits and '-', starting with a letter and not ending with '-'."
  }
}

variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1 or eu-west-2."
  }
}

variable "stage_name" {
  description = "WebSocket API stage; the last part of the URL."
  type        = string
  default     = "live"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.stage_name))
    error_message = "stage_name must be 1-128 characters of letters, digits, '_' or '-'."
  }
}

variable "lambda_zip_path" {
  description = "Deployment zip from scripts/build_lambda.py (make build). Relative paths are relative to the directory terraform runs in."
  type        = string
  default     = "../build/functions.zip"

  validation {
    condition     = endswith(var.lambda_zip_path, ".zip")
    error_message = "lambda_zip_path must name a .zip file (build/functions.zip from make build)."
  }
}

variable "lambda_runtime" {
  description = "Python runtime of the functions."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.12", "python3.13"], var.lambda_runtime)
    error_message = "lambda_runtime must be one of: python3.12, python3.13."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of the functions; arm64 costs less and the code is pure Python."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be one of: arm64, x86_64."
  }
}

variable "lambda_memory_size" {
  description = "Memory of each function in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.lambda_memory_size >= 128 && var.lambda_memory_size <= 10240
    error_message = "lambda_memory_size must be between 128 and 10240 (MB)."
  }
}

variable "lambda_timeout" {
  description = "Timeout of each function in seconds (API Gateway stops waiting after 29)."
  type        = number
  default     = 15

  validation {
    condition     = var.lambda_timeout >= 1 && var.lambda_timeout <= 29
    error_message = "lambda_timeout must be between 1 and 29 (seconds)."
  }
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrency of each function; -1 reserves none. New accounts may have only 10 concurrent executions in all, so reserve only where the quota allows."
  type        = number
  default     = -1

  validation {
    condition     = var.lambda_reserved_concurrency >= -1
    error_message = "lambda_reserved_concurrency must be -1 (unreserved) or 0 and above."
  }
}

variable "lambda_tracing_mode" {
  description = "X-Ray tracing of the functions: PassThrough (off) or Active (adds xray:PutTraceSegments/PutTelemetryRecords on '*', the only resource X-Ray accepts)."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.lambda_tracing_mode)
    error_message = "lambda_tracing_mode must be one of: PassThrough, Active."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of the functions."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be one of: DEBUG, INFO, WARNING, ERROR."
  }
}

variable "log_retention_days" {
  description = "Retention of every log group (functions and API access logs), in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "logs_kms_key_arn" {
  description = "KMS key ARN for every log group (its key policy must allow CloudWatch Logs); null uses CloudWatch's own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.logs_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:...)."
  }
}

variable "tables_kms_key_arn" {
  description = "Customer-managed KMS key ARN for the tables; null uses the AWS managed key aws/dynamodb."
  type        = string
  default     = null

  validation {
    condition     = var.tables_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.tables_kms_key_arn))
    error_message = "tables_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:...)."
  }
}

variable "table_deletion_protection" {
  description = "Deletion protection on both tables: turn on for production (destroy then fails until turned off)."
  type        = bool
  default     = false
}

variable "history_retention_days" {
  description = "HISTORY_RETENTION_DAYS: 0 keeps history for ever, N expires messages N days after they are sent."
  type        = number
  default     = 0

  validation {
    condition     = var.history_retention_days >= 0 && floor(var.history_retention_days) == var.history_retention_days
    error_message = "history_retention_days must be a whole number, 0 (keep for ever) or more."
  }
}

variable "recent_on_join" {
  description = "RECENT_ON_JOIN: messages sent back in the joined frame."
  type        = number
  default     = 20

  validation {
    condition     = var.recent_on_join >= 0 && var.recent_on_join <= 100
    error_message = "recent_on_join must be between 0 and 100."
  }
}

variable "fanout_workers" {
  description = "FANOUT_WORKERS: threads posting to room members concurrently."
  type        = number
  default     = 32

  validation {
    condition     = var.fanout_workers >= 1 && var.fanout_workers <= 256
    error_message = "fanout_workers must be between 1 and 256."
  }
}

variable "max_message_bytes" {
  description = "MAX_MESSAGE_BYTES: UTF-8 size limit of one message (API Gateway frames are at most 32 KB)."
  type        = number
  default     = 32768

  validation {
    condition     = var.max_message_bytes >= 1 && var.max_message_bytes <= 32768
    error_message = "max_message_bytes must be between 1 and 32768."
  }
}

variable "rate_limit_per_second" {
  description = "RATE_LIMIT_PER_SECOND: messages one connection may send per second (0 = no limit)."
  type        = number
  default     = 10

  validation {
    condition     = var.rate_limit_per_second >= 0 && floor(var.rate_limit_per_second) == var.rate_limit_per_second
    error_message = "rate_limit_per_second must be a whole number, 0 (no limit) or more."
  }
}

variable "auth_enabled" {
  description = "Put the token authorizer (function <name_prefix>-authorize) on $connect: clients must connect with ?token=<signed token>. Needs auth_secret_parameter_name or auth_secret."
  type        = bool
  default     = false

  validation {
    condition     = !var.auth_enabled || ((var.auth_secret_parameter_name == null) != (var.auth_secret == null))
    error_message = "With auth_enabled = true, set exactly one of auth_secret_parameter_name (preferred) or auth_secret."
  }
}

variable "auth_secret_parameter_name" {
  description = "Name of the SSM SecureString holding the token HMAC key (AUTH_SECRET_PARAMETER); the authorizer may read that one parameter only."
  type        = string
  default     = null

  validation {
    condition     = var.auth_secret_parameter_name == null || can(regex("^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.auth_secret_parameter_name))
    error_message = "auth_secret_parameter_name must be null or an SSM parameter name such as /roomchat/auth-secret."
  }
}

variable "auth_secret" {
  description = "The token HMAC key itself (AUTH_SECRET). It ends up in the Terraform state and the function's configuration: use auth_secret_parameter_name outside development."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.auth_secret == null || try(length(var.auth_secret) >= 16, false)
    error_message = "auth_secret must be null or at least 16 characters."
  }
}

variable "throttling_rate_limit" {
  description = "Requests per second allowed on each route of the stage."
  type        = number
  default     = 100

  validation {
    condition     = var.throttling_rate_limit > 0 && var.throttling_rate_limit <= 10000
    error_message = "throttling_rate_limit must be above 0 and at most 10000 (requests per second)."
  }
}

variable "throttling_burst_limit" {
  description = "Burst of requests allowed on each route of the stage."
  type        = number
  default     = 200

  validation {
    condition     = var.throttling_burst_limit >= 0 && var.throttling_burst_limit <= 5000
    error_message = "throttling_burst_limit must be between 0 and 5000 (requests)."
  }
}

variable "stage_logging_level" {
  description = "Execution logging of the API stage; message bodies are never logged."
  type        = string
  default     = "OFF"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.stage_logging_level)
    error_message = "stage_logging_level must be one of: OFF, ERROR, INFO."
  }
}

variable "detailed_metrics_enabled" {
  description = "Per-route CloudWatch metrics on the stage."
  type        = bool
  default     = true
}

variable "create_api_gateway_account_role" {
  description = "Create and set the account-wide (per region) CloudWatch role API Gateway needs for stage logs. Opt-in: only for an account/region that has none yet, since it replaces the existing setting for every API there."
  type        = bool
  default     = false
}

variable "custom_domain_name" {
  description = "Custom domain (with optional base path) mapped to the stage elsewhere; when set, the functions post to https://<custom_domain_name>/@connections."
  type        = string
  default     = null

  validation {
    condition     = var.custom_domain_name == null || can(regex("^[a-z0-9.-]+\\.[a-z]{2,}(/[A-Za-z0-9_./-]+)?$", var.custom_domain_name))
    error_message = "custom_domain_name must be null or a lower-case host name, optionally with a base path (chat.example.com or chat.example.com/ws)."
  }
}

variable "tags" {
  description = "Tags added to every resource (Project and ManagedBy are always set)."
  type        = map(string)
  default     = {}
}

variable "edit_window_seconds" {
  description = "EDIT_WINDOW_SECONDS: how long after sending its author may edit a message (0 turns editing off)."
  type        = number
  default     = 900

  validation {
    condition     = var.edit_window_seconds >= 0 && var.edit_window_seconds <= 604800 && floor(var.edit_window_seconds) == var.edit_window_seconds
    error_message = "edit_window_seconds must be a whole number from 0 (no edits) to 604800 (7 days)."
  }
}

variable "review_hook_function_arn" {
  description = "ARN of an existing Lambda function reviewing each message before it is stored (sendAll, edit); null: no review unless create_sample_review_hook. Its contract: README, \"Message review hook\"."
  type        = string
  default     = null

  validation {
    condition     = var.review_hook_function_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$", var.review_hook_function_arn))
    error_message = "review_hook_function_arn must be null or a Lambda function ARN: arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]."
  }
}

variable "create_sample_review_hook" {
  description = "Create the included word-list review hook (<name_prefix>-review_hook, handler roomchat.review_hook.handler) and review messages with it. Not together with review_hook_function_arn."
  type        = bool
  default     = false

  validation {
    condition     = !(var.create_sample_review_hook && var.review_hook_function_arn != null)
    error_message = "Set either create_sample_review_hook = true or review_hook_function_arn, not both."
  }
}

variable "review_hook_masked_words" {
  description = "Sample review hook: words masked with '*' (whole words, case-insensitive)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for w in var.review_hook_masked_words : can(regex("^[^,]{1,64}$", w))])
    error_message = "review_hook_masked_words must be words of 1-64 characters without commas."
  }
}

variable "review_hook_denied_words" {
  description = "Sample review hook: words that make it deny the message (the sender is told which)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for w in var.review_hook_denied_words : can(regex("^[^,]{1,64}$", w))])
    error_message = "review_hook_denied_words must be words of 1-64 characters without commas."
  }
}

variable "review_hook_timeout_ms" {
  description = "REVIEW_TIMEOUT_MS: how long a message waits for the review hook before review_hook_fallback decides."
  type        = number
  default     = 200

  validation {
    condition     = var.review_hook_timeout_ms >= 10 && var.review_hook_timeout_ms <= 10000 && floor(var.review_hook_timeout_ms) == var.review_hook_timeout_ms
    error_message = "review_hook_timeout_ms must be a whole number from 10 to 10000."
  }
}

variable "review_hook_fallback" {
  description = "REVIEW_FALLBACK: what a failed or slow review decides: allow or deny."
  type        = string
  default     = "allow"

  validation {
    condition     = contains(["allow", "deny"], var.review_hook_fallback)
    error_message = "review_hook_fallback must be one of: allow, deny."
  }
}
