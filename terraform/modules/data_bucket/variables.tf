variable "name" {
  description = "Project name: prefix of the bucket name and the KMS alias (alias/<name>)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lower-case letters, digits or hyphens, starting and ending with a letter or digit."
  }
}

variable "bucket_name" {
  description = "Bucket name; null derives <name>-<account id>-<region>, unique per account and region."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)."
  }
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete a bucket that still holds objects. Keep false outside throwaway stacks."
  type        = bool
  default     = false
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which overwritten or deleted object versions are removed."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && var.noncurrent_version_expiration_days <= 3650
    error_message = "noncurrent_version_expiration_days must be between 1 and 3650."
  }
}

variable "prefix_expiration_days" {
  description = "Prefix (ending in /) => days after which its objects expire, e.g. checkpoints and captured requests."
  type        = map(number)
  default = {
    "checkpoints/"  = 30
    "data-capture/" = 90
  }

  validation {
    condition     = alltrue([for prefix, days in var.prefix_expiration_days : endswith(prefix, "/") && days >= 1])
    error_message = "Every prefix must end with / and expire after at least 1 day."
  }
}

variable "write_once_prefixes" {
  description = "Prefixes (ending in /) whose objects are write-once: the bucket policy refuses every PutObject without If-None-Match: * (S3 conditional writes, so an existing key is never overwritten) and every plain DeleteObject (a delete marker would free the key). dogbreed-launch publish writes models/published/<sha256>/model.tar.gz that way."
  type        = list(string)
  default     = ["models/published/"]

  validation {
    condition     = alltrue([for prefix in var.write_once_prefixes : can(regex("^([a-z0-9_-]+/)+$", prefix))])
    error_message = "Every write-once prefix must be lower-case key segments ending with /, e.g. models/published/."
  }
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before the customer key is deleted (AWS allows 7-30)."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30
    error_message = "kms_deletion_window_in_days must be between 7 and 30."
  }
}

variable "log_group_names" {
  description = "Log groups whose data CloudWatch Logs may encrypt with the key (kms:EncryptionContext:aws:logs:arn); [] leaves the Logs statement out of the key policy."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for name in var.log_group_names : can(regex("^[A-Za-z0-9_/.#-]{1,512}$", name)) && !strcontains(name, "*")])
    error_message = "log_group_names must be exact CloudWatch Logs group names (no wildcards)."
  }
}

variable "prefix_writer_arns" {
  description = "Prefix (ending in /) => the only IAM role ARNs that may write or delete objects under it; the bucket policy denies every other principal (aws:PrincipalArn). The project stack protects code/, which the EC2 trainer runs as root."
  type        = map(list(string))
  default     = {}

  validation {
    condition     = alltrue([for prefix, writers in var.prefix_writer_arns : can(regex("^[a-z0-9-]+/$", prefix)) && length(writers) >= 1 && alltrue([for arn in writers : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", arn))])])
    error_message = "prefix_writer_arns keys must be lower-case top-level prefixes ending in / and each must list at least one IAM role ARN."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
