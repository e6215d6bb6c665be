variable "region" {
  description = "Region of the state bucket (use the project stack's region)."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Project name, as in the project stack."
  type        = string
  default     = "dogbreed"
}

variable "github_repository" {
  description = "owner/name of the repository whose workflows deploy the stack."
  type        = string
}

variable "apply_environment" {
  description = "Protected GitHub environment of the apply job."
  type        = string
  default     = "production"
}

variable "create_oidc_provider" {
  description = "Create the account's GitHub OIDC provider (false if the account already has one)."
  type        = bool
  default     = true
}

variable "existing_oidc_provider_arn" {
  description = "ARN of the existing GitHub OIDC provider when create_oidc_provider is false."
  type        = string
  default     = null
}
