variable "name" {
  description = "Endpoint name; also prefixes its model, config, role and alarms. Lower-case: AWS stores endpoint names lower-case in ARNs."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9](-*[a-z0-9]){0,50}$", var.name))
    error_message = "name must be 1-51 lower-case letters, digits and hyphens, not starting or ending with a hyphen."
  }
}

variable "model_data_url" {
  description = "S3 URI of model.tar.gz inside the project bucket (written by dogbreed-launch publish)."
  type        = string

  validation {
    condition     = can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\\.tar\\.gz$", var.model_data_url))
    error_message = "model_data_url must be an s3://<bucket>/<key>.tar.gz URI."
  }

  validation {
    condition     = startswith(var.model_data_url, "s3://${var.bucket_name}/")
    error_message = "model_data_url must point into the project bucket: the endpoint role may read nothing else."
  }
}

variable "bucket_name" {
  description = "Project bucket: holds the model artifact; captured requests go to data-capture/<name>/."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer key for the endpoint's storage volume and the captured data."
  type        = string
}

variable "kms_key_project_tag" {
  description = "Value of the Project tag on the project key: the role may use only keys carrying it (aws:ResourceTag/Project), so its policy is known before the key exists."
  type        = string
}

variable "image_repository" {
  description = "SageMaker prebuilt ECR repository of the inference container."
  type        = string
  default     = "pytorch-inference"
}

variable "image_tag" {
  description = "Tag of the inference container; pick the -gpu- variant for ml.g* instances."
  type        = string
  default     = "2.6.0-cpu-py312"
}

variable "variant_name" {
  description = "Name of the production variant."
  type        = string
  default     = "AllTraffic"
}

variable "instance_type" {
  description = "Instance type of the variant. Burstable ml.t* types are refused with autoscaling: their CPU credits run out under sustained load."
  type        = string
  default     = "ml.c5.xlarge"

  validation {
    condition     = can(regex("^ml\\.[a-z0-9]+\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must be a SageMaker instance type such as ml.c5.xlarge."
  }

  validation {
    condition     = !(var.enable_autoscaling && startswith(var.instance_type, "ml.t"))
    error_message = "Burstable ml.t* instance types cannot be autoscaled: choose e.g. ml.c5.xlarge or set enable_autoscaling = false."
  }
}

variable "enable_autoscaling" {
  description = "Track SageMakerVariantInvocationsPerInstance between min_capacity and max_capacity."
  type        = bool
  default     = true
}

variable "min_capacity" {
  description = "Initial and minimum instance count."
  type        = number
  default     = 1

  validation {
    condition     = var.min_capacity >= 1 && floor(var.min_capacity) == var.min_capacity
    error_message = "min_capacity must be a whole number >= 1."
  }
}

variable "max_capacity" {
  description = "Maximum instance count under autoscaling."
  type        = number
  default     = 4

  validation {
    condition     = var.max_capacity >= var.min_capacity && floor(var.max_capacity) == var.max_capacity
    error_message = "max_capacity must be a whole number >= min_capacity."
  }
}

variable "target_invocations_per_instance" {
  description = "Target of SageMakerVariantInvocationsPerInstance (invocations per instance per minute)."
  type        = number
  default     = 100

  validation {
    condition     = var.target_invocations_per_instance > 0 && var.target_invocations_per_instance <= 100000
    error_message = "target_invocations_per_instance must be > 0 and <= 100000."
  }
}

variable "scale_in_cooldown_seconds" {
  description = "Wait after a scale-in before the next one (slow: removing capacity too early drops requests)."
  type        = number
  default     = 300

  validation {
    condition     = var.scale_in_cooldown_seconds >= 0 && var.scale_in_cooldown_seconds <= 3600
    error_message = "scale_in_cooldown_seconds must be between 0 and 3600."
  }
}

variable "scale_out_cooldown_seconds" {
  description = "Wait after a scale-out before the next one (fast: a new instance takes minutes to come up)."
  type        = number
  default     = 60

  validation {
    condition     = var.scale_out_cooldown_seconds >= 0 && var.scale_out_cooldown_seconds <= 3600
    error_message = "scale_out_cooldown_seconds must be between 0 and 3600."
  }
}

variable "data_capture_sampling_percentage" {
  description = "Share of requests and responses captured to S3 (0 disables capture)."
  type        = number
  default     = 20

  validation {
    condition     = var.data_capture_sampling_percentage >= 0 && var.data_capture_sampling_percentage <= 100
    error_message = "data_capture_sampling_percentage must be between 0 and 100."
  }
}

variable "alarm_5xx_errors_per_minute" {
  description = "5XX errors per minute that raise the error alarm."
  type        = number
  default     = 1
}

variable "alarm_model_latency_ms" {
  description = "p90 model latency (ms) that raises the latency alarm."
  type        = number
  default     = 1000

  validation {
    condition     = var.alarm_model_latency_ms > 0
    error_message = "alarm_model_latency_ms must be positive."
  }
}

variable "alarm_actions" {
  description = "ARNs notified when an alarm changes state (e.g. an SNS topic)."
  type        = list(string)
  default     = []
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
