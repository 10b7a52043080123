# Variable validation of the attachments (issue 24): each bad value is refused at plan time with
# a message naming the allowed values. Run against variables.tf alone (tests/infra/test_static.py).

run "max_bytes_must_be_positive" {
  command = plan
  variables {
    attachment_max_bytes = 0
  }
  expect_failures = [var.attachment_max_bytes]
}

run "max_bytes_must_fit_an_s3_post" {
  command = plan
  variables {
    attachment_max_bytes = 5368709121
  }
  expect_failures = [var.attachment_max_bytes]
}

run "content_types_must_not_be_empty" {
  command = plan
  variables {
    attachment_content_types = []
  }
  expect_failures = [var.attachment_content_types]
}

run "content_types_must_be_exact_media_types" {
  command = plan
  variables {
    attachment_content_types = ["image/*"]
  }
  expect_failures = [var.attachment_content_types]
}

run "content_types_must_not_carry_parameters" {
  command = plan
  variables {
    attachment_content_types = ["text/plain; charset=utf-8"]
  }
  expect_failures = [var.attachment_content_types]
}

run "url_lifetime_is_a_few_minutes" {
  command = plan
  variables {
    attachment_url_seconds = 3600
  }
  expect_failures = [var.attachment_url_seconds]
}

run "cors_origins_have_no_path" {
  command = plan
  variables {
    attachment_cors_origins = ["https://chat.example.com/app"]
  }
  expect_failures = [var.attachment_cors_origins]
}

run "cors_origins_may_use_one_wildcard" {
  command = plan
  variables {
    attachment_cors_origins = ["http://127.0.0.1:*", "https://chat.example.com"]
  }
}
