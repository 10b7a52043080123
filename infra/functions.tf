# The tables "Lambda code" and "What each function calls (least privilege)" of docs/design.md,
# as data: one entry per routed function (the key is the function name suffix). Keep the two in
# step; tests/infra compares the deployed routes and roles with the markdown itself.
# memory_size (MB) and timeout (s) are the defaults that var.lambda_limits overrides; infra/README.md
# ("Memory and timeout per function") explains each choice.
locals {
  functions = {
    connect = {
      route_key           = "$connect"
      handler             = "roomchat.handlers.on_connect"
      two_way             = false                                                         # the status code accepts or rejects the handshake
      rooms               = ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem"] # Query, DeleteItem: a user's connections, capped
      rooms_by_connection = []
      history             = []
      manage_connections  = false
      memory_size         = 256
      timeout             = 10
    }
    disconnect = {
      route_key           = "$disconnect"
      handler             = "roomchat.handlers.on_disconnect"
      two_way             = false # the connection is gone: nobody to reply to
      rooms               = ["dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      rooms_by_connection = ["dynamodb:Query"]
      history             = []
      manage_connections  = true
      memory_size         = 1024
      timeout             = 29
    }
    join = {
      route_key              = "join"
      handler                = "roomchat.handlers.on_join"
      two_way                = true
      rooms                  = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      rooms_by_connection    = ["dynamodb:Query"]
      history                = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"] # GetItem: ban and read marker; Query: recent and unread count; UpdateItem: rate-limit counters
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      memory_size            = 1024
      timeout                = 29
    }
    leave = {
      route_key              = "leave"
      handler                = "roomchat.handlers.on_leave"
      two_way                = true
      rooms                  = ["dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:UpdateItem"]
      rooms_by_connection    = ["dynamodb:Query"]
      history                = ["dynamodb:UpdateItem"] # rate-limit counters
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      memory_size            = 1024
      timeout                = 29
    }
    send_all = {
      route_key              = "sendAll"
      handler                = "roomchat.handlers.on_send_all"
      two_way                = true # errors, and the message itself in the fan-out tier
      rooms                  = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      rooms_by_connection    = ["dynamodb:Query"]
      history                = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"] # UpdateItem: rate-limit counters
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      review                 = true
      memory_size            = 1769
      timeout                = 29
    }
    history = {
      route_key              = "history"
      handler                = "roomchat.handlers.on_history"
      two_way                = true
      rooms                  = ["dynamodb:GetItem"]
      rooms_by_connection    = []
      history                = ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:UpdateItem"] # GetItem: with `after`, the messages changed since; UpdateItem: budgets
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      memory_size            = 256
      timeout                = 10
    }
    # Resume (issue 23): `join` for several rooms at once, each with its `after`.
    resume = {
      route_key              = "resume"
      handler                = "roomchat.handlers.on_resume"
      two_way                = true
      rooms                  = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      rooms_by_connection    = ["dynamodb:Query"]
      history                = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"] # as join's
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      memory_size            = 1024
      timeout                = 29
    }
    members = {
      route_key              = "members"
      handler                = "roomchat.handlers.on_members"
      two_way                = true
      rooms                  = ["dynamodb:GetItem", "dynamodb:Query"]
      rooms_by_connection    = []
      history                = ["dynamodb:GetItem", "dynamodb:UpdateItem"] # the caller's ban; UpdateItem: budgets
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      memory_size            = 256
      timeout                = 10
    }
    # Rooms with a policy and roles (docs/design.md, "Rooms, roles and users"): one function per
    # action, like every other route, so each role holds only what its action calls.
    create_room = {
      route_key              = "createRoom"
      handler                = "roomchat.handlers.on_create_room"
      two_way                = true
      rooms                  = ["dynamodb:PutItem", "dynamodb:Query"] # Query: is the room in use?
      rooms_by_connection    = []
      history                = ["dynamodb:Query", "dynamodb:UpdateItem"] # UpdateItem: rate-limit counters
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      memory_size            = 256
      timeout                = 10
    }
    invite = {
      route_key              = "invite"
      handler                = "roomchat.handlers.on_invite"
      two_way                = true
      rooms                  = ["dynamodb:GetItem", "dynamodb:PutItem"]
      rooms_by_connection    = []
      history                = ["dynamodb:UpdateItem"] # rate-limit counters
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      memory_size            = 256
      timeout                = 10
    }
    uninvite = {
      route_key = "uninvite"
      handler   = "roomchat.handlers.on_uninvite"
      two_way   = true
      # The user's connections leave the room at once (Query, DeleteItem, UpdateItem on their
      # records); one found gone (410) is pruned, which reads its rooms by the index.
      rooms                  = ["dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:UpdateItem"]
      rooms_by_connection    = ["dynamodb:Query"]
      history                = ["dynamodb:UpdateItem"] # rate-limit counters
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      memory_size            = 256
      timeout                = 10
    }
    promote = {
      route_key              = "promote"
      handler                = "roomchat.handlers.on_promote"
      two_way                = true
      rooms                  = ["dynamodb:GetItem", "dynamodb:PutItem"]
      rooms_by_connection    = []
      history                = ["dynamodb:UpdateItem"] # rate-limit counters
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      memory_size            = 256
      timeout                = 10
    }
    demote = {
      route_key              = "demote"
      handler                = "roomchat.handlers.on_demote"
      two_way                = true
      rooms                  = ["dynamodb:GetItem", "dynamodb:PutItem"]
      rooms_by_connection    = []
      history                = ["dynamodb:UpdateItem"] # rate-limit counters
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      memory_size            = 256
      timeout                = 10
    }
    ping = {
      route_key           = "ping"
      handler             = "roomchat.handlers.on_ping"
      two_way             = true
      rooms               = []
      rooms_by_connection = []
      history             = []
      manage_connections  = false
      memory_size         = 256
      timeout             = 10
    }
    # Moderation and the life of a message (issue 13). review = true: may invoke the message
    # review hook (lambda:InvokeFunction on exactly its ARN) when one is configured.
    delete = {
      route_key              = "delete"
      handler                = "roomchat.handlers.on_delete"
      two_way                = true # errors and repeats only; the ack is the fanned-out frame
      rooms                  = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      rooms_by_connection    = ["dynamodb:Query"]
      history                = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem"] # UpdateItem: the tombstone and rate-limit counters; PutItem: the change log; Query, DeleteItem: its reactions go
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      memory_size            = 1024
      timeout                = 29
    }
    edit = {
      route_key              = "edit"
      handler                = "roomchat.handlers.on_edit"
      two_way                = true # errors only; the ack is the fanned-out frame
      rooms                  = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      rooms_by_connection    = ["dynamodb:Query"]
      history                = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"] # PutItem: the change log and a mention the new text adds
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      review                 = true
      memory_size            = 1024
      timeout                = 29
    }
    typing = {
      route_key              = "typing"
      handler                = "roomchat.handlers.on_typing"
      two_way                = true # errors only
      rooms                  = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      rooms_by_connection    = ["dynamodb:Query"]
      history                = ["dynamodb:GetItem", "dynamodb:UpdateItem"] # the caller's ban; rate-limit counters
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      memory_size            = 1024
      timeout                = 29
    }
    mark_read = {
      route_key              = "markRead"
      handler                = "roomchat.handlers.on_mark_read"
      two_way                = true
      rooms                  = ["dynamodb:GetItem"]
      rooms_by_connection    = []
      history                = ["dynamodb:GetItem", "dynamodb:UpdateItem"] # UpdateItem: the marker and rate-limit counters
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      memory_size            = 256
      timeout                = 10
    }
    kick = {
      route_key              = "kick"
      handler                = "roomchat.handlers.on_kick"
      two_way                = true
      rooms                  = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      rooms_by_connection    = ["dynamodb:Query"]
      history                = ["dynamodb:PutItem", "dynamodb:UpdateItem"] # PutItem: the ban
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      memory_size            = 1024
      timeout                = 29
    }
    disconnect_user = {
      route_key              = "disconnectUser"
      handler                = "roomchat.handlers.on_disconnect_user"
      two_way                = true
      rooms                  = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      rooms_by_connection    = ["dynamodb:Query"]
      history                = ["dynamodb:UpdateItem"] # rate-limit counters
      manage_connections     = true
      disconnect_connections = true # the @connections DELETE
      memory_size            = 1024
      timeout                = 29
    }
    # Notifications for away members (docs/notifications.md): a user's devices (one item) and
    # a room's level, in the rooms table; UpdateItem on history: the rate-limit counters.
    register_device = {
      route_key           = "registerDevice"
      handler             = "roomchat.handlers.on_register_device"
      two_way             = true
      rooms               = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
      rooms_by_connection = []
      history             = ["dynamodb:UpdateItem"]
      manage_connections  = false
      memory_size         = 256
      timeout             = 10
    }
    unregister_device = {
      route_key           = "unregisterDevice"
      handler             = "roomchat.handlers.on_unregister_device"
      two_way             = true
      rooms               = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
      rooms_by_connection = []
      history             = ["dynamodb:UpdateItem"]
      manage_connections  = false
      memory_size         = 256
      timeout             = 10
    }
    notify_level = {
      route_key           = "notifyLevel"
      handler             = "roomchat.handlers.on_notify_level"
      two_way             = true
      rooms               = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
      rooms_by_connection = []
      history             = ["dynamodb:GetItem", "dynamodb:UpdateItem"] # GetItem: bans (a banned member may not change it)
      manage_connections  = false
      memory_size         = 256
      timeout             = 10
    }
    # Conversations (issue 22): threads, reactions, mentions and pins. A reply is a sendAll
    # with replyTo (send_all's own function). react and pin tell the room, so they fan out
    # (and prune) like typing; the others only read, or write the caller's own items.
    thread = {
      route_key              = "thread"
      handler                = "roomchat.handlers.on_thread"
      two_way                = true
      rooms                  = ["dynamodb:GetItem"]
      rooms_by_connection    = []
      history                = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"] # GetItem: the parent and the follow state; Query: the page and the unread count; UpdateItem: the read budget
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      memory_size            = 256
      timeout                = 10
    }
    threads = {
      route_key              = "threads"
      handler                = "roomchat.handlers.on_threads"
      two_way                = true
      rooms                  = ["dynamodb:GetItem"]
      rooms_by_connection    = []
      history                = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"] # Query: the follow states and unread counts; GetItem: the parents
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      memory_size            = 256
      timeout                = 10
    }
    follow = {
      route_key              = "follow"
      handler                = "roomchat.handlers.on_follow"
      two_way                = true
      rooms                  = ["dynamodb:GetItem"]
      rooms_by_connection    = []
      history                = ["dynamodb:GetItem", "dynamodb:UpdateItem"] # UpdateItem: the follow state and rate-limit counters
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      memory_size            = 256
      timeout                = 10
    }
    react = {
      route_key              = "react"
      handler                = "roomchat.handlers.on_react"
      two_way                = true # repeats only; the ack is the fanned-out frame
      rooms                  = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      rooms_by_connection    = ["dynamodb:Query"]
      history                = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"] # PutItem/DeleteItem: the user's reaction; UpdateItem: the summary and the react budget
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      memory_size            = 1024
      timeout                = 29
    }
    mentions = {
      route_key              = "mentions"
      handler                = "roomchat.handlers.on_mentions"
      two_way                = true
      rooms                  = ["dynamodb:GetItem"] # room records and roles: may the caller still read the room?
      rooms_by_connection    = []
      history                = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"] # Query: the caller's mentions; GetItem: the messages and bans
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      memory_size            = 256
      timeout                = 10
    }
    pin = {
      route_key              = "pin"
      handler                = "roomchat.handlers.on_pin"
      two_way                = true                                                                                 # repeats only; the ack is the fanned-out frame
      rooms                  = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"] # UpdateItem: the pins on the room record
      rooms_by_connection    = ["dynamodb:Query"]
      history                = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
      manage_connections     = true
      disconnect_connections = true # closes a connection over its budgets (closing frame, then DELETE)
      memory_size            = 1024
      timeout                = 29
    }
    # Attachments (issue 24, infra/attachments.tf): S3 grants in local.attachment_statements.
    prepare_upload = {
      route_key           = "prepareUpload"
      handler             = "roomchat.handlers.on_prepare_upload"
      two_way             = true
      rooms               = ["dynamodb:GetItem"] # room record and roles: is the caller a member?
      rooms_by_connection = []
      history             = ["dynamodb:GetItem", "dynamodb:UpdateItem"] # GetItem: bans; UpdateItem: the upload budget
      manage_connections  = false                                       # answers its caller only
      memory_size         = 256
      timeout             = 10
    }
    attachment_url = {
      route_key           = "attachmentUrl"
      handler             = "roomchat.handlers.on_attachment_url"
      two_way             = true
      rooms               = ["dynamodb:GetItem"]
      rooms_by_connection = []
      history             = ["dynamodb:GetItem", "dynamodb:UpdateItem"] # GetItem: the message; UpdateItem: the read budget
      manage_connections  = false                                       # answers its caller only
      memory_size         = 256
      timeout             = 10
    }
    default = {
      route_key           = "$default"
      handler             = "roomchat.handlers.on_default"
      two_way             = true
      rooms               = []
      rooms_by_connection = []
      history             = []
      manage_connections  = false
      memory_size         = 256
      timeout             = 10
    }
  }
}

# The opt-in $connect authorizer (design.md: "(authorizer)" row). It touches no table and reads
# only its keys: AUTH_SECRET, or AUTH_SECRET_PARAMETER naming an SSM SecureString (jwt mode), or
# the issuer's JWKS over HTTPS (oidc mode).
locals {
  auth_enabled = var.auth_mode != "none"

  auth_secret_parameter_arn = var.auth_mode != "jwt" || var.auth_secret_parameter_name == null ? null : format(
    "arn:%s:ssm:%s:%s:parameter/%s",
    data.aws_partition.current.partition,
    var.region,
    data.aws_caller_identity.current.account_id,
    trimprefix(var.auth_secret_parameter_name, "/"),
  )

  # Cognito ID tokens: iss is the pool's public URL (also on the emulator), aud the app client.
  cognito_issuer = var.cognito_user_pool ? "https://cognito-idp.${var.region}.amazonaws.com/${aws_cognito_user_pool.this[0].id}" : null
  cognito_jwks_url = var.cognito_user_pool ? format(
    "%s/%s/.well-known/jwks.json",
    coalesce(var.cognito_base_url, "https://cognito-idp.${var.region}.amazonaws.com"),
    aws_cognito_user_pool.this[0].id,
  ) : null

  auth_issuer = coalesce(
    var.auth_issuer, local.cognito_issuer, var.auth_mode == "jwt" ? "roomchat-dev" : "unset"
  )
  auth_audience = coalesce(
    var.auth_audience, var.cognito_user_pool ? aws_cognito_user_pool_client.this[0].id : null,
    var.auth_mode == "jwt" ? "roomchat" : "unset",
  )

  auth_common_environment = {
    AUTH_MODE                 = var.auth_mode
    AUTH_ISSUER               = local.auth_issuer
    AUTH_AUDIENCE             = local.auth_audience
    AUTH_MAX_LIFETIME_SECONDS = tostring(var.auth_max_lifetime_seconds)
    LOG_LEVEL                 = var.log_level
  }

  authorizer = {
    handler          = "roomchat.authorizer.on_authorize"
    memory_size      = 256
    timeout          = 10
    identity_sources = ["route.request.querystring.token"]
    environment = merge(
      local.auth_common_environment,
      var.auth_mode == "oidc" ? { AUTH_JWKS_URL = coalesce(var.auth_jwks_url, local.cognito_jwks_url) } : {},
      var.auth_mode == "jwt" ? (var.auth_secret_parameter_name != null
        ? { AUTH_SECRET_PARAMETER = var.auth_secret_parameter_name }
        : { AUTH_SECRET = var.auth_secret }
      ) : {},
    )
  }
}

# The fan-out tier's worker (design.md: "(fan-out queue)" row): not routed; its queue's event
# source mapping invokes it (infra/fanout.tf). It may run longer than API Gateway's 29 s.
locals {
  fanout = {
    handler             = "roomchat.handlers.on_fanout"
    rooms               = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:DeleteItem"]
    rooms_by_connection = ["dynamodb:Query"]
    history             = []
    manage_connections  = true
    memory_size         = 1769
    timeout             = 60
  }
}

# Notifications for away members (docs/notifications.md, infra/notify.tf): the queue's worker,
# only with notifications_enabled. Its own zip carries the Web Push libraries.
locals {
  notify = {
    handler = "roomchat.handlers.on_notify"
    rooms   = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"] # watchers, members, devices, the coalescing window, a gone device removed
    history = ["dynamodb:GetItem"]                                          # the message
  }
}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

# The message review hook (issue 13): a function of the operator's (review_hook_function_arn)
# or the included word-list sample (create_sample_review_hook), invoked by send_all and edit
# before a message is stored. Its ARN is built from its name, so no function depends on
# another's attributes.
locals {
  sample_review_hook_arn = format(
    "arn:%s:lambda:%s:%s:function:%s-review_hook",
    data.aws_partition.current.partition,
    var.region,
    data.aws_caller_identity.current.account_id,
    var.name_prefix,
  )
  review_hook_arn = (var.create_sample_review_hook ? local.sample_review_hook_arn
  : var.review_hook_function_arn)

  review_hook_environment = local.review_hook_arn == null ? {} : {
    REVIEW_FUNCTION   = local.review_hook_arn
    REVIEW_TIMEOUT_MS = tostring(var.review_hook_timeout_ms)
    REVIEW_FALLBACK   = var.review_hook_fallback
  }

  sample_review_hook = var.create_sample_review_hook ? {
    review_hook = {
      handler     = "roomchat.review_hook.handler"
      description = "roomchat sample message review hook (word list)"
      environment = {
        REVIEW_BLOCKED_WORDS = join(",", var.review_hook_masked_words)
        REVIEW_DENY_WORDS    = join(",", var.review_hook_denied_words)
      }
    }
  } : {}
}
