# The domain's alias records match the addresses it serves, against a mock provider (nothing is
# created anywhere): AAAA only when the regional domain is dualstack (AWS's default is IPv4
# only, whose AAAA alias would resolve to nothing).

mock_provider "aws" {
  mock_resource "aws_acm_certificate" {
    defaults = {
      arn = "arn:aws:acm:us-east-1:123456789012:certificate/mocked"
      domain_validation_options = [{
        domain_name           = "chat.example.com"
        resource_record_name  = "_x.chat.example.com."
        resource_record_type  = "CNAME"
        resource_record_value = "_y.acm-validations.aws."
      }]
    }
  }
}

variables {
  domain_name = "chat.example.com"
  zone_id     = "Z0123456789ABCDEFGHIJ"
  api_id      = "abc123"
}

run "dualstack_by_default_with_a_and_aaaa_aliases" {
  command = apply

  assert {
    condition     = aws_apigatewayv2_domain_name.this.domain_name_configuration[0].ip_address_type == "dualstack"
    error_message = "The domain must serve IPv6 when it has an AAAA alias."
  }
  assert {
    condition     = join(",", sort(keys(aws_route53_record.alias))) == "A,AAAA"
    error_message = "A dualstack domain gets A and AAAA aliases."
  }
}

run "ipv4_only_gets_no_aaaa_alias" {
  command = apply

  variables {
    ip_address_type = "ipv4"
  }

  assert {
    condition     = join(",", keys(aws_route53_record.alias)) == "A"
    error_message = "An IPv4-only domain must get no AAAA alias."
  }
}

run "ip_address_type_must_be_known" {
  command = plan
  variables {
    ip_address_type = "ipv6"
  }
  expect_failures = [var.ip_address_type]
}
