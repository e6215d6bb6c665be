output "notebook_name" {
  description = "Notebook instance name."
  value       = module.notebook.name
}

output "training_role_arn" {
  description = "Role to pass to training jobs."
  value       = module.training_role.role_arn
}
