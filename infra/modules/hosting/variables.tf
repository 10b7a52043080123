variable "name_prefix" {
  description = "Prefix of the resource names; the bucket is <name_prefix>-web-<account id>."
  type        = string
  default     = "roomchat"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,40}$", var.name_prefix))
    error_message = "name_prefix must be 2-41 lower-case letters, digits or '-', starting with a letter or digit (S3 bucket name rules)."
  }
}

variable "web_dir" {
  description = "Folder of the static web client (the repository's web/); every file but tests/ and README.md is uploaded."
  type        = string
  default     = null

  validation {
    condition     = try(fileexists("${var.web_dir}/index.html"), false)
    error_message = "web_dir is required: a folder holding index.html."
  }
}

variable "websocket_url" {
  description = "The wss:// URL the page connects to, written to config.json next to it."
  type        = string
  default     = null

  validation {
    condition     = can(regex("^wss://[^\\s/]+(/[^\\s]*)?$", var.websocket_url))
    error_message = "websocket_url is required: a wss:// URL."
  }
}

variable "auth" {
  description = "How the page signs in, written to config.json as `auth`: the root module's auth_mode and, with a Cognito user pool, its app client id and region (the page may then reach https://cognito-idp.<region>.amazonaws.com and no other sign-in origin). null: no sign-in."
  type = object({
    auth_mode         = string
    cognito_client_id = optional(string)
    cognito_region    = optional(string)
  })
  default = null

  validation {
    condition     = var.auth == null || try(contains(["none", "jwt", "oidc"], var.auth.auth_mode), false)
    error_message = "auth.auth_mode must be one of: none, jwt, oidc."
  }

  validation {
    condition     = try(var.auth.cognito_client_id, null) == null || can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", var.auth.cognito_region))
    error_message = "auth.cognito_region must be an AWS region name when auth.cognito_client_id is set."
  }
}

variable "domain_name" {
  description = "The page's own host name (a CloudFront alias), served with certificate_arn and TLS 1.2+; null: the distribution's *.cloudfront.net name, where CloudFront allows TLSv1."
  type        = string
  default     = null

  validation {
    condition     = var.domain_name == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain_name))
    error_message = "domain_name must be null or a lower-case host name such as chat.example.com."
  }

  validation {
    condition     = (var.domain_name == null) == (var.certificate_arn == null)
    error_message = "Set domain_name and certificate_arn together (or neither)."
  }
}

variable "certificate_arn" {
  description = "ACM certificate for domain_name, in us-east-1 (where CloudFront reads certificates); null with domain_name."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/[0-9a-f-]+$", var.certificate_arn))
    error_message = "certificate_arn must be null or an ACM certificate ARN in us-east-1 (arn:aws:acm:us-east-1:<account>:certificate/<id>)."
  }
}

variable "price_class" {
  description = "CloudFront price class: PriceClass_100 (North America and Europe), PriceClass_200 or PriceClass_All."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "price_class must be one of: PriceClass_100, PriceClass_200, PriceClass_All."
  }
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
