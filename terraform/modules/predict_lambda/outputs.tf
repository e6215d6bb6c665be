output "function_name" {
  description = "Name of the function."
  value       = aws_lambda_function.this.function_name
}

output "alias_arn" {
  description = "ARN of the live alias."
  value       = aws_lambda_alias.live.arn
}

output "function_url" {
  description = "HTTPS URL of the live alias."
  value       = aws_lambda_function_url.live.function_url
}

output "role_arn" {
  description = "ARN of the function's role."
  value       = aws_iam_role.this.arn
}

output "timeout" {
  description = "Function timeout in seconds."
  value       = aws_lambda_function.this.timeout
}

output "memory_size" {
  description = "Memory of the function in MB (its duration and provisioned concurrency are billed per GB-second)."
  value       = var.memory_size
}
