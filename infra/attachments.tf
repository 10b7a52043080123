# Attachments (issue 24, docs/design.md "Attachments"): the bucket module and the S3 grants of
# each function. Who may do what on the bucket (least privilege, tests/infra and
# tests/unit/test_least_privilege.py compare it with docs/design.md "On the attachments bucket"):
#   prepare_upload  s3:PutObject, s3:PutObjectTagging on uploads/*  (signs the presigned POST,
#                   which carries the attached=no tag: S3 authorizes the POST as its signer)
#   send_all        s3:GetObject (HeadObject and the first bytes), s3:PutObjectTagging on uploads/*
#   attachment_url  s3:GetObject on uploads/* and thumbs/* (signs the presigned GET)
#   delete          s3:DeleteObject on uploads/* and thumbs/*
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html ("you must have the
# s3:GetObject permission"); https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html

module "attachments" {
  source = "./modules/attachments"

  name_prefix    = var.name_prefix
  retention_days = var.history_retention_days
  force_destroy  = !var.history_deletion_protection
  tls_only       = var.attachments_tls_only
  cors_enabled   = var.hosting_enabled || length(var.attachment_cors_origins) > 0
  cors_origins = distinct(concat(
    var.attachment_cors_origins,
    var.hosting_enabled ? [trimsuffix(module.hosting[0].url, "/")] : [],
  ))
  tags = local.tags
}

locals {
  attachments_environment = {
    ATTACHMENTS_BUCKET     = module.attachments.bucket_name
    ATTACHMENT_MAX_BYTES   = tostring(var.attachment_max_bytes)
    ATTACHMENT_TYPES       = join(",", var.attachment_content_types)
    ATTACHMENT_URL_SECONDS = tostring(var.attachment_url_seconds)
  }

  # function key -> its statements on the bucket (sid, actions, resources).
  attachment_statements = {
    prepare_upload = [{ sid = "PresignUploads", actions = ["s3:PutObject", "s3:PutObjectTagging"], resources = [module.attachments.uploads_arn] }]
    send_all       = [{ sid = "CheckUploads", actions = ["s3:GetObject", "s3:PutObjectTagging"], resources = [module.attachments.uploads_arn] }]
    attachment_url = [{ sid = "PresignDownloads", actions = ["s3:GetObject"], resources = [module.attachments.uploads_arn, module.attachments.thumbs_arn] }]
    delete         = [{ sid = "DeleteAttachments", actions = ["s3:DeleteObject"], resources = [module.attachments.uploads_arn, module.attachments.thumbs_arn] }]
  }
}
