variable "name" {
  description = "Project name; the role is <name>-sagemaker-training."
  type        = string
}

variable "bucket_name" {
  description = "Project bucket: the role reads data/, code/, checkpoints/ and writes models/, checkpoints/, training-output/."
  type        = string
}

variable "kms_alias_name" {
  description = "Alias (alias/...) of the project key; key use is granted through kms:ResourceAliases."
  type        = string

  validation {
    condition     = startswith(var.kms_alias_name, "alias/")
    error_message = "kms_alias_name must start with alias/."
  }
}

variable "image_repository" {
  description = "SageMaker prebuilt ECR repository of the training container."
  type        = string
  default     = "pytorch-training"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
