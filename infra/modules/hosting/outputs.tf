output "url" {
  description = "HTTPS URL of the hosted web client: https://<domain_name>/ when set, else the distribution's."
  value       = "https://${coalesce(var.domain_name, aws_cloudfront_distribution.web.domain_name)}/"
}

output "minimum_tls_version" {
  description = "The oldest TLS the page is served with: TLSv1.2_2021 with your own certificate, TLSv1 on the default *.cloudfront.net certificate (CloudFront's rule)."
  value       = aws_cloudfront_distribution.web.viewer_certificate[0].minimum_protocol_version
}

output "bucket_name" {
  description = "Name of the S3 bucket holding the web client."
  value       = aws_s3_bucket.web.id
}

output "distribution_id" {
  description = "ID of the CloudFront distribution (for invalidations)."
  value       = aws_cloudfront_distribution.web.id
}

output "files" {
  description = "Content type by object key of every uploaded file, config.json included."
  value = merge(
    { for key, o in aws_s3_object.file : key => o.content_type },
    { (aws_s3_object.config.key) = aws_s3_object.config.content_type },
  )
}

output "config_json" {
  description = "The config.json uploaded next to the page."
  value       = aws_s3_object.config.content
}

output "content_security_policy" {
  description = "The Content-Security-Policy header CloudFront adds (the page's own, from web/index.html, with connect-src's WebSocket origins narrowed to this stack's API and its sign-in origins to this stack's Cognito endpoint or none)."
  value       = local.csp
}
