variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Project name (resources are <name>-ec2-trainer; the project key carries Project = <name>)."
  type        = string
  default     = "dogbreed-demo"
}

variable "ami_id" {
  description = "AMI of the trainer; null: the current Deep Learning AMI."
  type        = string
  default     = null
}

variable "subnet_id" {
  description = "Private subnet of the trainer."
  type        = string
}

variable "security_group_ids" {
  description = "Security groups of the trainer (no inbound; HTTPS to the VPC endpoints and S3)."
  type        = list(string)
}

variable "bucket_name" {
  description = "Project bucket (data/, code/, weights/, ec2-runs/)."
  type        = string
}

variable "kms_key_arn" {
  description = "Project key for the root volume and the uploaded code."
  type        = string
}

variable "train_args" {
  description = "Extra train.py arguments."
  type        = string
  default     = "--epochs 10"
}
