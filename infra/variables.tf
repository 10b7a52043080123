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
  description = "Deployment zip from roomchat_tools/infra/build_lambda.py (make build). Relative paths are relative to the directory terraform runs in."
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

variable "lambda_limits" {
  description = "Memory (memory_size, MB) and timeout (seconds) per function key, overriding the defaults of infra/functions.tf (e.g. { send_all = { memory_size = 3008 } }); infra/README.md explains the defaults."
  type = map(object({
    memory_size = optional(number)
    timeout     = optional(number)
  }))
  default = {}

  validation {
    condition     = alltrue([for key in keys(var.lambda_limits) : contains(["connect", "disconnect", "join", "leave", "send_all", "history", "members", "ping", "default", "create_room", "invite", "uninvite", "promote", "demote", "delete", "edit", "typing", "mark_read", "kick", "disconnect_user", "thread", "threads", "follow", "react", "mentions", "pin", "authorize", "fanout", "resume", "register_device", "unregister_device", "notify_level", "notify"], key)])
    error_message = "lambda_limits keys must be one of: connect, disconnect, join, leave, send_all, history, members, ping, default, create_room, invite, uninvite, promote, demote, delete, edit, typing, mark_read, kick, disconnect_user, thread, threads, follow, react, mentions, pin, authorize, fanout, resume, register_device, unregister_device, notify_level, notify."
  }

  validation {
    condition = alltrue([
      for limit in values(var.lambda_limits) : limit.memory_size == null || try(
        limit.memory_size >= 128 && limit.memory_size <= 10240 && floor(limit.memory_size) == limit.memory_size, false
      )
    ])
    error_message = "lambda_limits memory_size must be a whole number of MB from 128 to 10240 (Lambda's range)."
  }

  # Lambda allows up to 900 s, but every function but fanout answers API Gateway, which stops
  # waiting for an integration after 29 s (the $connect handshake, two-way replies, the
  # authorizer), so a longer timeout would only let work go on after the client was told it
  # failed. fanout is invoked by its queue's event source mapping, not by API Gateway.
  validation {
    condition = alltrue([
      for key, limit in var.lambda_limits : limit.timeout == null || try(
        limit.timeout >= 1 && limit.timeout <= (key == "fanout" ? 900 : 29) && floor(limit.timeout) == limit.timeout, false
      )
    ])
    error_message = "lambda_limits timeout must be a whole number of seconds from 1 to 29 (API Gateway's integration timeout), or to 900 for fanout (invoked by its queue)."
  }
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrent executions by function key (e.g. { send_all = 50, fanout = 8 }); a function not named reserves none and shares the account's unreserved pool. The fanout reservation may not be below fanout_max_concurrency (or the queue's consumer is throttled into the dead-letter queue), and the total must leave 100 of lambda_concurrency_quota unreserved (Lambda refuses the apply otherwise). docs/capacity.md says what each needs."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.lambda_reserved_concurrency : v >= 0 && floor(v) == v])
    error_message = "lambda_reserved_concurrency values must be whole numbers, 0 or more (0 stops the function)."
  }

  validation {
    condition     = alltrue([for k in keys(var.lambda_reserved_concurrency) : contains(["connect", "disconnect", "join", "leave", "send_all", "history", "resume", "members", "create_room", "invite", "uninvite", "promote", "demote", "ping", "delete", "edit", "typing", "mark_read", "kick", "disconnect_user", "thread", "threads", "follow", "react", "mentions", "pin", "default", "fanout", "authorize", "review_hook"], k)])
    error_message = "lambda_reserved_concurrency keys must be function keys of infra/functions.tf (connect, send_all, fanout, authorize, ...)."
  }

  validation {
    condition     = lookup(var.lambda_reserved_concurrency, "fanout", var.fanout_max_concurrency) >= var.fanout_max_concurrency
    error_message = "lambda_reserved_concurrency.fanout must be at least fanout_max_concurrency: the event source mapping runs that many instances, and a smaller reservation throttles chunks into the dead-letter queue."
  }

  validation {
    condition     = sum(concat([0], values(var.lambda_reserved_concurrency))) <= var.lambda_concurrency_quota - 100
    error_message = "lambda_reserved_concurrency must leave at least 100 of lambda_concurrency_quota unreserved (Lambda keeps 100 for functions without a reservation)."
  }
}

variable "lambda_concurrency_quota" {
  description = "The account's Lambda concurrency quota in the Region (1,000 by default; new accounts may have less): reservations must leave 100 of it unreserved."
  type        = number
  default     = 1000

  validation {
    condition     = var.lambda_concurrency_quota >= 10 && floor(var.lambda_concurrency_quota) == var.lambda_concurrency_quota
    error_message = "lambda_concurrency_quota must be a whole number, 10 or more."
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
  description = "Deletion protection on the rooms (membership) table; the history table has its own, history_deletion_protection."
  type        = bool
  default     = false
}

variable "history_deletion_protection" {
  description = "Deletion protection on the history table (on by default). `make destroy` keeps history without touching it; set false only for throwaway stacks or to delete history on purpose (make destroy CONFIRM_DELETE_HISTORY=yes does that for you)."
  type        = bool
  default     = true
}

variable "history_point_in_time_recovery" {
  description = "Point-in-time recovery (35 days of continuous backups) on the history table."
  type        = bool
  default     = true
}

variable "rooms_point_in_time_recovery" {
  description = "Point-in-time recovery on the rooms table; off by default because memberships live at most a few hours."
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
  description = "RECENT_ON_JOIN: at most this many newest messages in the joined frame (fewer when they would pass the 96 KiB reply budget; joined.next pages on)."
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

variable "fanout_poster" {
  description = "FANOUT_POSTER: how posts to members are sent: signed (SigV4-signed requests on kept-alive connections, about a third of the CPU per post) or botocore (the apigatewaymanagementapi client)."
  type        = string
  default     = "signed"

  validation {
    condition     = contains(["signed", "botocore"], var.fanout_poster)
    error_message = "fanout_poster must be one of: signed, botocore."
  }
}

# ---- the fan-out tier (docs/design.md, "Big rooms"; infra/README.md, "The fan-out tier")

variable "fanout_tier_threshold" {
  description = "FANOUT_TIER_THRESHOLD: rooms with more members than this are fanned out through the queue by the fanout function instead of inline by send_all; 0 = never (always inline). The default is from the bench (bench/results/latest.md, tier phase)."
  type        = number
  default     = 2000

  validation {
    condition     = var.fanout_tier_threshold >= 0 && var.fanout_tier_threshold <= 10000000 && floor(var.fanout_tier_threshold) == var.fanout_tier_threshold
    error_message = "fanout_tier_threshold must be a whole number from 0 (never) to 10000000."
  }
}

variable "fanout_chunk_size" {
  description = "FANOUT_CHUNK_SIZE: recipients per queue message, i.e. per worker chunk (~20 bytes each in the message beside a frame of up to 32 KB; SQS messages are at most 256 KiB)."
  type        = number
  default     = 1000

  validation {
    condition     = var.fanout_chunk_size >= 1 && var.fanout_chunk_size <= 5000 && floor(var.fanout_chunk_size) == var.fanout_chunk_size
    error_message = "fanout_chunk_size must be a whole number from 1 to 5000."
  }
}

variable "fanout_batch_size" {
  description = "Queue messages (chunks) per fanout invocation (the event source mapping's batch size). 1 spreads a big room over the most instances; larger batches save invocations."
  type        = number
  default     = 1

  validation {
    condition     = var.fanout_batch_size >= 1 && var.fanout_batch_size <= 10 && floor(var.fanout_batch_size) == var.fanout_batch_size
    error_message = "fanout_batch_size must be a whole number from 1 to 10."
  }
}

variable "fanout_max_concurrency" {
  description = "Most fanout instances the event source mapping runs at once (scaling_config.maximum_concurrency, 2-1000). Posts/s = this x one instance's posts/s, which must stay within the share of the account's @connections quota (10,000 requests/s by default) the tier may use: infra/README.md explains the default."
  type        = number
  default     = 8

  validation {
    condition     = var.fanout_max_concurrency >= 2 && var.fanout_max_concurrency <= 1000 && floor(var.fanout_max_concurrency) == var.fanout_max_concurrency
    error_message = "fanout_max_concurrency must be a whole number from 2 to 1000 (Lambda's range for SQS maximum concurrency)."
  }
}

variable "fanout_max_receive_count" {
  description = "Receives of one queue message before SQS moves it to the dead-letter queue (the redrive policy's maxReceiveCount)."
  type        = number
  default     = 5

  validation {
    condition     = var.fanout_max_receive_count >= 1 && var.fanout_max_receive_count <= 1000 && floor(var.fanout_max_receive_count) == var.fanout_max_receive_count
    error_message = "fanout_max_receive_count must be a whole number from 1 to 1000."
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
  description = "RATE_LIMIT_PER_SECOND: sendAll, join and leave requests one connection may make per second, counted together (0 = no limit)."
  type        = number
  default     = 10

  validation {
    condition     = var.rate_limit_per_second >= 0 && floor(var.rate_limit_per_second) == var.rate_limit_per_second
    error_message = "rate_limit_per_second must be a whole number, 0 (no limit) or more."
  }
}

variable "auth_mode" {
  description = "Who may connect: none (anyone; per-connection names), jwt (HS256/ES256 tokens from your own backend, keys in auth_secret_parameter_name or auth_secret) or oidc (RS256 tokens of an OpenID Connect issuer: cognito_user_pool, or auth_issuer + auth_audience + auth_jwks_url). With jwt/oidc the function <name_prefix>-authorize checks ?token= on $connect."
  type        = string
  default     = "none"

  validation {
    condition     = contains(["none", "jwt", "oidc"], var.auth_mode)
    error_message = "auth_mode must be one of: none, jwt, oidc."
  }

  validation {
    condition     = var.auth_mode != "jwt" || ((var.auth_secret_parameter_name == null) != (var.auth_secret == null))
    error_message = "With auth_mode = \"jwt\", set exactly one of auth_secret_parameter_name (preferred) or auth_secret."
  }

  validation {
    condition     = var.auth_mode != "oidc" || var.cognito_user_pool || (var.auth_issuer != null && var.auth_audience != null && var.auth_jwks_url != null)
    error_message = "With auth_mode = \"oidc\", set cognito_user_pool = true, or auth_issuer, auth_audience and auth_jwks_url."
  }

  validation {
    condition     = !var.cognito_user_pool || var.auth_mode == "oidc"
    error_message = "cognito_user_pool = true needs auth_mode = \"oidc\"."
  }
}

variable "granted_room_prefix" {
  description = "GRANTED_ROOM_PREFIX: room ids starting with this are the operator's, granted by tokens' `rooms` claims: nobody may createRoom them, and without a record they are private to the users whose token grants them. Grant rooms under it so nobody can own them before their people arrive. \"\" turns the namespace off (a claim then grants only rooms created with createRoom)."
  type        = string
  default     = "org:"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.:-]{0,32}$", var.granted_room_prefix))
    error_message = "granted_room_prefix must be \"\" or up to 32 room-id characters (letters, digits, '_', '.', ':', '-'), e.g. org:."
  }
}

variable "auth_issuer" {
  description = "AUTH_ISSUER: the `iss` every token must carry. null: roomchat-dev in jwt mode (what `roomchat token` issues), the user pool's issuer with cognito_user_pool."
  type        = string
  default     = null

  validation {
    condition     = var.auth_issuer == null || try(length(var.auth_issuer) > 0 && length(var.auth_issuer) <= 256, false)
    error_message = "auth_issuer must be null or 1-256 characters."
  }
}

variable "auth_audience" {
  description = "AUTH_AUDIENCE: the `aud` every token must name (for Cognito: the app client id, or `client_id` of an access token). null: roomchat in jwt mode, the app client's id with cognito_user_pool."
  type        = string
  default     = null

  validation {
    condition     = var.auth_audience == null || try(length(var.auth_audience) > 0 && length(var.auth_audience) <= 256, false)
    error_message = "auth_audience must be null or 1-256 characters."
  }
}

variable "auth_jwks_url" {
  description = "AUTH_JWKS_URL (oidc): the issuer's JSON Web Key Set. null with cognito_user_pool: <cognito_base_url>/<pool id>/.well-known/jwks.json."
  type        = string
  default     = null

  validation {
    # Keys fetched in clear could be anyone's: https only (http only to a loopback host, the local stack).
    condition     = var.auth_jwks_url == null || can(regex("^(https://[^/\\s]+|http://(127\\.0\\.0\\.1|localhost|\\[::1\\])(:[0-9]+)?)(/\\S*)?$", var.auth_jwks_url))
    error_message = "auth_jwks_url must be null or an https:// URL (http:// only to 127.0.0.1, localhost or [::1])."
  }
}

variable "auth_max_lifetime_seconds" {
  description = "AUTH_MAX_LIFETIME_SECONDS: the longest a token may be valid (exp - iat); longer ones are refused even when signed."
  type        = number
  default     = 86400

  validation {
    condition     = var.auth_max_lifetime_seconds >= 60 && var.auth_max_lifetime_seconds <= 2592000
    error_message = "auth_max_lifetime_seconds must be between 60 and 2592000 (30 days)."
  }
}

variable "authorizer_zip_path" {
  description = "The authorizer's own zip (`roomchat build --authorizer`: the package with PyJWT and cryptography for x86_64). Relative paths are relative to the directory terraform runs in."
  type        = string
  default     = "../build/authorizer.zip"

  validation {
    condition     = endswith(var.authorizer_zip_path, ".zip")
    error_message = "authorizer_zip_path must name a .zip file (build/authorizer.zip)."
  }
}

variable "cognito_user_pool" {
  description = "Create a Cognito user pool and an app client (USER_PASSWORD_AUTH, no client secret) whose ID tokens the authorizer accepts. Needs auth_mode = \"oidc\"."
  type        = bool
  default     = false
}

variable "cognito_self_sign_up" {
  description = "Let anyone create an account in the user pool with the public app client (Cognito SignUp). false (the default): only an administrator creates users (AdminCreateUser). Needs cognito_user_pool = true."
  type        = bool
  default     = false

  validation {
    condition     = !var.cognito_self_sign_up || var.cognito_user_pool
    error_message = "cognito_self_sign_up = true needs cognito_user_pool = true (allowed values: false, or true with a user pool)."
  }
}

variable "cognito_base_url" {
  description = "Where the user pool's JWKS is served: null is the public endpoint https://cognito-idp.<region>.amazonaws.com; the local stack sets the emulator's URL. Tokens' `iss` stays the public form either way."
  type        = string
  default     = null

  validation {
    # The authorizer fetches the pool's keys from here: https only (http only to a loopback host, the local stack).
    condition     = var.cognito_base_url == null || can(regex("^(https://[^/\\s]+|http://(127\\.0\\.0\\.1|localhost|\\[::1\\])(:[0-9]+)?)$", var.cognito_base_url))
    error_message = "cognito_base_url must be null or https://<host> without a path (http:// only to 127.0.0.1, localhost or [::1], e.g. http://127.0.0.1:5000)."
  }
}

variable "auth_secret_parameter_name" {
  description = "jwt mode: name of the SSM SecureString holding the verification key(s) (AUTH_SECRET_PARAMETER): one HS256 secret or ES256 public key PEM, or a JSON object {\"<kid>\": \"<key>\", ...} during a rotation; the authorizer may read that one parameter only."
  type        = string
  default     = null

  validation {
    condition     = var.auth_secret_parameter_name == null || can(regex("^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.auth_secret_parameter_name))
    error_message = "auth_secret_parameter_name must be null or an SSM parameter name such as /roomchat/auth-secret."
  }
}

variable "auth_secret_kms_key_arn" {
  description = "jwt mode: the customer managed KMS key that encrypts the auth_secret_parameter_name SecureString, so the authorizer may decrypt it (kms:Decrypt through SSM, for that parameter only); null: the parameter uses the AWS managed key aws/ssm, which needs no grant."
  type        = string
  default     = null

  validation {
    condition     = var.auth_secret_kms_key_arn == null || (var.auth_secret_parameter_name != null && can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.auth_secret_kms_key_arn)))
    error_message = "auth_secret_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), and needs auth_secret_parameter_name."
  }
}

variable "auth_secret" {
  description = "jwt mode: the verification key(s) themselves (AUTH_SECRET, same format as the parameter). They end up in the Terraform state and the function's configuration: use auth_secret_parameter_name outside development."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.auth_secret == null || try(length(var.auth_secret) >= 32, false)
    error_message = "auth_secret must be null or at least 32 characters (an HS256 key of 256 bits, RFC 7518 section 3.2)."
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

variable "route_throttling" {
  description = "Throttling of single routes of the stage (route_settings), by route key: rate_limit requests/s and burst_limit for all clients together (API Gateway has no per-client limit on WebSocket APIs); other routes get throttling_rate_limit/throttling_burst_limit. The defaults come from the capacity model (docs/capacity.md: typing and ping cheap and low, sendAll and $connect sized for a community of 10,000 users online)."
  type = map(object({
    rate_limit  = number
    burst_limit = number
  }))
  default = {
    "$connect" = { rate_limit = 200, burst_limit = 400 }
    sendAll    = { rate_limit = 200, burst_limit = 400 }
    typing     = { rate_limit = 10, burst_limit = 10 }
    join       = { rate_limit = 200, burst_limit = 400 }
    leave      = { rate_limit = 200, burst_limit = 400 }
    ping       = { rate_limit = 100, burst_limit = 200 }
  }

  validation {
    condition     = alltrue([for k, v in var.route_throttling : v.rate_limit > 0 && v.rate_limit <= 10000 && v.burst_limit >= 0 && v.burst_limit <= 5000 && floor(v.burst_limit) == v.burst_limit])
    error_message = "route_throttling: each rate_limit must be above 0 and at most 10000 (requests/s), each burst_limit a whole number from 0 to 5000 (API Gateway's account limits)."
  }

  validation {
    condition     = alltrue([for k in keys(var.route_throttling) : contains(["$connect", "$disconnect", "$default", "join", "leave", "sendAll", "history", "resume", "members", "createRoom", "invite", "uninvite", "promote", "demote", "ping", "delete", "edit", "typing", "markRead", "kick", "disconnectUser", "thread", "threads", "follow", "react", "mentions", "pin"], k)])
    error_message = "route_throttling keys must be route keys of the API ($connect, sendAll, typing, ...): a setting for a route that does not exist fails the stage."
  }
}

variable "stage_logging_level" {
  description = "Execution logging of the API stage (OFF, ERROR or INFO; anything but OFF needs api_logging other than off); message bodies are never logged."
  type        = string
  default     = "OFF"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.stage_logging_level)
    error_message = "stage_logging_level must be one of: OFF, ERROR, INFO."
  }

  validation {
    # Execution logs need the region's CloudWatch role just as access logs do.
    condition     = var.stage_logging_level == "OFF" || var.api_logging != "off"
    error_message = "stage_logging_level other than OFF needs the region's API Gateway CloudWatch role: set api_logging to account_role_exists or manage_account_role."
  }
}

variable "detailed_metrics_enabled" {
  description = "Per-route CloudWatch metrics on the stage."
  type        = bool
  default     = true
}

variable "api_logging" {
  description = "Stage logs and the region's API Gateway CloudWatch role they need: off (default: no access or execution logs, nothing region-wide touched), account_role_exists (access logs to /aws/apigateway/<name_prefix>/<stage>/access with the role already set in this region) or manage_account_role (also create that role and set it for every API in the region; destroy clears the setting)."
  type        = string
  default     = "off"

  validation {
    condition     = contains(["off", "account_role_exists", "manage_account_role"], var.api_logging)
    error_message = "api_logging must be one of: off, account_role_exists, manage_account_role."
  }
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

variable "max_connections_per_user" {
  description = "MAX_CONNECTIONS_PER_USER: how many connections one signed-in user (a token's sub) may hold at once; the next $connect is refused with 429 (docs/limits.md). 0: no cap. Without sign-in there is no user to count."
  type        = number
  default     = 10

  validation {
    condition     = var.max_connections_per_user >= 0 && var.max_connections_per_user <= 10000 && floor(var.max_connections_per_user) == var.max_connections_per_user
    error_message = "max_connections_per_user must be a whole number from 0 (no cap) to 10000."
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
  description = "REVIEW_FALLBACK: what a failed or slow review decides when a hook is configured: deny (the default: the sender is told to try again, nothing is stored unreviewed) or allow (the message is stored and delivered unreviewed, e.g. while the hook is cold after idle)."
  type        = string
  default     = "deny"

  validation {
    condition     = contains(["allow", "deny"], var.review_hook_fallback)
    error_message = "review_hook_fallback must be one of: allow, deny."
  }
}

# ---- operations: monitoring, hosted web client, custom domain (infra/README.md, "Operations")

variable "monitoring_enabled" {
  description = "Alarms, an SNS topic for them and a CloudWatch dashboard (module monitoring)."
  type        = bool
  default     = true
}

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic (AWS sends a confirmation mail first); null subscribes nobody."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be null or an e-mail address (name@example.com)."
  }
}

variable "alarm_thresholds" {
  description = "Alarm thresholds (see infra/modules/monitoring/README.md): any key left out keeps the module's default."
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
    condition     = alltrue([for v in values(var.alarm_thresholds) : v > 0])
    error_message = "Every alarm threshold must be a positive number."
  }
}

variable "hosting_enabled" {
  description = "Serve the web client (web/) from a private S3 bucket behind CloudFront, configured with this stack's wss:// URL (module hosting). roomchat_tools/infra/deploy.py turns it on; the emulator has no CloudFront response headers policies, so it is off by default."
  type        = bool
  default     = false
}

variable "web_dir" {
  description = "Folder of the web client uploaded when hosting_enabled (the repository's web/). Relative paths are relative to the directory terraform runs in; roomchat_tools/infra/deploy.py passes an absolute one."
  type        = string
  default     = "../web"

  validation {
    condition     = length(trimspace(var.web_dir)) > 0
    error_message = "web_dir must name a folder."
  }
}

variable "hosting_price_class" {
  description = "CloudFront price class of the hosted web client: PriceClass_100, PriceClass_200 or PriceClass_All."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.hosting_price_class)
    error_message = "hosting_price_class must be one of: PriceClass_100, PriceClass_200, PriceClass_All."
  }
}

variable "hosting_domain_name" {
  description = "Host name of the hosted web client (module hosting), e.g. www.chat.example.com, served with hosting_certificate_arn and TLS 1.2+; point it at the distribution yourself (CNAME or alias). null: the *.cloudfront.net name, on which CloudFront allows TLSv1."
  type        = string
  default     = null

  validation {
    condition     = var.hosting_domain_name == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.hosting_domain_name))
    error_message = "hosting_domain_name must be null or a lower-case host name such as www.chat.example.com."
  }

  validation {
    condition     = (var.hosting_domain_name == null) == (var.hosting_certificate_arn == null)
    error_message = "Set hosting_domain_name and hosting_certificate_arn together (or neither)."
  }
}

variable "hosting_certificate_arn" {
  description = "ACM certificate (in us-east-1, where CloudFront reads them) for hosting_domain_name; null with it."
  type        = string
  default     = null

  validation {
    condition     = var.hosting_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/[0-9a-f-]+$", var.hosting_certificate_arn))
    error_message = "hosting_certificate_arn must be null or an ACM certificate ARN in us-east-1 (arn:aws:acm:us-east-1:<account>:certificate/<id>)."
  }
}

variable "domain_name" {
  description = "Custom domain for the WebSocket API (module domain), e.g. chat.example.com; null keeps the execute-api URL only."
  type        = string
  default     = null

  validation {
    condition     = var.domain_name == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain_name))
    error_message = "domain_name must be null or a lower-case host name such as chat.example.com."
  }

  # custom_domain_name moves the functions' callback URL to a domain mapped elsewhere; with this
  # module's domain the functions keep the execute-api endpoint, so the two do not mix.
  validation {
    condition     = var.domain_name == null || var.custom_domain_name == null
    error_message = "Set domain_name or custom_domain_name, not both: with domain_name the functions keep posting to the execute-api endpoint."
  }
}

variable "domain_zone_id" {
  description = "Route 53 hosted zone ID of domain_name: when given, the certificate's validation record and the domain's alias records are created there; null means you create them yourself (see the domain outputs)."
  type        = string
  default     = null

  validation {
    condition     = var.domain_zone_id == null || can(regex("^Z[A-Z0-9]{1,31}$", var.domain_zone_id))
    error_message = "domain_zone_id must be null or a Route 53 hosted zone ID (Z followed by capitals and digits)."
  }
}

# ---- attachments (issue 24, infra/attachments.tf)

variable "attachment_max_bytes" {
  description = "ATTACHMENT_MAX_BYTES: the largest file a presigned POST accepts (its policy's content-length-range), 1 byte to 5 GiB (S3's POST limit); 25 MiB by default."
  type        = number
  default     = 26214400

  validation {
    condition     = var.attachment_max_bytes >= 1 && var.attachment_max_bytes <= 5368709120 && floor(var.attachment_max_bytes) == var.attachment_max_bytes
    error_message = "attachment_max_bytes must be a whole number of bytes from 1 to 5368709120 (5 GiB, S3's limit for a POST upload)."
  }
}

variable "attachment_content_types" {
  description = "ATTACHMENT_TYPES: the content types a file may be declared as (exact type/subtype, lower case); the image types among image/png, image/jpeg, image/gif, image/webp are checked against the file's first bytes."
  type        = list(string)
  default     = ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain", "application/zip"]

  validation {
    condition = length(var.attachment_content_types) > 0 && alltrue([
      for t in var.attachment_content_types : can(regex("^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$", t))
    ]) && length(distinct(var.attachment_content_types)) == length(var.attachment_content_types)
    error_message = "attachment_content_types must be a non-empty list of distinct lower-case type/subtype media types (e.g. image/png), without parameters or wildcards."
  }

  validation {
    condition     = length(join(",", var.attachment_content_types)) <= 2048
    error_message = "attachment_content_types must fit in 2048 characters (a Lambda environment variable)."
  }
}

variable "attachment_url_seconds" {
  description = "ATTACHMENT_URL_SECONDS: how long a presigned upload POST or download GET stays valid, 60-900 seconds."
  type        = number
  default     = 300

  validation {
    condition     = var.attachment_url_seconds >= 60 && var.attachment_url_seconds <= 900 && floor(var.attachment_url_seconds) == var.attachment_url_seconds
    error_message = "attachment_url_seconds must be a whole number from 60 to 900."
  }
}

variable "attachment_cors_origins" {
  description = "Extra origins of web pages that upload to and download from the attachments bucket (the hosted page's is added when hosting_enabled); the local stack passes http://127.0.0.1:* and http://localhost:*."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for origin in var.attachment_cors_origins : can(regex("^https?://[^/*]*\\*?[^/*]*$", origin))
    ])
    error_message = "attachment_cors_origins must be http(s)://host[:port] origins without a path, with at most one '*'."
  }
}

variable "attachments_tls_only" {
  description = "The attachments bucket's policy denies every request not made over TLS; the local stack turns it off (its emulator speaks plain HTTP and applies bucket policies)."
  type        = bool
  default     = true
}
# ---- notifications for away members (docs/notifications.md)

variable "notifications_enabled" {
  description = "Notifications for away members: the notify queue and function, the VAPID secret, and send_all queuing each message for them. Needs notify_zip_path (roomchat build --notify)."
  type        = bool
  default     = false
}

variable "notify_zip_path" {
  description = "The notify function's own zip (roomchat build --notify: the package and the Web Push libraries); required when notifications_enabled."
  type        = string
  default     = null

  validation {
    condition     = var.notify_zip_path == null || endswith(coalesce(var.notify_zip_path, "x.zip"), ".zip")
    error_message = "notify_zip_path must be null or the path of a .zip file."
  }
}

variable "notify_window_seconds" {
  description = "NOTIFY_WINDOW_SECONDS: at most one push per user and room in this many seconds; the messages held meanwhile are counted on the next push (0-86400)."
  type        = number
  default     = 60

  validation {
    condition     = var.notify_window_seconds >= 0 && var.notify_window_seconds <= 86400 && floor(var.notify_window_seconds) == var.notify_window_seconds
    error_message = "notify_window_seconds must be a whole number from 0 to 86400."
  }
}

variable "notify_max_concurrency" {
  description = "Most notify instances the event source mapping runs at once (2-1000)."
  type        = number
  default     = 4

  validation {
    condition     = var.notify_max_concurrency >= 2 && var.notify_max_concurrency <= 1000 && floor(var.notify_max_concurrency) == var.notify_max_concurrency
    error_message = "notify_max_concurrency must be a whole number from 2 to 1000."
  }
}

variable "vapid_subject" {
  description = "VAPID_SUBJECT: the contact push services see in every VAPID token (RFC 8292: a mailto: or https: URI)."
  type        = string
  default     = "mailto:ops@example.invalid"

  validation {
    condition     = can(regex("^(mailto:[^@\\s]+@[^@\\s]+|https://[^\\s]+)$", var.vapid_subject))
    error_message = "vapid_subject must be a mailto: address or an https:// URL."
  }
}

variable "push_allow_loopback" {
  description = "PUSH_ALLOW_LOOPBACK: accept http:// Web Push endpoints on a loopback address (the local stack's push service stand-in only; never on AWS)."
  type        = bool
  default     = false
}

variable "sns_platform_application_arns" {
  description = "SNS platform applications for mobile devices, by platform (fcm, apns, apns_sandbox) -> application ARN; {} = Web Push only."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for k, v in var.sns_platform_application_arns : contains(["fcm", "apns", "apns_sandbox"], k) && can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:app/[A-Z_]+/[A-Za-z0-9_.-]+$", v))
    ])
    error_message = "sns_platform_application_arns keys must be fcm, apns or apns_sandbox and values SNS platform application ARNs (arn:aws:sns:<region>:<account>:app/<PLATFORM>/<name>)."
  }
}
