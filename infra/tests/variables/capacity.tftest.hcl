# Variable validation of the stage's route throttles and the functions' reserved concurrency
# (docs/capacity.md): each bad value (or combination) is refused at plan time with its message.
# Run against variables.tf alone (tests/infra/test_static.py): no provider, nothing planned.

run "route_throttling_defaults_are_valid" {
  command = plan
}

run "route_throttling_names_routes_of_the_api" {
  command = plan
  variables {
    route_throttling = { send_all = { rate_limit = 10, burst_limit = 10 } }
  }
  expect_failures = [var.route_throttling]
}

run "route_throttling_rate_within_the_account_limit" {
  command = plan
  variables {
    route_throttling = { sendAll = { rate_limit = 20000, burst_limit = 10 } }
  }
  expect_failures = [var.route_throttling]
}

run "route_throttling_burst_within_the_account_limit" {
  command = plan
  variables {
    route_throttling = { typing = { rate_limit = 10, burst_limit = 5001 } }
  }
  expect_failures = [var.route_throttling]
}

run "route_throttling_rate_above_zero" {
  command = plan
  variables {
    route_throttling = { ping = { rate_limit = 0, burst_limit = 10 } }
  }
  expect_failures = [var.route_throttling]
}

run "reserved_concurrency_per_function" {
  command = plan
  variables {
    lambda_reserved_concurrency = { send_all = 50, join = 20, fanout = 8, connect = 20 }
  }
}

run "reserved_concurrency_names_known_functions_only" {
  command = plan
  variables {
    lambda_reserved_concurrency = { sendAll = 50 }
  }
  expect_failures = [var.lambda_reserved_concurrency]
}

run "reserved_concurrency_is_a_whole_number" {
  command = plan
  variables {
    lambda_reserved_concurrency = { join = -1 }
  }
  expect_failures = [var.lambda_reserved_concurrency]
}

run "fanout_reservation_never_below_the_mappings_maximum_concurrency" {
  command = plan
  variables {
    lambda_reserved_concurrency = { fanout = 4 }
    fanout_max_concurrency      = 8
  }
  expect_failures = [var.lambda_reserved_concurrency]
}

run "fanout_reservation_follows_a_raised_maximum_concurrency" {
  command = plan
  variables {
    lambda_reserved_concurrency = { fanout = 16 }
    fanout_max_concurrency      = 16
  }
}

run "reservations_leave_100_unreserved" {
  command = plan
  variables {
    lambda_reserved_concurrency = { send_all = 500, join = 401 }
  }
  expect_failures = [var.lambda_reserved_concurrency]
}

run "reservations_leave_100_of_a_smaller_quota" {
  command = plan
  variables {
    lambda_concurrency_quota    = 200
    lambda_reserved_concurrency = { send_all = 60, fanout = 41 }
    fanout_max_concurrency      = 8
  }
  expect_failures = [var.lambda_reserved_concurrency]
}

run "concurrency_quota_is_a_count" {
  command = plan
  variables {
    lambda_concurrency_quota = 5
  }
  expect_failures = [var.lambda_concurrency_quota]
}
