output "url" {
  description = "HTTPS URL of the hosted web client."
  value       = "https://${aws_cloudfront_distribution.web.domain_name}/"
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
  description = "The Content-Security-Policy header CloudFront adds (the page's own, from web/index.html, with connect-src's sign-in origins narrowed to this stack's Cognito endpoint or none)."
  value       = local.csp
}
