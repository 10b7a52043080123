# The deployment zip ships once, as one S3 object, and every function is created from it
# (s3_bucket/s3_key). Creating functions from a local `filename` makes the AWS provider upload
# them one at a time (it holds a lock while it reads the file and waits for the function), ~5 s
# each: nine functions took ~45 s. From S3 they are created in parallel, and a deployment package
# up to 250 MB unzipped ships the same way ("Deploying .zip file archives",
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-function-zip.html).

locals {
  # Bucket names are lower case, digits and '-' only; AWS adds a unique suffix to the prefix
  # (bucket_prefix may be at most 37 characters).
  code_bucket_prefix = "${substr(replace(lower(var.name_prefix), "_", "-"), 0, 31)}-code-"
  code_key           = "${var.name_prefix}/functions.zip"
}

resource "aws_s3_bucket" "code" {
  bucket_prefix = local.code_bucket_prefix
  # The bucket holds build output only (rebuilt from source by scripts/build_lambda.py), so
  # destroy may delete its object versions rather than stop at them.
  force_destroy = true

  tags = var.tags
}

resource "aws_s3_bucket_public_access_block" "code" {
  bucket = aws_s3_bucket.code.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "code" {
  bucket = aws_s3_bucket.code.id

  rule {
    object_ownership = "BucketOwnerEnforced" # no ACLs at all
  }
}

resource "aws_s3_bucket_versioning" "code" {
  bucket = aws_s3_bucket.code.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "code" {
  bucket = aws_s3_bucket.code.id

  rule {
    apply_server_side_encryption_by_default {
      # aws:kms with var.code_kms_key_arn, or the AWS managed key aws/s3 when it is null.
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.code_kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "code" {
  bucket = aws_s3_bucket.code.id

  rule {
    id     = "expire-old-builds"
    status = "Enabled"

    filter {}

    # Lambda copies the code when a function is created or updated, so old builds are only
    # kept for a look back.
    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.code]
}

# Only TLS requests; everything else about who may read is IAM (the deployer's own credentials:
# Lambda fetches the code with the permissions of the caller of CreateFunction/UpdateFunctionCode).
resource "aws_s3_bucket_policy" "code" {
  bucket = aws_s3_bucket.code.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "TlsOnly"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.code.arn, "${aws_s3_bucket.code.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })

  depends_on = [aws_s3_bucket_public_access_block.code]
}

resource "aws_s3_object" "code" {
  bucket = aws_s3_bucket.code.id
  key    = local.code_key
  source = var.zip_path
  # A new build uploads a new version (and the functions are updated from it); an unchanged,
  # deterministically built zip uploads nothing.
  source_hash = filebase64sha256(var.zip_path)

  tags = var.tags

  depends_on = [
    aws_s3_bucket_versioning.code,
    aws_s3_bucket_server_side_encryption_configuration.code,
  ]
}
