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
