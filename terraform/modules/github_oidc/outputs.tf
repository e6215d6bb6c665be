output "plan_role_arn" {
  description = "Role the plan workflow assumes (secret/variable AWS_PLAN_ROLE_ARN)."
  value       = aws_iam_role.this["plan"].arn
}

output "apply_role_arn" {
  description = "Role the apply workflow assumes in the protected environment (AWS_APPLY_ROLE_ARN)."
  value       = aws_iam_role.this["apply"].arn
}

output "workload_boundary_arn" {
  description = "Managed policy every role of the project stack must carry as its permissions boundary (the root stack derives the same ARN from its name)."
  value       = aws_iam_policy.workload_boundary.arn
}

output "backend_config" {
  description = "Contents of terraform/backend.hcl: S3 state with native locking (use_lockfile, Terraform >= 1.10)."
  value       = <<-EOT
    bucket       = "${var.state_bucket_name}"
    key          = "${var.state_key}"
    region       = "${data.aws_region.current.name}"
    encrypt      = true
    kms_key_id   = "arn:${data.aws_partition.current.partition}:kms:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:${var.state_kms_alias_name}"
    use_lockfile = true
  EOT
}
