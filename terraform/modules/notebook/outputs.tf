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

output "volume_size_gb" {
  description = "Size of the notebook's ML storage volume (billed per GB-month while the notebook exists, running or stopped)."
  value       = var.volume_size_gb
}

output "code_s3_prefix" {
  description = "Prefix of the kernel bundle in the bucket (code_s3_prefix): the operator uploads it there, the notebook only reads it."
  value       = var.code_s3_prefix
}
