variable "name_prefix" {
  description = "Prefix of every function, role and log group name: <name_prefix>-<function key>."
  type        = string
  default     = "roomchat"

  validation {
    # 64 characters is the limit for both Lambda function and IAM role names; the longest key
    # ("disconnect_user") plus the dash needs 16 of them.
    condition     = can(regex("^[A-Za-z0-9_-]{1,48}$", var.name_prefix))
    error_message = "name_prefix must be 1-48 characters of letters, digits, '_' or '-'."
  }
}

variable "functions" {
  description = <<-EOT
    The functions to create, keyed by name suffix (e.g. "join" -> <name_prefix>-join).
    handler: Python handler path; description: free text;
    dynamodb_statements: what the function may call, each {sid, actions, resources} with exact
    table/index ARNs; manage_connections: whether it may POST to @connections;
    parameter_arns: SSM parameters it may read (ssm:GetParameter);
    parameter_kms_key_arn: the customer managed KMS key of those SecureStrings (kms:Decrypt
    through SSM, for those parameters only); null: the AWS managed key aws/ssm, which needs no grant;
    disconnect_connections: whether it may DELETE @connections (close a connection);
    invoke_function_arns: Lambda functions it may invoke (the message review hook);
    sqs_send_arns: queues it may send to (sqs:SendMessage, which SendMessageBatch needs, and
    sqs:GetQueueUrl: it knows the queue by name);
    sqs_consume_arns: queues its event source mapping reads (sqs:ReceiveMessage,
    DeleteMessage, GetQueueAttributes, which the mapping uses with the function's role);
    s3_statements: what it may call on object ARNs, each {sid, actions, resources}
    (the attachments bucket's uploads/* and thumbs/*);
    secret_arns: Secrets Manager secrets it may read (secretsmanager:GetSecretValue);
    sns_create_endpoint_arns: SNS platform applications it may register devices with
    (sns:CreatePlatformEndpoint); sns_publish_arns: SNS targets it may publish to (sns:Publish);
    environment: its own environment instead of the shared one (null = the shared one);
    memory_size (MB, 128-10240) and timeout (s, 1-900): its own instead of var.memory_size and
    var.timeout (null = those).
    zip_path / architecture: its own package and instruction set (null = the shared ones; the
    authorizer's zip carries x86_64 wheels).
  EOT
  type = map(object({
    handler     = string
    description = optional(string, "")
    dynamodb_statements = optional(list(object({
      sid       = string
      actions   = list(string)
      resources = list(string)
    })), [])
    manage_connections       = optional(bool, false)
    disconnect_connections   = optional(bool, false)
    parameter_arns           = optional(list(string), [])
    parameter_kms_key_arn    = optional(string)
    invoke_function_arns     = optional(list(string), [])
    sqs_send_arns            = optional(list(string), [])
    sqs_consume_arns         = optional(list(string), [])
    secret_arns              = optional(list(string), [])
    sns_create_endpoint_arns = optional(list(string), [])
    sns_publish_arns         = optional(list(string), [])
    s3_statements = optional(list(object({
      sid       = string
      actions   = list(string)
      resources = list(string)
    })), [])
    environment  = optional(map(string))
    memory_size  = optional(number)
    timeout      = optional(number)
    zip_path     = optional(string)
    architecture = optional(string)
  }))
  default = {}

  validation {
    condition = alltrue(flatten([
      for fn in values(var.functions) : [
        for statement in fn.s3_statements : concat(
          [for action in statement.actions : can(regex("^s3:[A-Z][A-Za-z]+$", action))],
          [for resource in statement.resources : can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+/[a-z]+/\\*$", resource))],
        )
      ]
    ]))
    error_message = "s3_statements actions must be single s3:<Action> names and resources object ARNs under one prefix (arn:aws:s3:::<bucket>/<prefix>/*)."
  }

  validation {
    condition = alltrue(flatten([
      for fn in values(var.functions) : [
        for statement in fn.dynamodb_statements : [
          for action in statement.actions : can(regex("^dynamodb:[A-Z][A-Za-z]+$", action))
        ]
      ]
    ]))
    error_message = "dynamodb_statements actions must be single dynamodb:<Action> names (no wildcards)."
  }

  validation {
    condition = alltrue(flatten([
      for fn in values(var.functions) : [
        for statement in fn.dynamodb_statements : [
          for resource in statement.resources : can(regex("^arn:aws[a-z-]*:dynamodb:[^*]+$", resource))
        ]
      ]
    ]))
    error_message = "dynamodb_statements resources must be DynamoDB table or index ARNs without '*'."
  }

  validation {
    condition = alltrue(flatten([
      for fn in values(var.functions) : [
        for arn in fn.parameter_arns : can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/[^*]+$", arn))
      ]
    ]))
    error_message = "parameter_arns must be SSM parameter ARNs (arn:aws:ssm:<region>:<account>:parameter/<name>) without '*'."
  }

  validation {
    condition = alltrue([
      for fn in values(var.functions) : fn.parameter_kms_key_arn == null || (
        length(fn.parameter_arns) > 0 && can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", fn.parameter_kms_key_arn))
      )
    ])
    error_message = "parameter_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), set only with parameter_arns."
  }

  validation {
    condition = alltrue(flatten([
      for fn in values(var.functions) : [
        for arn in fn.invoke_function_arns : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$", arn))
      ]
    ]))
    error_message = "invoke_function_arns must be Lambda function ARNs (arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]) without '*'."
  }

  validation {
    condition = alltrue(flatten([
      for fn in values(var.functions) : [
        for arn in concat(fn.sqs_send_arns, fn.sqs_consume_arns) : can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+(\\.fifo)?$", arn))
      ]
    ]))
    error_message = "sqs_send_arns and sqs_consume_arns must be SQS queue ARNs (arn:aws:sqs:<region>:<account>:<name>) without '*'."
  }

  validation {
    condition = alltrue(flatten([
      for fn in values(var.functions) : [
        for arn in fn.secret_arns : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", arn))
      ]
    ]))
    error_message = "secret_arns must be Secrets Manager secret ARNs (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>) without '*'."
  }

  validation {
    condition = alltrue(flatten([
      for fn in values(var.functions) : [
        for arn in concat(fn.sns_create_endpoint_arns, fn.sns_publish_arns) : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:(app|endpoint)/[A-Z_]+/[A-Za-z0-9_.-]+(/\\*)?$", arn))
      ]
    ]))
    error_message = "sns_create_endpoint_arns and sns_publish_arns must be SNS platform application ARNs or their endpoints (arn:aws:sns:<region>:<account>:app|endpoint/<PLATFORM>/<name>[/*])."
  }

  validation {
    condition = alltrue([
      for fn in values(var.functions) : fn.memory_size == null || (
        try(fn.memory_size >= 128 && fn.memory_size <= 10240 && floor(fn.memory_size) == fn.memory_size, false)
      )
    ])
    error_message = "A function's memory_size must be a whole number of MB from 128 to 10240 (or null for var.memory_size)."
  }

  validation {
    condition = alltrue([
      for fn in values(var.functions) : fn.timeout == null || (
        try(fn.timeout >= 1 && fn.timeout <= 900 && floor(fn.timeout) == fn.timeout, false)
      )
    ])
    error_message = "A function's timeout must be a whole number of seconds from 1 to 900 (or null for var.timeout)."
  }

  validation {
    condition = alltrue([
      for fn in values(var.functions) : (fn.zip_path == null || endswith(coalesce(fn.zip_path, "x.zip"), ".zip")) && contains(["arm64", "x86_64"], coalesce(fn.architecture, "arm64"))
    ])
    error_message = "A function's zip_path must name a .zip file and its architecture be arm64 or x86_64."
  }
}

variable "environment" {
  description = "Environment variables for every function that has no environment of its own (docs/design.md lists what roomchat reads)."
  type        = map(string)
  default     = {}
}

variable "zip_path" {
  description = "Path of the deployment zip built by roomchat_tools/infra/build_lambda.py (one zip for every function)."
  type        = string
  default     = "../build/functions.zip"

  validation {
    condition     = endswith(var.zip_path, ".zip")
    error_message = "zip_path must name a .zip file."
  }
}

variable "runtime" {
  description = "Lambda runtime."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.12", "python3.13"], var.runtime)
    error_message = "runtime must be one of: python3.12, python3.13."
  }
}

variable "architecture" {
  description = "Instruction set of the functions (the code is pure Python, so both work)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be one of: arm64, x86_64."
  }
}

variable "memory_size" {
  description = "Memory in MB of each function without a memory_size of its own (CPU grows with it)."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 (MB)."
  }
}

variable "timeout" {
  description = "Timeout in seconds of each function without a timeout of its own; API Gateway gives up on an integration after 29 s."
  type        = number
  default     = 15

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be between 1 and 900 (seconds)."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions by function key; a function not named reserves none (the account pool is shared)."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.reserved_concurrency : v >= 0 && floor(v) == v])
    error_message = "reserved_concurrency values must be whole numbers, 0 or more."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing: PassThrough (off unless the caller samples) or Active (adds xray:Put* on '*', which X-Ray requires)."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "tracing_mode must be one of: PassThrough, Active."
  }
}

variable "log_retention_days" {
  description = "Retention of each function's CloudWatch log group, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key ARN encrypting the log groups (its key policy must allow CloudWatch Logs); null uses CloudWatch's own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:...)."
  }
}

variable "dynamodb_kms_key_arn" {
  description = "The customer-managed KMS key of the tables, if any: functions that touch a table get kms:Decrypt/Encrypt/GenerateDataKey on it through DynamoDB only."
  type        = string
  default     = null

  validation {
    condition     = var.dynamodb_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.dynamodb_kms_key_arn))
    error_message = "dynamodb_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:...)."
  }
}

variable "manage_connections_arn" {
  description = "execute-api ARN the fan-out functions may POST to: <execution_arn>/<stage>/POST/@connections/*. Required when any function has manage_connections."
  type        = string
  default     = null

  validation {
    condition     = var.manage_connections_arn == null || can(regex("^arn:aws[a-z-]*:execute-api:[^*]+/POST/@connections/\\*$", var.manage_connections_arn))
    error_message = "manage_connections_arn must be null or arn:aws:execute-api:<region>:<account>:<api id>/<stage>/POST/@connections/*."
  }
}

variable "disconnect_connections_arn" {
  description = "execute-api ARN the functions that close connections may DELETE: <execution_arn>/<stage>/DELETE/@connections/*. Required when any function has disconnect_connections."
  type        = string
  default     = null

  validation {
    condition     = var.disconnect_connections_arn == null || can(regex("^arn:aws[a-z-]*:execute-api:[^*]+/DELETE/@connections/\\*$", var.disconnect_connections_arn))
    error_message = "disconnect_connections_arn must be null or arn:aws:execute-api:<region>:<account>:<api id>/<stage>/DELETE/@connections/*."
  }
}

variable "code_kms_key_arn" {
  description = "KMS key ARN encrypting the code bucket (SSE-KMS); null uses the AWS managed key aws/s3."
  type        = string
  default     = null

  validation {
    condition     = var.code_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.code_kms_key_arn))
    error_message = "code_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:...)."
  }
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
