output "bucket_name" {
  description = "Name of the attachments bucket (the functions read it from ATTACHMENTS_BUCKET)."
  value       = local.bucket_name
}

output "bucket_arn" {
  description = "ARN of the attachments bucket (built from its name: known at plan time)."
  value       = local.bucket_arn
}

output "uploads_arn" {
  description = "ARN pattern of the uploaded originals (uploads/*): what prepareUpload may put and sendAll may read."
  value       = "${local.bucket_arn}/uploads/*"
}

output "thumbs_arn" {
  description = "ARN pattern of the thumbnails (thumbs/*): only the thumbnail function writes them."
  value       = "${local.bucket_arn}/thumbs/*"
}

output "policy" {
  description = "The bucket policy (JSON): the TLS-only deny."
  value       = try(aws_s3_bucket_policy.this[0].policy, null)
}

output "public_access_blocked" {
  description = "Whether all four public access blocks are on."
  value = alltrue([
    aws_s3_bucket_public_access_block.this.block_public_acls,
    aws_s3_bucket_public_access_block.this.block_public_policy,
    aws_s3_bucket_public_access_block.this.ignore_public_acls,
    aws_s3_bucket_public_access_block.this.restrict_public_buckets,
  ])
}

output "encryption" {
  description = "The default server-side encryption algorithm (AES256: SSE-S3)."
  value       = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].sse_algorithm
}
