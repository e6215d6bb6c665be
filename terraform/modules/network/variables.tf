variable "name" {
  description = "Prefix for every network resource name."
  type        = string
}

variable "cidr_block" {
  description = "IPv4 CIDR of the VPC; private subnets are /4 slices of it."
  type        = string
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.cidr_block))
    error_message = "cidr_block must be an IPv4 CIDR block such as 10.42.0.0/16."
  }
}

variable "availability_zones" {
  description = "Availability zones of the private subnets, one subnet each; null uses zones a and b of the region."
  type        = list(string)
  default     = null

  validation {
    condition     = var.availability_zones == null ? true : length(var.availability_zones) >= 1 && length(var.availability_zones) <= 6
    error_message = "availability_zones must list 1 to 6 zones."
  }
}

variable "interface_endpoint_services" {
  description = "AWS services reached through interface endpoints (suffix of com.amazonaws.<region>.<service>)."
  type        = list(string)
  default     = ["sagemaker.api", "sagemaker.runtime", "sts", "logs", "monitoring", "ssm", "ssmmessages", "ec2messages"]
}

variable "workload_security_groups" {
  description = "Security groups of the workloads in the private subnets, by workload key (e.g. notebook, trainer). Each has no inbound rule and allows only HTTPS out to the interface endpoints and S3; enable_self_traffic adds all traffic to and from members of the same group (multi-node training). name null: <name>-<key>."
  type = map(object({
    name                = optional(string)
    description         = string
    enable_self_traffic = optional(bool, false)
  }))
  default = {}

  validation {
    condition     = alltrue([for key in keys(var.workload_security_groups) : can(regex("^[a-z][a-z0-9-]{0,62}$", key))])
    error_message = "workload_security_groups keys must be lower-case letters, digits and hyphens, starting with a letter."
  }
  validation {
    condition     = alltrue([for group in values(var.workload_security_groups) : group.name == null ? true : can(regex("^[a-zA-Z0-9 ._:/()#,@+=&;{}!$*\\[\\]-]{1,255}$", group.name)) && !startswith(group.name, "sg-")])
    error_message = "A security group name must be 1-255 of a-z A-Z 0-9 space ._-:/()#,@[]+=&;{}!$* and must not start with sg- (EC2 CreateSecurityGroup)."
  }
  validation {
    condition     = alltrue([for group in values(var.workload_security_groups) : can(regex("^[a-zA-Z0-9 ._:/()#,@+=&;{}!$*\\[\\]-]{1,255}$", group.description))])
    error_message = "A security group description must be 1-255 of a-z A-Z 0-9 space ._-:/()#,@[]+=&;{}!$* (EC2 CreateSecurityGroup)."
  }
}

variable "s3_endpoint_bucket_arns" {
  description = "Buckets of this account that principals of this account may use through the S3 gateway endpoint (the project bucket). Every other bucket is refused at the endpoint, except the AWS-owned objects of s3_endpoint_aws_owned_object_arns."
  type        = list(string)

  validation {
    condition     = length(var.s3_endpoint_bucket_arns) >= 1 && alltrue([for arn in var.s3_endpoint_bucket_arns : can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", arn))])
    error_message = "s3_endpoint_bucket_arns must list at least one bucket ARN (arn:<partition>:s3:::<bucket>, no wildcard, no key)."
  }
}

variable "s3_endpoint_aws_owned_object_arns" {
  description = "AWS-owned S3 objects that anything in the VPC may GET through the S3 gateway endpoint (agents and package managers fetch them without project credentials). null: the Systems Manager agent's buckets and the Amazon Linux 2 repositories of the region (main.tf says why each). Add e.g. arn:aws:s3:::prod-<region>-starport-layer-bucket/* with an ECR endpoint."
  type        = list(string)
  default     = null

  validation {
    condition     = var.s3_endpoint_aws_owned_object_arns == null ? true : alltrue([for arn in var.s3_endpoint_aws_owned_object_arns : can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.*$", arn))])
    error_message = "s3_endpoint_aws_owned_object_arns must be object ARNs of named buckets (arn:<partition>:s3:::<bucket>/<key pattern>)."
  }
}

variable "kms_key_arn" {
  description = "Customer key encrypting the flow-log group."
  type        = string
}

variable "flow_log_retention_in_days" {
  description = "Retention of the VPC flow logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_in_days)
    error_message = "flow_log_retention_in_days must be a retention period CloudWatch Logs accepts."
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
