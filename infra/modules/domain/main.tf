# A regional custom domain for the WebSocket API: wss://<domain_name> reaches the stage. The
# functions keep posting to the execute-api endpoint (their CALLBACK_URL), which is where AWS
# documents @connections:
# https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
# WebSocket APIs accept only regional custom domains with TLS 1.2:
# https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-custom-domain-names.html

resource "aws_acm_certificate" "this" {
  domain_name       = var.domain_name
  validation_method = "DNS"

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

locals {
  validation = [for o in aws_acm_certificate.this.domain_validation_options : o if o.domain_name == var.domain_name]
}

resource "aws_route53_record" "validation" {
  count = var.zone_id != null ? 1 : 0

  zone_id         = var.zone_id
  name            = local.validation[0].resource_record_name
  type            = local.validation[0].resource_record_type
  records         = [local.validation[0].resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

# Without a zone the certificate stays PENDING_VALIDATION until the record from the
# certificate_validation_record output exists; the domain name is created once it is issued.
resource "aws_acm_certificate_validation" "this" {
  certificate_arn         = aws_acm_certificate.this.arn
  validation_record_fqdns = var.zone_id != null ? [aws_route53_record.validation[0].fqdn] : null
}

resource "aws_apigatewayv2_domain_name" "this" {
  domain_name = var.domain_name

  domain_name_configuration {
    certificate_arn = aws_acm_certificate_validation.this.certificate_arn
    endpoint_type   = "REGIONAL"
    security_policy = "TLS_1_2"
    # AWS's default is IPv4 only: an AAAA alias to such a domain answers no address at all.
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-custom-domain-names-ip-address-type.html
    ip_address_type = var.ip_address_type
  }

  tags = var.tags
}

resource "aws_apigatewayv2_api_mapping" "this" {
  api_id      = var.api_id
  domain_name = aws_apigatewayv2_domain_name.this.id
  stage       = var.stage_name
}

resource "aws_route53_record" "alias" {
  # AAAA only when the domain serves IPv6 (ip_address_type = "dualstack").
  for_each = var.zone_id == null ? toset([]) : toset(var.ip_address_type == "dualstack" ? ["A", "AAAA"] : ["A"])

  zone_id = var.zone_id
  name    = var.domain_name
  type    = each.value

  alias {
    name                   = aws_apigatewayv2_domain_name.this.domain_name_configuration[0].target_domain_name
    zone_id                = aws_apigatewayv2_domain_name.this.domain_name_configuration[0].hosted_zone_id
    evaluate_target_health = false
  }
}
