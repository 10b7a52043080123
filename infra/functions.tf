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
      two_way             = false # the status code accepts or rejects the handshake
      rooms               = ["dynamodb:PutItem"]
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
      route_key           = "join"
      handler             = "roomchat.handlers.on_join"
      two_way             = true
      rooms               = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      rooms_by_connection = ["dynamodb:Query"]
      history             = ["dynamodb:Query", "dynamodb:UpdateItem"] # UpdateItem: rate-limit counters
      manage_connections  = true
      memory_size         = 1024
      timeout             = 29
    }
    leave = {
      route_key           = "leave"
      handler             = "roomchat.handlers.on_leave"
      two_way             = true
      rooms               = ["dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:UpdateItem"]
      rooms_by_connection = ["dynamodb:Query"]
      history             = ["dynamodb:UpdateItem"] # rate-limit counters
      manage_connections  = true
      memory_size         = 1024
      timeout             = 29
    }
    send_all = {
      route_key           = "sendAll"
      handler             = "roomchat.handlers.on_send_all"
      two_way             = true # errors, and the message itself in the fan-out tier
      rooms               = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
      rooms_by_connection = ["dynamodb:Query"]
      history             = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"] # UpdateItem: rate-limit counters
      manage_connections  = true
      memory_size         = 1769
      timeout             = 29
    }
    history = {
      route_key           = "history"
      handler             = "roomchat.handlers.on_history"
      two_way             = true
      rooms               = ["dynamodb:GetItem"]
      rooms_by_connection = []
      history             = ["dynamodb:Query"]
      manage_connections  = false
      memory_size         = 256
      timeout             = 10
    }
    members = {
      route_key           = "members"
      handler             = "roomchat.handlers.on_members"
      two_way             = true
      rooms               = ["dynamodb:GetItem", "dynamodb:Query"]
      rooms_by_connection = []
      history             = []
      manage_connections  = false
      memory_size         = 256
      timeout             = 10
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
    memory_size      = 256
    timeout          = 10
    identity_sources = ["route.request.querystring.token"]
    environment = (var.auth_secret_parameter_name != null
      ? { AUTH_SECRET_PARAMETER = var.auth_secret_parameter_name }
      : { AUTH_SECRET = var.auth_secret }
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

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}
