# API Gateway writes a stage's logs (access and execution) with ONE role per account and region,
# named in the API Gateway account settings. A fresh account has none, and a stage that asks for
# logs is then refused ("CloudWatch Logs role ARN must be set in account settings to enable
# logging"). Setting it is opt-in here because it is shared by every API in the region:
# https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html

locals {
  logs_enabled        = var.logging != "off"
  manage_account_role = var.logging == "manage_account_role"
}

resource "aws_iam_role" "apigateway_cloudwatch" {
  count = local.manage_account_role ? 1 : 0

  name        = "${var.name}-apigateway-cloudwatch"
  description = "Account-wide role API Gateway uses to write CloudWatch logs in this region."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "apigateway.amazonaws.com" }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "apigateway_cloudwatch" {
  count = local.manage_account_role ? 1 : 0

  role = aws_iam_role.apigateway_cloudwatch[0].name
  # AWS's policy for exactly this role. It is not scoped to this API because the role serves
  # every API of the account in this region.
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

data "aws_partition" "current" {}

resource "aws_api_gateway_account" "this" {
  count = local.manage_account_role ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.apigateway_cloudwatch[0].arn

  # Without it, destroying this resource only forgets it (provider 5.x default), and the region
  # keeps pointing at the role that destroy deletes next. With it, destroy clears the setting
  # first (the role depends on nothing here, so it is deleted after). The provider marks the
  # argument deprecated because 6.x always resets on delete; drop it when moving to 6.x. (It is
  # true whenever this resource exists; the null branch only keeps the provider's deprecation
  # warning out of plans that do not manage the role.)
  # https://registry.terraform.io/providers/hashicorp/aws/5.100.0/docs/resources/api_gateway_account
  reset_on_delete = local.manage_account_role ? true : null

  depends_on = [aws_iam_role_policy_attachment.apigateway_cloudwatch]
}
