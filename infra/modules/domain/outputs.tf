output "websocket_url" {
  description = "URL clients connect to through the custom domain: wss://<domain_name>."
  value       = "wss://${aws_apigatewayv2_domain_name.this.domain_name}"
  depends_on  = [aws_apigatewayv2_api_mapping.this]
}

output "certificate_arn" {
  description = "ARN of the ACM certificate of the domain."
  value       = aws_acm_certificate.this.arn
}

output "certificate_validation_record" {
  description = "The DNS record that validates the certificate (create it yourself when zone_id is null)."
  value = {
    name  = local.validation[0].resource_record_name
    type  = local.validation[0].resource_record_type
    value = local.validation[0].resource_record_value
  }
}

output "target_domain_name" {
  description = "API Gateway's regional host name for the domain: point a CNAME or alias at it when zone_id is null."
  value       = aws_apigatewayv2_domain_name.this.domain_name_configuration[0].target_domain_name
}
