output "function_names" {
  description = "Function name by key (e.g. join -> roomchat-join)."
  value       = { for key, fn in aws_lambda_function.this : key => fn.function_name }
}

output "function_arns" {
  description = "Function ARN by key."
  value       = { for key, fn in aws_lambda_function.this : key => fn.arn }
}

output "invoke_arns" {
  description = "Invoke ARN by key, for API Gateway integrations."
  value       = { for key, fn in aws_lambda_function.this : key => fn.invoke_arn }
}

output "role_arns" {
  description = "Execution role ARN by key."
  value       = { for key, role in aws_iam_role.this : key => role.arn }
}

output "role_names" {
  description = "Execution role name by key."
  value       = { for key, role in aws_iam_role.this : key => role.name }
}

output "log_group_names" {
  description = "CloudWatch log group name by key."
  value       = { for key, group in aws_cloudwatch_log_group.this : key => group.name }
}

output "policies" {
  description = "The IAM policy document (as an object) of each role, by key: handy for reviews and tests."
  value       = local.policies
}

output "configurations" {
  description = "Handler, architecture and environment of each function, by key: for reviews and tests."
  value = {
    for key, fn in aws_lambda_function.this : key => {
      handler      = fn.handler
      architecture = one(fn.architectures)
      environment  = try(fn.environment[0].variables, {})
    }
  }
}
