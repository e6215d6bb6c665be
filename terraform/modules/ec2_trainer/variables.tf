variable "name" {
  description = "Project name; resources are named <name>-ec2-trainer."
  type        = string
}

variable "instance_type" {
  description = "GPU instance type of the trainer."
  type        = string
  default     = "g4dn.xlarge"

  validation {
    condition     = can(regex("^(g4dn|g5|g6|g6e|p3|p4d|p5)\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must be an NVIDIA GPU family the Deep Learning AMI supports (g4dn, g5, g6, g6e, p3, p4d, p5)."
  }
}

variable "ami_id" {
  description = "AMI to boot; null resolves the current Deep Learning AMI through dlami_ssm_parameter."
  type        = string
  default     = null

  validation {
    condition     = var.ami_id == null || can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must look like ami-0123456789abcdef0."
  }
}

variable "dlami_ssm_parameter" {
  description = "Public SSM parameter holding the Deep Learning AMI id."
  type        = string
  default     = "/aws/service/deeplearning/ami/x86_64/oss-nvidia-driver-gpu-pytorch-2.9-ubuntu-24.04/latest/ami-id"

  validation {
    condition     = startswith(var.dlami_ssm_parameter, "/aws/service/deeplearning/ami/")
    error_message = "dlami_ssm_parameter must be one of AWS's public /aws/service/deeplearning/ami/ parameters."
  }
}

variable "use_spot" {
  description = "Launch runs as one-time spot instances (cheaper; an interrupted run resumes from its last S3 checkpoint when started again with the same run id)."
  type        = bool
  default     = false
}

variable "root_device_name" {
  description = "Root device of the AMI, where the encrypted gp3 root volume is attached (/dev/sda1 on the Ubuntu Deep Learning AMIs)."
  type        = string
  default     = "/dev/sda1"

  validation {
    condition     = can(regex("^/dev/(sd[a-z][0-9]*|xvd[a-z]+)$", var.root_device_name))
    error_message = "root_device_name must be a block device name such as /dev/sda1 or /dev/xvda."
  }
}

variable "root_volume_size_gb" {
  description = "Size of the encrypted gp3 root volume (the Deep Learning AMI needs at least 75 GB)."
  type        = number
  default     = 100

  validation {
    condition     = var.root_volume_size_gb >= 75 && var.root_volume_size_gb <= 16384
    error_message = "root_volume_size_gb must be between 75 and 16384."
  }
}

variable "subnet_id" {
  description = "Private subnet of the instance."
  type        = string
}

variable "security_group_ids" {
  description = "Security groups of the instance (the network module's security_group_ids[\"trainer\"]: no inbound, so Session Manager only, and HTTPS out to the VPC endpoints and S3 only)."
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) >= 1
    error_message = "security_group_ids must list at least one security group."
  }
  validation {
    condition     = alltrue([for id in var.security_group_ids : can(regex("^sg-[0-9a-f]+$", id))])
    error_message = "security_group_ids must be security group IDs such as sg-0123456789abcdef0."
  }
}

variable "bucket_name" {
  description = "Project bucket: code/, data/ and weights/ are read, ec2-runs/ is read and written (checkpoints, results)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer key encrypting the root volume and the uploaded code."
  type        = string
}

variable "kms_key_project_tag" {
  description = "Value of the Project tag on the project key: the role may use only keys carrying it (aws:ResourceTag/Project), so its policy is known before the key exists."
  type        = string
}

variable "user_data_template" {
  description = "Path of the bootstrap template (ec2/user_data.sh.tftpl), rendered with code_s3_uri, data_s3_uri, weights_s3_uri, output_s3_uri and train_args."
  type        = string
}

variable "code_dirs" {
  description = "Local directories uploaded to s3://<bucket>/code/<key>/ (the repository's training/, src/dogbreed as training/dogbreed, and ec2/)."
  type        = map(string)
  default     = {}
}

variable "data_s3_uri" {
  description = "Dataset location (dogImages layout) inside the project bucket."
  type        = string

  validation {
    condition     = can(regex("^s3://[a-z0-9.-]+/data/.+/$", var.data_s3_uri))
    error_message = "data_s3_uri must be an s3://<bucket>/data/.../ prefix ending with /."
  }
}

variable "train_args" {
  description = "Extra arguments for training/train.py, e.g. --epochs 10 --batch-size 64."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[A-Za-z0-9 ._=,:/-]*$", var.train_args))
    error_message = "train_args may contain only letters, digits, spaces and . _ = , : / - (it is placed in a shell script)."
  }
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
