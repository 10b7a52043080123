# API Gateway writes WebSocket stage logs (access and execution) with a role set once per
# account and region. Opt-in because that setting is shared by every API in the region: an
# account that already has one must not have it replaced by this stack.

resource "aws_iam_role" "apigateway_cloudwatch" {
  count = var.create_account_cloudwatch_role ? 1 : 0

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
  count = var.create_account_cloudwatch_role ? 1 : 0

  role = aws_iam_role.apigateway_cloudwatch[0].name
  # AWS's policy for exactly this role. It is not scoped to this API because the role serves
  # every API of the account in this region.
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

data "aws_partition" "current" {}

resource "aws_api_gateway_account" "this" {
  count = var.create_account_cloudwatch_role ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.apigateway_cloudwatch[0].arn

  depends_on = [aws_iam_role_policy_attachment.apigateway_cloudwatch]
}
