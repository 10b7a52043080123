# The attachments bucket (issue 24): files go from the browser straight to S3 with a presigned
# POST (prepareUpload), the message refers to the object, downloads are presigned GETs
# (attachmentUrl). Private, encrypted, TLS only; no Lambda in the data path.
#
# Keys (the functions build them, roomchat/usecases/attachments.py):
#   uploads/<room>/<uploadId>/<name>   the original, tagged attached=no by the POST policy,
#                                      attached=yes by sendAll once a message refers to it
#   thumbs/<room>/<uploadId>.jpg      the thumbnail function's preview of an image
#
# `make destroy` without CONFIRM_DELETE_HISTORY keeps this bucket and what protects it (the
# addresses in roomchat_tools/infra/deploy.py KEPT_RESOURCES), like the history table; with it,
# force_destroy is turned on first, then everything goes.

# The name and ARN are built from their parts, so they are known at plan time: the functions get
# ATTACHMENTS_BUCKET without waiting for the bucket (as with the fan-out queue's name), and the
# local stack's fast start gives it to them from the plan.
locals {
  bucket_name = "${var.name_prefix}-attachments-${data.aws_caller_identity.current.account_id}"
  bucket_arn  = "arn:${data.aws_partition.current.partition}:s3:::${local.bucket_name}"
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

resource "aws_s3_bucket" "this" {
  bucket = local.bucket_name
  # Off unless the operator deletes history on purpose: a destroy of a bucket with files fails.
  force_destroy = var.force_destroy

  tags = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# SSE-S3 (AES256): every object encrypted at rest, and no KMS grant for the functions or for a
# browser's presigned POST. https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-bucket-encryption.html
resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# Uploads never attached to a message (still tagged attached=no) go after a day; with history
# retention, attached files and thumbnails go when their messages do.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html
resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  # Only uploads carry the tag (the POST policy sets attached=no, sendAll attached=yes).
  rule {
    id     = "expire-unattached-uploads"
    status = "Enabled"
    filter {
      tag {
        key   = "attached"
        value = "no"
      }
    }
    expiration {
      days = var.unattached_expiration_days
    }
  }

  # S3 refuses AbortIncompleteMultipartUpload in a rule filtered by tags: a rule of its own.
  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  dynamic "rule" {
    for_each = var.retention_days > 0 ? ["uploads/", "thumbs/"] : []
    content {
      id     = "history-retention-${trimsuffix(rule.value, "/")}"
      status = "Enabled"
      filter {
        prefix = rule.value
      }
      expiration {
        days = var.retention_days
      }
    }
  }
}

# Browsers POST the file straight to the bucket and GET it with a presigned URL: only from the
# web page's origins. https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html
resource "aws_s3_bucket_cors_configuration" "this" {
  count  = var.cors_enabled ? 1 : 0
  bucket = aws_s3_bucket.this.id

  cors_rule {
    allowed_methods = ["POST", "GET", "HEAD"]
    allowed_origins = var.cors_origins
    allowed_headers = ["*"]
    expose_headers  = ["ETag", "Content-Length", "Content-Type"]
    max_age_seconds = 3000
  }
}

# Off only on the local stack, whose emulator speaks plain HTTP (moto applies the policy, so every
# request would be refused there).
resource "aws_s3_bucket_policy" "this" {
  count  = var.tls_only ? 1 : 0
  bucket = aws_s3_bucket.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "HttpsOnly"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })

  depends_on = [aws_s3_bucket_public_access_block.this]
}
