variable "name" {
  description = "Prefix of the deploy roles (<name>-github-plan, <name>-github-apply)."
  type        = string
}

variable "project_name" {
  description = "Name of the project stack the apply role deploys; it may manage only resources named <project_name>-*."
  type        = string
}

variable "github_repository" {
  description = "owner/name of the only repository whose workflows may assume the roles."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name, without wildcards."
  }
}

variable "main_branch" {
  description = "Branch whose pushes may run plan."
  type        = string
  default     = "main"
}

variable "apply_environment" {
  description = "Protected GitHub environment whose jobs may assume the apply role."
  type        = string
  default     = "production"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+$", var.apply_environment))
    error_message = "apply_environment must be a plain environment name without wildcards."
  }
}

variable "create_oidc_provider" {
  description = "Create the account's GitHub OIDC provider (only one may exist per account)."
  type        = bool
  default     = true
}

variable "existing_oidc_provider_arn" {
  description = "ARN of an existing GitHub OIDC provider, used when create_oidc_provider is false."
  type        = string
  default     = null

  validation {
    condition     = var.create_oidc_provider || var.existing_oidc_provider_arn != null
    error_message = "Set existing_oidc_provider_arn when create_oidc_provider is false."
  }
}

variable "state_bucket_name" {
  description = "Bucket holding the Terraform state."
  type        = string
}

variable "state_key" {
  description = "Object key of the project's state in the state bucket."
  type        = string
  default     = "dogbreed/terraform.tfstate"
}

variable "state_kms_alias_name" {
  description = "Alias (alias/...) of the key encrypting the state bucket; written into the backend settings."
  type        = string
}

variable "state_kms_key_project_tag" {
  description = "Value of the Project tag on the state key; the roles may use only keys carrying it."
  type        = string
}

variable "workload_roles" {
  description = "Role name => service it is passed to (\"\" when the apply role never passes it) of every role the project stack creates; the apply role may create, change, read and pass these roles only. null: the root stack's roles for project_name."
  type        = map(string)
  default     = null

  validation {
    condition     = var.workload_roles == null ? true : alltrue([for service in values(var.workload_roles) : contains(["", "sagemaker.amazonaws.com", "lambda.amazonaws.com", "ec2.amazonaws.com", "vpc-flow-logs.amazonaws.com"], service)])
    error_message = "Each workload role is passed to sagemaker, lambda, ec2 or vpc-flow-logs (.amazonaws.com), or to nothing (\"\")."
  }
  validation {
    condition     = var.workload_roles == null ? true : alltrue([for role in keys(var.workload_roles) : can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", role))])
    error_message = "Workload role names must be plain IAM role names (no path, no wildcard)."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
