# Variable validation of logging, naming, access and moderation settings: each bad value is
# refused at plan time with a message naming the allowed values.
# Run against variables.tf alone (tests/infra/test_static.py): no provider, nothing planned.

run "log_retention_must_be_a_cloudwatch_value" {
  command = plan
  variables {
    log_retention_days = 10
  }
  expect_failures = [var.log_retention_days]
}

run "stage_logging_level_must_be_known" {
  command = plan
  variables {
    stage_logging_level = "DEBUG"
  }
  expect_failures = [var.stage_logging_level]
}

run "log_level_must_be_known" {
  command = plan
  variables {
    log_level = "TRACE"
  }
  expect_failures = [var.log_level]
}

run "name_prefix_must_be_lower_case" {
  command = plan
  variables {
    name_prefix = "Room_Chat"
  }
  expect_failures = [var.name_prefix]
}

run "burst_limit_must_fit_the_account" {
  command = plan
  variables {
    throttling_burst_limit = 6000
  }
  expect_failures = [var.throttling_burst_limit]
}

run "kms_key_must_be_an_arn" {
  command = plan
  variables {
    tables_kms_key_arn = "alias/roomchat"
  }
  expect_failures = [var.tables_kms_key_arn]
}

run "custom_domain_must_be_a_host_name" {
  command = plan
  variables {
    custom_domain_name = "https://chat.example.com"
  }
  expect_failures = [var.custom_domain_name]
}

run "history_retention_must_be_whole_days" {
  command = plan
  variables {
    history_retention_days = 1.5
  }
  expect_failures = [var.history_retention_days]
}

run "auth_needs_a_secret" {
  command = plan
  variables {
    auth_mode = "jwt"
  }
  expect_failures = [var.auth_mode]
}

run "auth_mode_is_one_of_three" {
  command = plan
  variables {
    auth_mode = "saml"
  }
  expect_failures = [var.auth_mode]
}

run "oidc_needs_an_issuer_or_a_pool" {
  command = plan
  variables {
    auth_mode = "oidc"
  }
  expect_failures = [var.auth_mode]
}

run "a_user_pool_needs_oidc" {
  command = plan
  variables {
    cognito_user_pool = true
  }
  expect_failures = [var.auth_mode]
}

run "auth_takes_one_secret_source_only" {
  command = plan
  variables {
    auth_mode                  = "jwt"
    auth_secret_parameter_name = "/roomchat/auth-secret"
    auth_secret                = "0123456789abcdef0123456789abcdef"
  }
  expect_failures = [var.auth_mode]
}

run "api_logging_must_be_known" {
  command = plan
  variables {
    api_logging = "on"
  }
  expect_failures = [var.api_logging]
}

run "execution_logs_need_the_region_role" {
  command = plan
  variables {
    stage_logging_level = "ERROR"
  }
  expect_failures = [var.stage_logging_level]
}

run "review_hook_takes_one_source_only" {
  command = plan
  variables {
    create_sample_review_hook = true
    review_hook_function_arn  = "arn:aws:lambda:us-east-1:123456789012:function:my-hook"
  }
  expect_failures = [var.create_sample_review_hook]
}

run "review_hook_must_be_a_function_arn" {
  command = plan
  variables {
    review_hook_function_arn = "my-hook"
  }
  expect_failures = [var.review_hook_function_arn]
}

run "review_fallback_must_be_known" {
  command = plan
  variables {
    review_hook_fallback = "maybe"
  }
  expect_failures = [var.review_hook_fallback]
}

run "thresholds_must_be_positive" {
  command = plan
  variables {
    alarm_thresholds = { fanout_failures = 0 }
  }
  expect_failures = [var.alarm_thresholds]
}

run "alarm_email_must_be_an_address" {
  command = plan
  variables {
    alarm_email = "ops"
  }
  expect_failures = [var.alarm_email]
}

run "domain_must_be_a_host_name" {
  command = plan
  variables {
    domain_name = "https://chat.example.com/"
  }
  expect_failures = [var.domain_name]
}

run "zone_id_must_be_a_route53_id" {
  command = plan
  variables {
    domain_name    = "chat.example.com"
    domain_zone_id = "example.com"
  }
  expect_failures = [var.domain_zone_id]
}

run "price_class_must_be_known" {
  command = plan
  variables {
    hosting_price_class = "PriceClass_Cheap"
  }
  expect_failures = [var.hosting_price_class]
}

run "domain_and_an_external_custom_domain_do_not_mix" {
  command = plan
  variables {
    domain_name        = "chat.example.com"
    custom_domain_name = "other.example.com"
  }
  expect_failures = [var.domain_name]
}

run "max_connections_per_user_must_be_a_whole_number_in_range" {
  command = plan
  variables {
    max_connections_per_user = -1
  }
  expect_failures = [var.max_connections_per_user]
}

run "max_connections_per_user_must_not_be_fractional" {
  command = plan
  variables {
    max_connections_per_user = 2.5
  }
  expect_failures = [var.max_connections_per_user]
}
