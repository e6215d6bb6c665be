variable "name" {
  description = "Project name; the role is <name>-sagemaker-training."
  type        = string
}

variable "bucket_name" {
  description = "Project bucket: the role reads data/, code/, checkpoints/ and writes models/, checkpoints/, training-output/."
  type        = string
}

variable "kms_key_project_tag" {
  description = "Value of the Project tag on the project key: the role may use only keys carrying it (aws:ResourceTag/Project), so its policy is known before the key exists."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "permissions_boundary" {
  description = "ARN of the managed policy set as the permissions boundary of every role this module creates (the project stack passes the bootstrap stack's workload boundary, which the CI apply role requires). null: no boundary."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/[A-Za-z0-9+=,.@_/-]+$", var.permissions_boundary))
    error_message = "permissions_boundary must be an IAM managed policy ARN (arn:<partition>:iam::<account id>:policy/<name>)."
  }
}
