output "plan_role_arn" {
  description = "Set as the repository variable AWS_PLAN_ROLE_ARN."
  value       = module.github_oidc.plan_role_arn
}

output "apply_role_arn" {
  description = "Set as the variable AWS_APPLY_ROLE_ARN of the protected environment."
  value       = module.github_oidc.apply_role_arn
}

output "workload_boundary_arn" {
  description = "Permissions boundary of every role the project stack creates (the project stack derives this ARN from its name)."
  value       = module.github_oidc.workload_boundary_arn
}

output "backend_config" {
  description = "Save as terraform/backend.hcl and set as the repository variable TF_BACKEND_CONFIG."
  value       = module.github_oidc.backend_config
}
