variable "name" {
  description = "Notebook instance name; also prefixes its role and lifecycle configuration."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9](-*[a-z0-9]){0,62}$", var.name))
    error_message = "name must be lower-case letters, digits and hyphens (SageMaker stores job ARNs lower-case)."
  }
}

variable "job_name_prefix" {
  description = "Training and tuning jobs the notebook may create, describe and stop are named <job_name_prefix>-*."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9](-*[a-z0-9]){0,40}$", var.job_name_prefix))
    error_message = "job_name_prefix must be lower-case letters, digits and hyphens (SageMaker job ARNs are lower-case)."
  }
}

variable "instance_type" {
  description = "Notebook instance type. The notebook only launches jobs, so a small burstable type is enough."
  type        = string
  default     = "ml.t3.medium"

  validation {
    condition     = can(regex("^ml\\.[a-z0-9]+\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must be a SageMaker instance type such as ml.t3.medium."
  }
}

variable "subnet_id" {
  description = "Private subnet of the notebook's network interface."
  type        = string
}

variable "security_group_ids" {
  description = "Security groups of the notebook's network interface (the network module's security_group_ids[\"notebook\"]: no inbound, HTTPS out to the VPC endpoints and S3 only)."
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) >= 1 && length(var.security_group_ids) <= 5
    error_message = "security_group_ids must list 1 to 5 security groups (CreateNotebookInstance accepts at most 5)."
  }
  validation {
    condition     = alltrue([for id in var.security_group_ids : can(regex("^sg-[0-9a-f]+$", id))])
    error_message = "security_group_ids must be security group IDs such as sg-0123456789abcdef0."
  }
}

variable "kms_key_arn" {
  description = "Customer key encrypting the notebook's storage volume."
  type        = string
}

variable "kms_key_project_tag" {
  description = "Value of the Project tag on the project key: the role may use only keys carrying it (aws:ResourceTag/Project), so its policy is known before the key exists."
  type        = string
}

variable "bucket_name" {
  description = "Project bucket the notebook reads and writes (project prefixes only)."
  type        = string
}

variable "training_role_arn" {
  description = "The only role the notebook may pass to SageMaker."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.training_role_arn))
    error_message = "training_role_arn must be an IAM role ARN."
  }
}

variable "training_subnet_ids" {
  description = "Private subnets the notebook's training and tuning jobs must run in (sagemaker:VpcSubnets); also written into the launcher's settings on the instance."
  type        = list(string)

  validation {
    condition     = length(var.training_subnet_ids) >= 1 && length(var.training_subnet_ids) <= 16
    error_message = "training_subnet_ids must list 1 to 16 subnets (VpcConfig.Subnets)."
  }
  validation {
    condition     = alltrue([for id in var.training_subnet_ids : can(regex("^subnet-[0-9a-z]+$", id))])
    error_message = "training_subnet_ids must be subnet IDs such as subnet-0123456789abcdef0."
  }
}

variable "training_security_group_ids" {
  description = "Security groups the notebook's training and tuning jobs must use (sagemaker:VpcSecurityGroupIds)."
  type        = list(string)

  validation {
    condition     = length(var.training_security_group_ids) >= 1 && length(var.training_security_group_ids) <= 5
    error_message = "training_security_group_ids must list 1 to 5 security groups (VpcConfig.SecurityGroupIds)."
  }
  validation {
    condition     = alltrue([for id in var.training_security_group_ids : can(regex("^sg-[0-9a-z]+$", id))])
    error_message = "training_security_group_ids must be security group IDs such as sg-0123456789abcdef0."
  }
}

variable "training_instance_types" {
  description = "Instance types the notebook may start jobs on (sagemaker:InstanceTypes patterns), split by AWS's KMS rule: ebs_only types must carry the stack's volume key, local_storage types (NVMe instance storage, encrypted by the instance) must carry none (CreateTrainingJob refuses it)."
  type = object({
    ebs_only      = optional(list(string), ["ml.m5.*", "ml.c5.*", "ml.m6i.*", "ml.c6i.*", "ml.p3.*"])
    local_storage = optional(list(string), ["ml.g4dn.*", "ml.g5.*", "ml.g6.*", "ml.g6e.*", "ml.p3dn.*", "ml.p4d.*", "ml.p4de.*", "ml.p5.*"])
  })
  default = {}

  validation {
    condition     = alltrue([for t in concat(var.training_instance_types.ebs_only, var.training_instance_types.local_storage) : can(regex("^ml\\.[a-z0-9-]+\\.(\\*|[0-9a-z]+)$", t))])
    error_message = "training_instance_types entries must be ml.<family>.<size> or ml.<family>.*."
  }
  validation {
    condition     = length(setintersection(var.training_instance_types.ebs_only, var.training_instance_types.local_storage)) == 0
    error_message = "An instance type cannot be both ebs_only and local_storage."
  }
  validation {
    condition     = length(var.training_instance_types.ebs_only) + length(var.training_instance_types.local_storage) >= 1
    error_message = "training_instance_types must allow at least one instance type."
  }
}

variable "code_s3_prefix" {
  description = "Where the lifecycle configuration finds the launcher's code and wheelhouse (dogbreed-build-notebook-bundle uploads them): s3://<bucket>/<code_s3_prefix>{dogbreed-mlops.tar.gz,wheels/}."
  type        = string
  default     = "code/notebook/"

  validation {
    condition     = can(regex("^code/([a-z0-9._-]+/)*$", var.code_s3_prefix))
    error_message = "code_s3_prefix must be a folder under code/ ending with / (the notebook role reads only that folder of code/, which only the code writers may change)."
  }
}

variable "kernel_base_python" {
  description = "Interpreter the launcher's kernel environment is created from (python -m venv); the platform's conda python3 environment by default. Its major.minor must match the wheelhouse (the lifecycle log says so when it does not)."
  type        = string
  default     = "/home/ec2-user/anaconda3/envs/python3/bin/python"

  validation {
    condition     = startswith(var.kernel_base_python, "/")
    error_message = "kernel_base_python must be an absolute path."
  }
}

variable "volume_size_gb" {
  description = "Size of the notebook's ML storage volume."
  type        = number
  default     = 20

  validation {
    condition     = var.volume_size_gb >= 5 && var.volume_size_gb <= 16384
    error_message = "volume_size_gb must be between 5 and 16384."
  }
}

variable "platform_identifier" {
  description = "Notebook platform (Amazon Linux 2, JupyterLab 4)."
  type        = string
  default     = "notebook-al2-v3"
}

variable "idle_minutes_before_stop" {
  description = "The lifecycle configuration stops the instance after this many minutes without kernel activity."
  type        = number
  default     = 60

  validation {
    condition     = var.idle_minutes_before_stop >= 10 && var.idle_minutes_before_stop <= 1440
    error_message = "idle_minutes_before_stop must be between 10 and 1440."
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
