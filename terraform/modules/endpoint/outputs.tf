output "name" {
  description = "Name of the endpoint."
  value       = aws_sagemaker_endpoint.this.name
}

output "arn" {
  description = "ARN of the endpoint, built from its lower-case name so that policies using it are known at plan time."
  value       = "arn:${data.aws_partition.current.partition}:sagemaker:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:endpoint/${aws_sagemaker_endpoint.this.name}"
}

output "role_arn" {
  description = "ARN of the endpoint's execution role."
  value       = aws_iam_role.this.arn
}

output "image_uri" {
  description = "Inference container image."
  value       = data.aws_sagemaker_prebuilt_ecr_image.this.registry_path
}
