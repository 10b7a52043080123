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

output "limits" {
  description = "Memory (MB) and timeout (s) by key, as deployed: {memory_size, timeout}."
  value = {
    for key, fn in aws_lambda_function.this : key => { memory_size = fn.memory_size, timeout = fn.timeout }
  }
}

output "code_bucket_name" {
  description = "Name of the S3 bucket the deployment zip ships through."
  value       = aws_s3_bucket.code.id
}

output "code_s3_key" {
  description = "S3 key of the deployment zip in that bucket."
  value       = aws_s3_object.code.key
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
