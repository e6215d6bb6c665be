output "region" {
  description = "AWS region of the stack."
  value       = var.region
}

output "data_bucket_name" {
  description = "Project bucket (data/, code/, models/, checkpoints/, training-output/, ec2-runs/, data-capture/)."
  value       = module.data_bucket.bucket_name
}

output "kms_key_arn" {
  description = "Customer key encrypting the bucket, logs, volumes and endpoint storage."
  value       = module.data_bucket.kms_key_arn
}

output "training_role_arn" {
  description = "Role passed to SageMaker training and tuning jobs."
  value       = module.training_role.role_arn
}

output "training_subnet_ids" {
  description = "Private subnets of the SageMaker training and tuning jobs (their VpcConfig.Subnets; no route to the internet)."
  value       = module.network.private_subnet_ids
}

output "training_security_group_ids" {
  description = "Security group of the SageMaker training and tuning jobs (VpcConfig.SecurityGroupIds): all traffic within the group, HTTPS to the VPC endpoints and S3."
  value       = [module.network.security_group_ids["training"]]
}

output "notebook_role_arn" {
  description = "Role of the notebook instance."
  value       = module.notebook.role_arn
}

output "endpoint_name" {
  description = "SageMaker endpoint name; null until model_data_url is set."
  value       = try(module.endpoint[0].name, null)
}

output "endpoint_config_name" {
  description = "Endpoint configuration of the last deployment; dogbreed-check-endpoint --terraform-outputs compares it with what the endpoint runs. null until model_data_url is set."
  value       = try(module.endpoint[0].endpoint_config_name, null)
}

output "model_data_url" {
  description = "The published artifact the endpoint serves (null until published)."
  value       = var.model_data_url
}

output "model_sha256" {
  description = "SHA-256 of that artifact (null until published)."
  value       = var.model_sha256
}

output "endpoint_log_group_arn" {
  description = "ARN of /aws/sagemaker/Endpoints/<endpoint> (KMS-encrypted): the encryption-context value the key policy's CloudWatch Logs statement must allow. null until model_data_url is set."
  value       = try(module.endpoint[0].log_group_arn, null)
}

output "function_name" {
  description = "Prediction Lambda name; null until model_data_url is set."
  value       = try(module.predict_lambda[0].function_name, null)
}

output "function_url" {
  description = "Function URL of the live alias (AWS_IAM auth by default: sign requests with SigV4); null until model_data_url is set."
  value       = try(module.predict_lambda[0].function_url, null)
}

output "name" {
  description = "Project name: SageMaker training and tuning jobs must be named <name>-* (the launcher's job prefix)."
  value       = var.name
}

output "budget_name" {
  description = "Name of the AWS Budgets budget; null when budget.create is false."
  value       = try(module.budget[0].name, null)
}

output "ec2_trainer_launch_template_id" {
  description = "Launch template of the EC2 trainer (null unless ec2_trainer.create): `dogbreed-launch ec2-run --run-id <id>` starts or resumes a run; Terraform never launches one."
  value       = try(module.ec2_trainer[0].launch_template_id, null)
}

output "operator_policy_json" {
  description = "Identity policy of the operators (policies/operator.json): upload the notebook's kernel bundle and the staged weights, start EC2 runs from the trainer's launch template. Attach it to the operator's role and name that role in code_writer_role_arns; the stack itself creates no IAM for people."
  value       = local.operator_policy
}
