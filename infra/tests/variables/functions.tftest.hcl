# Variable validation of the functions and the fan-out tier: each bad value is refused at plan
# time with a message naming the allowed values.
# Run against variables.tf alone (tests/infra/test_static.py): no provider, nothing planned.

run "runtime_must_be_a_supported_python" {
  command = plan
  variables {
    lambda_runtime = "python3.9"
  }
  expect_failures = [var.lambda_runtime]
}

run "architecture_must_be_known" {
  command = plan
  variables {
    lambda_architecture = "i386"
  }
  expect_failures = [var.lambda_architecture]
}

run "timeout_must_fit_api_gateway" {
  command = plan
  variables {
    lambda_limits = { send_all = { timeout = 30 } }
  }
  expect_failures = [var.lambda_limits]
}

run "fanout_may_run_longer_than_api_gateway_waits" {
  command = plan
  variables {
    lambda_limits = { fanout = { timeout = 120 } }
  }
}

run "fanout_timeout_stays_within_lambdas_limit" {
  command = plan
  variables {
    lambda_limits = { fanout = { timeout = 901 } }
  }
  expect_failures = [var.lambda_limits]
}

run "fanout_tier_threshold_is_a_count" {
  command = plan
  variables {
    fanout_tier_threshold = -1
  }
  expect_failures = [var.fanout_tier_threshold]
}

run "fanout_max_concurrency_in_lambdas_range" {
  command = plan
  variables {
    fanout_max_concurrency = 1
  }
  expect_failures = [var.fanout_max_concurrency]
}

run "fanout_batch_size_within_sqs_batches" {
  command = plan
  variables {
    fanout_batch_size = 11
  }
  expect_failures = [var.fanout_batch_size]
}

run "fanout_chunk_size_bounded" {
  command = plan
  variables {
    fanout_chunk_size = 5001
  }
  expect_failures = [var.fanout_chunk_size]
}

run "fanout_max_receive_count_positive" {
  command = plan
  variables {
    fanout_max_receive_count = 0
  }
  expect_failures = [var.fanout_max_receive_count]
}

run "memory_must_be_in_lambdas_range" {
  command = plan
  variables {
    lambda_limits = { join = { memory_size = 127 } }
  }
  expect_failures = [var.lambda_limits]
}

run "memory_above_lambdas_range_is_refused" {
  command = plan
  variables {
    lambda_limits = { join = { memory_size = 10241 } }
  }
  expect_failures = [var.lambda_limits]
}

run "limits_name_known_functions_only" {
  command = plan
  variables {
    lambda_limits = { sendAll = { memory_size = 512 } }
  }
  expect_failures = [var.lambda_limits]
}

run "tracing_mode_must_be_known" {
  command = plan
  variables {
    lambda_tracing_mode = "On"
  }
  expect_failures = [var.lambda_tracing_mode]
}

run "notify_window_bounded" {
  command = plan
  variables {
    notify_window_seconds = 86401
  }
  expect_failures = [var.notify_window_seconds]
}

run "vapid_subject_is_a_contact" {
  command = plan
  variables {
    vapid_subject = "ops"
  }
  expect_failures = [var.vapid_subject]
}

run "sns_platform_applications_by_platform" {
  command = plan
  variables {
    sns_platform_application_arns = { web = "arn:aws:sns:us-east-1:123456789012:app/GCM/x" }
  }
  expect_failures = [var.sns_platform_application_arns]
}

run "notify_zip_is_a_zip" {
  command = plan
  variables {
    notify_zip_path = "build/notify.tar"
  }
  expect_failures = [var.notify_zip_path]
}

run "notify_max_concurrency_bounded" {
  command = plan
  variables {
    notify_max_concurrency = 1
  }
  expect_failures = [var.notify_max_concurrency]
}
