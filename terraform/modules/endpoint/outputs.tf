output "name" {
  description = "Name of the endpoint."
  value       = aws_sagemaker_endpoint.this.name
}

output "arn" {
  description = "ARN of the endpoint, built from its lower-case name so that policies using it are known at plan time."
  value       = "arn:${data.aws_partition.current.partition}:sagemaker:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:endpoint/${aws_sagemaker_endpoint.this.name}"
}

output "endpoint_config_name" {
  description = "Endpoint configuration Terraform deployed last; dogbreed-check-endpoint compares it with what the endpoint runs."
  value       = aws_sagemaker_endpoint_configuration.this.name
}

output "model_name" {
  description = "SageMaker model name (<name>-<leading digits of model_sha256>)."
  value       = local.model.name
}

output "role_arn" {
  description = "ARN of the endpoint's execution role."
  value       = aws_iam_role.this.arn
}

output "image_uri" {
  description = "Inference container image."
  value       = data.aws_sagemaker_prebuilt_ecr_image.this.registry_path
}

output "log_group_name" {
  description = "Log group of the endpoint's containers (KMS-encrypted, with retention)."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_group_arn" {
  description = "ARN of that log group without :*, the value CloudWatch Logs puts in kms:EncryptionContext:aws:logs:arn (for the key policy). Known at plan time."
  value       = local.log_group_arn
}

output "serverless" {
  description = "Whether the endpoint is a Serverless Inference endpoint."
  value       = local.serverless
}

output "max_request_bytes" {
  description = "Largest InvokeEndpoint body the endpoint takes: 4 MB for serverless (AWS: 'The maximum request and response payload size for serverless invocations is 4 MB'; counted here as 4,000,000 bytes, the smaller reading), 6 MiB for instances (botocore: Body max 6291456)."
  value       = local.serverless ? 4000000 : 6291456
}
