data "aws_caller_identity" "current" {}

locals {
  bucket_name = "${var.name_prefix}-web-${data.aws_caller_identity.current.account_id}"
  files = toset([
    for f in fileset(var.web_dir, "**") : f
    if !startswith(f, "tests/") && f != "README.md" && !startswith(basename(f), ".")
  ])
  content_types = {
    html = "text/html; charset=utf-8"
    js   = "text/javascript; charset=utf-8"
    css  = "text/css; charset=utf-8"
    json = "application/json"
    png  = "image/png"
    svg  = "image/svg+xml"
    ico  = "image/x-icon"
    txt  = "text/plain; charset=utf-8"
  }
  # The page's own Content-Security-Policy (its <meta> tag), sent as a header too, so the two
  # cannot drift apart. The meta tag's connect-src allows any WebSocket server
  # (websocket_ceiling) and every place a sign-in service may be (sign_in_ceiling); the header
  # narrows them to this stack's API and to its Cognito endpoint or nothing, and a browser
  # enforces both (roomchat_tools/local/webpage.py does the same locally). So the page can
  # hand a signed-in user's token to no other server, whatever a link says.
  page_csp          = regex("Content-Security-Policy\"\\s+content=\"([^\"]+)\"", file("${var.web_dir}/index.html"))[0]
  websocket_ceiling = " ws: wss: "
  sign_in_ceiling   = " https://*.amazonaws.com http://127.0.0.1:* http://localhost:*"
  websocket_origin  = regex("^wss://[^/]+", var.websocket_url)
  cognito_endpoint  = try(var.auth.cognito_client_id, null) == null ? null : "https://cognito-idp.${var.auth.cognito_region}.amazonaws.com/"
  csp = replace(
    replace(local.page_csp, local.websocket_ceiling, " ${local.websocket_origin} "),
    local.sign_in_ceiling, local.cognito_endpoint == null ? "" : " ${trimsuffix(local.cognito_endpoint, "/")}",
  )
  # config.json: where to connect and, when the stack needs a token, how to sign in.
  auth_config = { for key, value in {
    auth = {
      authMode        = try(var.auth.auth_mode, null)
      cognitoClientId = try(var.auth.cognito_client_id, null)
      cognitoEndpoint = local.cognito_endpoint
    }
  } : key => value if try(var.auth.auth_mode, "none") != "none" }
}

# ---- the bucket: private, versioned, encrypted, reachable only through CloudFront

resource "aws_s3_bucket" "web" {
  bucket        = local.bucket_name
  force_destroy = true # only copies of web/ and config.json live here

  tags = var.tags
}

resource "aws_s3_bucket_public_access_block" "web" {
  bucket                  = aws_s3_bucket.web.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "web" {
  bucket = aws_s3_bucket.web.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "web" {
  bucket = aws_s3_bucket.web.id
  versioning_configuration {
    status = "Enabled"
  }
}

# SSE-S3: CloudFront's origin access control can read SSE-KMS objects only with a key policy
# naming the distribution; S3-managed keys need nothing more.
resource "aws_s3_bucket_server_side_encryption_configuration" "web" {
  bucket = aws_s3_bucket.web.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "web" {
  bucket = aws_s3_bucket.web.id

  rule {
    id     = "expire-old-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_policy" "web" {
  bucket = aws_s3_bucket.web.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "CloudFrontReadsThroughOriginAccessControl"
        Effect    = "Allow"
        Principal = { Service = "cloudfront.amazonaws.com" }
        Action    = "s3:GetObject"
        Resource  = "${aws_s3_bucket.web.arn}/*"
        Condition = { StringEquals = { "AWS:SourceArn" = aws_cloudfront_distribution.web.arn } }
      },
      {
        Sid       = "HttpsOnly"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.web.arn, "${aws_s3_bucket.web.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })

  depends_on = [aws_s3_bucket_public_access_block.web]
}

# ---- the files

resource "aws_s3_object" "file" {
  for_each = local.files

  bucket       = aws_s3_bucket.web.id
  key          = each.value
  source       = "${var.web_dir}/${each.value}"
  source_hash  = filemd5("${var.web_dir}/${each.value}")
  content_type = lookup(local.content_types, lower(reverse(split(".", each.value))[0]), "application/octet-stream")
  # Files keep their names across releases, so browsers must revalidate them.
  cache_control = "no-cache"

  tags = var.tags

  # Uploaded once the bucket versions and encrypts, so every object has a version of its own.
  depends_on = [aws_s3_bucket_versioning.web, aws_s3_bucket_server_side_encryption_configuration.web]
}

resource "aws_s3_object" "config" {
  bucket        = aws_s3_bucket.web.id
  key           = "config.json"
  content       = jsonencode(merge({ websocketUrl = var.websocket_url }, local.auth_config))
  content_type  = "application/json"
  cache_control = "no-cache"

  tags = var.tags

  depends_on = [aws_s3_bucket_versioning.web, aws_s3_bucket_server_side_encryption_configuration.web]
}
