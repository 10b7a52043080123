# Variable validation of the security settings: each bad value or combination is refused at plan
# time with a message naming what to set.
# Run against variables.tf alone (tests/infra/test_static.py): no provider, nothing planned.

run "self_sign_up_needs_a_pool" {
  command = plan
  variables {
    cognito_self_sign_up = true
  }
  expect_failures = [var.cognito_self_sign_up]
}

run "a_parameter_key_needs_the_parameter" {
  command = plan
  variables {
    auth_mode               = "jwt"
    auth_secret             = "a-dev-secret-of-32+chars-0123456789"
    auth_secret_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    authorizer_zip_path     = "build/authorizer.zip"
  }
  expect_failures = [var.auth_secret_kms_key_arn]
}

run "jwks_over_plain_http_is_refused" {
  command = plan
  variables {
    auth_mode           = "oidc"
    auth_issuer         = "https://issuer.example"
    auth_audience       = "roomchat"
    auth_jwks_url       = "http://issuer.example/.well-known/jwks.json"
    authorizer_zip_path = "build/authorizer.zip"
  }
  expect_failures = [var.auth_jwks_url]
}

run "cognito_keys_over_plain_http_only_from_this_machine" {
  command = plan
  variables {
    auth_mode           = "oidc"
    cognito_user_pool   = true
    cognito_base_url    = "http://cognito.internal.example"
    authorizer_zip_path = "build/authorizer.zip"
  }
  expect_failures = [var.cognito_base_url]
}

run "a_hosting_name_needs_its_certificate" {
  command = plan
  variables {
    hosting_enabled     = true
    hosting_domain_name = "www.chat.example.com"
  }
  expect_failures = [var.hosting_domain_name]
}

run "granted_room_prefix_must_be_room_id_characters" {
  command = plan
  variables {
    granted_room_prefix = "org rooms/"
  }
  expect_failures = [var.granted_room_prefix]
}
