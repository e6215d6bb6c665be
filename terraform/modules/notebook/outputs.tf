output "name" {
  description = "Name of the notebook instance."
  value       = aws_sagemaker_notebook_instance.this.name
}

output "role_arn" {
  description = "ARN of the notebook's role."
  value       = aws_iam_role.this.arn
}

output "url" {
  description = "URL of the notebook instance."
  value       = aws_sagemaker_notebook_instance.this.url
}
