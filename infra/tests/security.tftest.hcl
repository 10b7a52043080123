# Issue 21's configuration fixes, each checked against a mock provider (nothing is created):
# admin-only Cognito sign-up, a review hook that fails closed, fan-out retention that outlasts
# the retries, the authorizer's KMS grant, https-only key URLs, and TLS 1.2+ only with a
# certificate of one's own. docs/security.md explains each.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      id            = "abc123"
      api_endpoint  = "wss://abc123.execute-api.us-east-1.amazonaws.com"
      execution_arn = "arn:aws:execute-api:us-east-1:123456789012:abc123"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:mocked" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-east-1:123456789012:roomchat-fanout"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/roomchat-fanout"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mocked" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:us-east-1:123456789012:key/mocked" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:us-east-1:123456789012:roomchat-alarms" }
  }
  mock_resource "aws_cloudfront_distribution" {
    defaults = {
      arn         = "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE"
      domain_name = "d111111abcdef8.cloudfront.net"
    }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::roomchat-web-123456789012" }
  }
}

# Real-looking table ARNs (the functions module refuses anything else).
override_resource {
  target = module.tables.aws_dynamodb_table.rooms
  values = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/roomchat-rooms" }
}

override_resource {
  target = module.tables.aws_dynamodb_table.history
  values = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/roomchat-history" }
}

run "only_an_administrator_creates_accounts_by_default" {
  command = apply

  variables {
    auth_mode           = "oidc"
    cognito_user_pool   = true
    authorizer_zip_path = var.lambda_zip_path
  }

  assert {
    condition     = aws_cognito_user_pool.this[0].admin_create_user_config[0].allow_admin_create_user_only == true
    error_message = "Anyone reading the app client id from config.json could sign up and connect."
  }
  assert {
    condition     = aws_cognito_user_pool_client.this[0].write_attributes == toset(["email"])
    error_message = "The public client may write email only, never the name the authorizer shows: ${jsonencode(aws_cognito_user_pool_client.this[0].write_attributes)}"
  }
}

run "self_sign_up_when_asked" {
  command = plan

  variables {
    auth_mode            = "oidc"
    cognito_user_pool    = true
    cognito_self_sign_up = true
    authorizer_zip_path  = var.lambda_zip_path
  }

  assert {
    condition     = aws_cognito_user_pool.this[0].admin_create_user_config[0].allow_admin_create_user_only == false
    error_message = "cognito_self_sign_up = true must open SignUp."
  }
}

run "a_configured_review_hook_fails_closed" {
  command = apply

  variables {
    create_sample_review_hook = true
  }

  assert {
    condition     = module.functions.configurations["send_all"].environment["REVIEW_FALLBACK"] == "deny"
    error_message = "A cold or broken hook must not let messages through unreviewed by default."
  }
}

run "fanout_retention_outlasts_every_receive" {
  command = apply

  variables {
    lambda_limits = { fanout = { timeout = 300 } }
  }

  # 5 receives x 1,800 s visibility: an hour's retention would expire failing chunks before
  # they reach the dead-letter queue.
  assert {
    condition     = aws_sqs_queue.fanout.message_retention_seconds > var.fanout_max_receive_count * aws_sqs_queue.fanout.visibility_timeout_seconds
    error_message = "Retention ${aws_sqs_queue.fanout.message_retention_seconds} s ends before the last of ${var.fanout_max_receive_count} receives of ${aws_sqs_queue.fanout.visibility_timeout_seconds} s."
  }
  assert {
    condition     = aws_sqs_queue.fanout_dead_letters.message_retention_seconds > aws_sqs_queue.fanout.message_retention_seconds
    error_message = "A moved message keeps its first enqueue time: the dead-letter queue must keep messages longer."
  }
}

run "fanout_retention_cannot_pass_sqs_maximum" {
  command = plan
  variables {
    fanout_max_receive_count = 1000
    lambda_limits            = { fanout = { timeout = 900 } }
  }
  expect_failures = [aws_sqs_queue.fanout]
}

run "the_authorizer_decrypts_its_parameter_under_a_customer_managed_key" {
  command = apply

  variables {
    auth_mode                  = "jwt"
    auth_secret_parameter_name = "/roomchat/auth-secret"
    auth_secret_kms_key_arn    = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    authorizer_zip_path        = var.lambda_zip_path
  }

  assert {
    condition = jsonencode(one([
      for statement in module.functions.policies["authorize"].Statement : statement if statement.Sid == "DecryptParameters"
      ])) == jsonencode({
      Sid      = "DecryptParameters"
      Effect   = "Allow"
      Action   = ["kms:Decrypt"]
      Resource = ["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"]
      Condition = {
        StringEquals = {
          "kms:ViaService"                      = "ssm.us-east-1.amazonaws.com"
          "kms:EncryptionContext:PARAMETER_ARN" = ["arn:aws:ssm:us-east-1:123456789012:parameter/roomchat/auth-secret"]
        }
      }
    })
    error_message = "The authorizer may decrypt with the key only through SSM and for its one parameter."
  }
}

run "the_default_certificate_is_said_to_allow_tlsv1" {
  command = apply

  variables {
    hosting_enabled = true
  }

  # CloudFront sets TLSv1 on its default certificate whatever is asked; nothing pretends otherwise.
  assert {
    condition     = module.hosting[0].minimum_tls_version == "TLSv1"
    error_message = "On the *.cloudfront.net certificate the security policy is TLSv1."
  }
}

run "tls_1_2_with_a_certificate_of_ones_own" {
  command = apply

  variables {
    hosting_enabled         = true
    hosting_domain_name     = "www.chat.example.com"
    hosting_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = module.hosting[0].minimum_tls_version == "TLSv1.2_2021" && output.web_url == "https://www.chat.example.com/"
    error_message = "With its own certificate the page is served on its name with TLS 1.2+."
  }
}

run "granted_rooms_live_under_the_operators_prefix" {
  command = apply

  assert {
    condition     = module.functions.configurations["create_room"].environment["GRANTED_ROOM_PREFIX"] == "org:"
    error_message = "Room ids under org: are the operator's by default (nobody may take them with createRoom)."
  }
}

# Attachments (issue 24): a private, TLS-only bucket; each function holds only its own S3 calls
# (only prepare_upload may put an upload; no routed function may write thumbs/).
run "the_attachments_bucket_is_private_and_tls_only" {
  command = apply

  assert {
    condition = alltrue([
      module.attachments.bucket_arn == "arn:aws:s3:::roomchat-attachments-123456789012",
      jsondecode(module.attachments.policy).Statement[0].Effect == "Deny",
      jsondecode(module.attachments.policy).Statement[0].Condition.Bool["aws:SecureTransport"] == "false",
      module.attachments.public_access_blocked,
      module.attachments.encryption == "AES256",
    ])
    error_message = "The attachments bucket must block public access, be encrypted and deny requests without TLS."
  }

  assert {
    condition = jsonencode(one([
      for s in module.functions.policies["prepare_upload"].Statement : s if s.Sid == "PresignUploads"
      ])) == jsonencode({
      Sid      = "PresignUploads"
      Effect   = "Allow"
      Action   = ["s3:PutObject", "s3:PutObjectTagging"]
      Resource = ["arn:aws:s3:::roomchat-attachments-123456789012/uploads/*"]
    })
    error_message = "prepare_upload may put (and tag) uploads only."
  }

  assert {
    # Which functions may act on the bucket at all.
    condition = [
      for key in sort(keys(module.functions.policies)) : key
      if length([for s in module.functions.policies[key].Statement : s if startswith(s.Sid, "Presign") || s.Sid == "CheckUploads" || s.Sid == "DeleteAttachments"]) > 0
    ] == ["attachment_url", "delete", "prepare_upload", "send_all"]
    error_message = "Only prepare_upload, send_all, attachment_url and delete may touch the attachments bucket."
  }
}
