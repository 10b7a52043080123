# The optional Cognito user pool (cognito_user_pool = true, with auth_mode = "oidc"): users sign
# in with USER_PASSWORD_AUTH and connect with the ID token, whose aud is the app client's id and
# whose iss is the pool's URL:
# https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html

resource "aws_cognito_user_pool" "this" {
  count = var.cognito_user_pool ? 1 : 0

  name                     = "${var.name_prefix}-users"
  deletion_protection      = var.table_deletion_protection ? "ACTIVE" : "INACTIVE"
  auto_verified_attributes = ["email"]

  # Only an administrator creates accounts unless cognito_self_sign_up says otherwise: with
  # self-service sign-up, anyone who reads the app client id from config.json could create an
  # account and connect ("creates a user profile for anyone on the internet who knows your
  # publicly-discoverable app client ID"); with it, SignUp answers NotAuthorizedException:
  # https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-admin-create-user-policy.html
  admin_create_user_config {
    allow_admin_create_user_only = !var.cognito_self_sign_up
  }

  password_policy {
    minimum_length    = 12
    require_lowercase = true
    require_numbers   = true
    require_symbols   = false
    require_uppercase = false
  }

  tags = local.tags
}

resource "aws_cognito_user_pool_client" "this" {
  count = var.cognito_user_pool ? 1 : 0

  name         = "${var.name_prefix}-web"
  user_pool_id = aws_cognito_user_pool.this[0].id
  # A browser app cannot keep a client secret.
  generate_secret     = false
  explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  # Within the authorizer's maximum lifetime (auth_max_lifetime_seconds, 1 day by default).
  id_token_validity      = 60
  access_token_validity  = 60
  refresh_token_validity = 30
  token_validity_units {
    id_token      = "minutes"
    access_token  = "minutes"
    refresh_token = "days"
  }
  prevent_user_existence_errors = "ENABLED"
  # What a user may write about themselves with this public client (SignUp,
  # UpdateUserAttributes): email only. Unset, "your app can write the values of the Standard
  # attributes of your user pool", so a user could set the `name` or `preferred_username` the
  # authorizer takes display names from; only an administrator sets those.
  # https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateUserPoolClient.html
  write_attributes = ["email"]
}
