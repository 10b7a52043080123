# The deployment zip ships once, as one S3 object, and every function is created from it
# (s3_bucket/s3_key). From a local `filename` the AWS provider (5.x) creates functions one at a
# time: it holds one lock per upload while it reads the file, calls CreateFunction and waits for
# the function to be Active, which starts with a fixed 5 s delay (waitFunctionCreated), so nine
# functions took ~45 s. From S3 there is no lock and they are all created in ~5 s, in parallel;
# larger packages ship the same way anyway ("Deploying Lambda functions as .zip file archives",
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-function-zip.html).

locals {
  # Bucket names are lower case, digits and '-' only; Terraform adds a unique suffix to the prefix
  # (bucket_prefix may be at most 37 characters).
  code_bucket_prefix = "${substr(replace(lower(var.name_prefix), "_", "-"), 0, 31)}-code-"
  # Named by content: a new build is a new key, so the functions are updated from it, and
  # nothing waits for versioning to be on before the upload (the critical path of an apply).
  code_key = "${var.name_prefix}/functions-${filesha256(var.zip_path)}.zip"
}

resource "aws_s3_bucket" "code" {
  bucket_prefix = local.code_bucket_prefix
  # The bucket holds build output only (rebuilt from source by roomchat_tools/infra/build_lambda.py), so
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

resource "aws_s3_object" "code" {
  bucket = aws_s3_bucket.code.id
  key    = local.code_key
  source = var.zip_path
  # The object states its own encryption, so it need not wait for the bucket default.
  server_side_encryption = "aws:kms"
  kms_key_id             = var.code_kms_key_arn
  bucket_key_enabled     = true
  # An unchanged, deterministically built zip uploads nothing.
  source_hash = filebase64sha256(var.zip_path)

  tags = var.tags

  # No depends_on the public access block or the ownership controls: a new bucket already blocks
  # public access and disables ACLs ("Default settings for new S3 buckets FAQ",
  # https://docs.aws.amazon.com/AmazonS3/latest/userguide/create-bucket-faq.html), and every
  # second before the upload delays every function.
}

# A function with a package of its own (functions[*].zip_path: the authorizer, whose zip carries
# PyJWT and cryptography wheels the chat functions do without) gets its own object, named by
# function and content like the shared one.
resource "aws_s3_object" "own" {
  for_each = { for key, fn in var.functions : key => fn.zip_path if fn.zip_path != null }

  bucket                 = aws_s3_bucket.code.id
  key                    = "${var.name_prefix}/${each.key}-${filesha256(each.value)}.zip"
  source                 = each.value
  server_side_encryption = "aws:kms"
  kms_key_id             = var.code_kms_key_arn
  bucket_key_enabled     = true
  source_hash            = filebase64sha256(each.value)

  tags = var.tags
}
