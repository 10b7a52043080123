resource "aws_apigatewayv2_integration" "this" {
  for_each = var.routes

  api_id             = aws_apigatewayv2_api.this.id
  description        = "${each.key} -> ${each.value.function_name}"
  integration_type   = "AWS_PROXY"
  integration_method = "POST" # Lambda is always invoked with POST
  integration_uri    = each.value.invoke_arn
}

resource "aws_apigatewayv2_route" "this" {
  for_each = var.routes

  api_id    = aws_apigatewayv2_api.this.id
  route_key = each.key
  target    = "integrations/${aws_apigatewayv2_integration.this[each.key].id}"
  # A WebSocket API authorizes only the handshake: $connect is the one route that can have an
  # authorizer, and what it allows holds for the whole connection.
  authorization_type = each.key == "$connect" && var.connect_authorizer != null ? "CUSTOM" : "NONE"
  authorizer_id      = each.key == "$connect" && var.connect_authorizer != null ? aws_apigatewayv2_authorizer.connect[0].id : null
  # Two-way: API Gateway returns the integration's `body` to the caller as a frame.
  route_response_selection_expression = each.value.two_way ? "$default" : null
}

resource "aws_apigatewayv2_route_response" "this" {
  for_each = { for key, route in var.routes : key => route if route.two_way }

  api_id             = aws_apigatewayv2_api.this.id
  route_id           = aws_apigatewayv2_route.this[each.key].id
  route_response_key = "$default"
}

resource "aws_lambda_permission" "this" {
  for_each = var.routes

  statement_id  = "AllowApiGatewayRoute"
  action        = "lambda:InvokeFunction"
  function_name = try(var.permission_function_names[each.key], each.value.function_name)
  principal     = "apigateway.amazonaws.com"
  # Only this API, this stage and this route may invoke the function.
  source_arn = "${aws_apigatewayv2_api.this.execution_arn}/${var.stage_name}/${each.key}"
}

resource "aws_apigatewayv2_authorizer" "connect" {
  count = var.connect_authorizer != null ? 1 : 0

  api_id           = aws_apigatewayv2_api.this.id
  name             = "${var.name}-connect"
  authorizer_type  = "REQUEST"
  authorizer_uri   = var.connect_authorizer.invoke_arn
  identity_sources = var.connect_authorizer.identity_sources
}

resource "aws_lambda_permission" "authorizer" {
  count = var.connect_authorizer != null ? 1 : 0

  statement_id  = "AllowApiGatewayAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = try(var.permission_function_names["authorizer"], var.connect_authorizer.function_name)
  principal     = "apigateway.amazonaws.com"
  # Only this API's authorizer may invoke it.
  source_arn = "${aws_apigatewayv2_api.this.execution_arn}/authorizers/${aws_apigatewayv2_authorizer.connect[0].id}"
}
