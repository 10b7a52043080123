# The tables "Lambda code" and "What each function calls (least privilege)" of docs/design.md,
# as data: one entry per routed function (the key is the function name suffix). Keep the two in
# step; tests/infra compares the deployed routes and roles with the markdown itself.
locals {
  functions = {
    connect = {
      route_key           = "$connect"
      handler             = "roomchat.handlers.on_connect"
      two_way             = false # the status code accepts or rejects the handshake
      rooms               = ["dynamodb:PutItem"]
      rooms_by_connection = []
      history             = []
      manage_connections  = false
    }
    disconnect = {
      route_key           = "$disconnect"
      handler             = "roomchat.handlers.on_disconnect"
      two_way             = false # the connection is gone: nobody to reply to
      rooms               = ["dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      rooms_by_connection = ["dynamodb:Query"]
      history             = []
      manage_connections  = true
    }
    join = {
      route_key           = "join"
      handler             = "roomchat.handlers.on_join"
      two_way             = true
      rooms               = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      rooms_by_connection = ["dynamodb:Query"]
      history             = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"] # GetItem: ban and read marker; Query: recent and unread count; UpdateItem: rate-limit counters
      manage_connections  = true
    }
    leave = {
      route_key           = "leave"
      handler             = "roomchat.handlers.on_leave"
      two_way             = true
      rooms               = ["dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:UpdateItem"]
      rooms_by_connection = ["dynamodb:Query"]
      history             = ["dynamodb:UpdateItem"] # rate-limit counters
      manage_connections  = true
    }
    send_all = {
      route_key           = "sendAll"
      handler             = "roomchat.handlers.on_send_all"
      two_way             = true # errors only; the ack is the fanned-out message
      rooms               = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      rooms_by_connection = ["dynamodb:Query"]
      history             = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"] # UpdateItem: rate-limit counters
      manage_connections  = true
      review              = true
    }
    history = {
      route_key           = "history"
      handler             = "roomchat.handlers.on_history"
      two_way             = true
      rooms               = ["dynamodb:GetItem"]
      rooms_by_connection = []
      history             = ["dynamodb:Query"]
      manage_connections  = false
    }
    members = {
      route_key           = "members"
      handler             = "roomchat.handlers.on_members"
      two_way             = true
      rooms               = ["dynamodb:GetItem", "dynamodb:Query"]
      rooms_by_connection = []
      history             = []
      manage_connections  = false
    }
    ping = {
      route_key           = "ping"
      handler             = "roomchat.handlers.on_ping"
      two_way             = true
      rooms               = []
      rooms_by_connection = []
      history             = []
      manage_connections  = false
    }
    # Moderation and the life of a message (issue 13). review = true: may invoke the message
    # review hook (lambda:InvokeFunction on exactly its ARN) when one is configured.
    delete = {
      route_key           = "delete"
      handler             = "roomchat.handlers.on_delete"
      two_way             = true # errors and repeats only; the ack is the fanned-out frame
      rooms               = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      rooms_by_connection = ["dynamodb:Query"]
      history             = ["dynamodb:GetItem", "dynamodb:UpdateItem"] # UpdateItem: the tombstone and rate-limit counters
      manage_connections  = true
    }
    edit = {
      route_key           = "edit"
      handler             = "roomchat.handlers.on_edit"
      two_way             = true # errors only; the ack is the fanned-out frame
      rooms               = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      rooms_by_connection = ["dynamodb:Query"]
      history             = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
      manage_connections  = true
      review              = true
    }
    typing = {
      route_key           = "typing"
      handler             = "roomchat.handlers.on_typing"
      two_way             = true # errors only
      rooms               = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      rooms_by_connection = ["dynamodb:Query"]
      history             = ["dynamodb:UpdateItem"] # rate-limit counters
      manage_connections  = true
    }
    mark_read = {
      route_key           = "markRead"
      handler             = "roomchat.handlers.on_mark_read"
      two_way             = true
      rooms               = ["dynamodb:GetItem"]
      rooms_by_connection = []
      history             = ["dynamodb:GetItem", "dynamodb:UpdateItem"] # UpdateItem: the marker and rate-limit counters
      manage_connections  = false
    }
    kick = {
      route_key           = "kick"
      handler             = "roomchat.handlers.on_kick"
      two_way             = true
      rooms               = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      rooms_by_connection = ["dynamodb:Query"]
      history             = ["dynamodb:PutItem", "dynamodb:UpdateItem"] # PutItem: the ban
      manage_connections  = true
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
    }
    default = {
      route_key           = "$default"
      handler             = "roomchat.handlers.on_default"
      two_way             = true
      rooms               = []
      rooms_by_connection = []
      history             = []
      manage_connections  = false
    }
  }
}

# The opt-in $connect authorizer (design.md: "(authorizer)" row). It touches no table and reads
# only its secret: AUTH_SECRET, or AUTH_SECRET_PARAMETER naming an SSM SecureString.
locals {
  auth_secret_parameter_arn = var.auth_secret_parameter_name == null ? null : format(
    "arn:%s:ssm:%s:%s:parameter/%s",
    data.aws_partition.current.partition,
    var.region,
    data.aws_caller_identity.current.account_id,
    trimprefix(var.auth_secret_parameter_name, "/"),
  )

  authorizer = {
    handler          = "roomchat.handlers.on_authorize"
    identity_sources = ["route.request.querystring.token"]
    environment = (var.auth_secret_parameter_name != null
      ? { AUTH_SECRET_PARAMETER = var.auth_secret_parameter_name }
      : { AUTH_SECRET = var.auth_secret }
    )
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
