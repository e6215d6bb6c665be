variable "name" {
  description = "Endpoint name; also prefixes its model, config, role and alarms. Lower-case: AWS stores endpoint names lower-case in ARNs."
  type        = string

  # The configuration's name_prefix "<name>-" may be at most 37 characters (hashicorp/aws 5.100 adds a 26-character
  # suffix to reach SageMaker's 63), so names are at most 36 characters.
  validation {
    condition     = length(var.name) <= 36 && can(regex("^[a-z0-9](-*[a-z0-9])*$", var.name))
    error_message = "name must be 1-36 lower-case letters, digits and hyphens, not starting or ending with a hyphen (the endpoint configuration's name_prefix <name>- is limited to 37 characters)."
  }
}

variable "model_data_url" {
  description = "S3 URI of the published model.tar.gz: s3://<bucket>/<published_models_prefix><model_sha256>/model.tar.gz (written by dogbreed-launch publish)."
  type        = string

  validation {
    condition     = can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\\.tar\\.gz$", var.model_data_url))
    error_message = "model_data_url must be an s3://<bucket>/<key>.tar.gz URI."
  }

  validation {
    condition     = startswith(var.model_data_url, "s3://${var.bucket_name}/${var.published_models_prefix}")
    error_message = "model_data_url must be a published artifact, s3://<project bucket>/<published_models_prefix>...: the endpoint role may read nothing else (dogbreed-launch publish writes there)."
  }
}

variable "model_sha256" {
  description = "SHA-256 (hex) of model.tar.gz, recorded by dogbreed-launch publish. Part of the model name, so a different artifact is always a new model and a new endpoint configuration."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.model_sha256))
    error_message = "model_sha256 must be 64 lower-case hex digits (the artifact's SHA-256)."
  }

  validation {
    condition     = var.model_data_url == "s3://${var.bucket_name}/${var.published_models_prefix}${var.model_sha256}/model.tar.gz"
    error_message = "model_data_url must be s3://<bucket_name>/<published_models_prefix><model_sha256>/model.tar.gz: the published key is named after the artifact's hash."
  }
}

variable "published_models_prefix" {
  description = "Bucket prefix of the write-once published artifacts (only dogbreed-launch publish writes there; the bucket policy refuses overwrites). The endpoint role may read every artifact under it, so the previous model stays readable during and after an update."
  type        = string
  default     = "models/published/"

  validation {
    condition     = can(regex("^([a-z0-9_-]+/)+$", var.published_models_prefix))
    error_message = "published_models_prefix must be a key prefix such as models/published/ (lower-case segments, ending with /)."
  }
}

variable "bucket_name" {
  description = "Project bucket: holds the model artifacts; captured requests go to data-capture/<name>/."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name."
  }
}

variable "kms_key_arn" {
  description = "Customer key for the endpoint's storage volume (where AWS accepts one, see README), the captured data and the endpoint's log group."
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
  description = "Name of the production variant (a blue/green update must keep it)."
  type        = string
  default     = "AllTraffic"
}

variable "instance_type" {
  description = "Instance type of the variant (instance mode). Burstable ml.t* types are refused with autoscaling: their CPU credits run out under sustained load."
  type        = string
  default     = "ml.c5.xlarge"

  validation {
    condition     = can(regex("^ml\\.[a-z0-9-]+\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must be a SageMaker instance type such as ml.c5.xlarge."
  }

  validation {
    condition     = !(var.serverless == null && var.enable_autoscaling && startswith(var.instance_type, "ml.t"))
    error_message = "Burstable ml.t* instance types cannot be autoscaled: choose e.g. ml.c5.xlarge or set enable_autoscaling = false."
  }
}

variable "serverless" {
  description = "null: instances (instance_type, capacities, autoscaling). Set: a SageMaker Serverless Inference endpoint with this memory and concurrency, no autoscaling resources. Serverless supports neither network isolation, a VPC, data capture nor a KMS key on the endpoint configuration, and takes at most 4 MB per request (README)."
  type = object({
    memory_size_in_mb                = number
    max_concurrency                  = number
    provisioned_concurrency          = optional(number)
    acknowledge_no_network_isolation = optional(bool, false)
  })
  default = null

  validation {
    condition     = var.serverless == null || contains([1024, 2048, 3072, 4096, 5120, 6144], try(var.serverless.memory_size_in_mb, 0))
    error_message = "serverless.memory_size_in_mb must be one of 1024, 2048, 3072, 4096, 5120, 6144 (1 GB steps, AWS's range)."
  }

  validation {
    condition     = var.serverless == null || try(var.serverless.max_concurrency >= 1 && var.serverless.max_concurrency <= 200 && floor(var.serverless.max_concurrency) == var.serverless.max_concurrency, false)
    error_message = "serverless.max_concurrency must be a whole number from 1 to 200 (AWS's per-endpoint maximum)."
  }

  validation {
    condition     = var.serverless == null || try(var.serverless.provisioned_concurrency == null, false) || try(var.serverless.provisioned_concurrency >= 1 && var.serverless.provisioned_concurrency <= var.serverless.max_concurrency && floor(var.serverless.provisioned_concurrency) == var.serverless.provisioned_concurrency, false)
    error_message = "serverless.provisioned_concurrency must be a whole number from 1 to max_concurrency (AWS: less than or equal to MaxConcurrency)."
  }

  validation {
    condition     = var.serverless == null || try(var.serverless.acknowledge_no_network_isolation, false)
    error_message = "Serverless Inference supports neither network isolation nor a VPC (AWS), so the model container may reach the internet. Set serverless.acknowledge_no_network_isolation = true to accept that, or serve on instances (serverless = null)."
  }

  validation {
    condition     = var.serverless == null || var.data_capture_sampling_percentage == 0
    error_message = "Serverless Inference does not support data capture (AWS): set data_capture_sampling_percentage = 0 with serverless."
  }
}

variable "enable_autoscaling" {
  description = "Instance mode: track SageMakerVariantInvocationsPerInstance between min_capacity and max_capacity."
  type        = bool
  default     = true
}

variable "min_capacity" {
  description = "Minimum instance count. 2 by default: one instance is a single point of failure (AWS Config rule sagemaker-endpoint-config-prod-instance-count), and canary or linear traffic shifting needs at least 2 instances."
  type        = number
  default     = 2

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

variable "initial_instance_count" {
  description = "Instances of every new fleet. SageMaker sizes the new fleet of an update from this value, not from the count autoscaling reached (the provider cannot send RetainAllVariantProperties), so set it to the busy-hour count. null: min_capacity."
  type        = number
  default     = null

  validation {
    condition     = var.initial_instance_count == null || try(floor(var.initial_instance_count) == var.initial_instance_count && var.initial_instance_count >= var.min_capacity && var.initial_instance_count <= var.max_capacity, false)
    error_message = "initial_instance_count must be a whole number between min_capacity and max_capacity (or null for min_capacity)."
  }
}

variable "deployment" {
  description = "Blue/green update of an instance endpoint: traffic_routing ALL_AT_ONCE, CANARY (step_instances first, then the rest) or LINEAR (step_instances at a time); wait_interval_seconds of baking after each shift, during which the rollback alarms can roll the update back; termination_wait_seconds before the old fleet goes. A serverless endpoint always shifts ALL_AT_ONCE."
  type = object({
    traffic_routing                   = optional(string, "CANARY")
    step_instances                    = optional(number, 1)
    wait_interval_seconds             = optional(number, 600)
    termination_wait_seconds          = optional(number, 300)
    maximum_execution_timeout_seconds = optional(number, 3600)
  })
  default = {}

  validation {
    condition     = contains(["ALL_AT_ONCE", "CANARY", "LINEAR"], var.deployment.traffic_routing)
    error_message = "deployment.traffic_routing must be ALL_AT_ONCE, CANARY or LINEAR."
  }

  validation {
    condition     = var.deployment.step_instances >= 1 && floor(var.deployment.step_instances) == var.deployment.step_instances
    error_message = "deployment.step_instances must be a whole number >= 1."
  }

  validation {
    condition     = var.deployment.wait_interval_seconds >= 0 && var.deployment.wait_interval_seconds <= 3600 && var.deployment.termination_wait_seconds >= 0 && var.deployment.termination_wait_seconds <= 3600
    error_message = "deployment.wait_interval_seconds and termination_wait_seconds must be between 0 and 3600 (AWS's range)."
  }

  validation {
    condition     = var.deployment.maximum_execution_timeout_seconds >= 600 && var.deployment.maximum_execution_timeout_seconds <= 14400
    error_message = "deployment.maximum_execution_timeout_seconds must be between 600 and 14400 (the provider's range; the API allows up to 28800)."
  }

  # AWS: CanarySize "must be less than or equal to 50% of the variant's total instance count";
  # LinearStepSize "must be 10-50% of the variant's total instance count". The new fleet has
  # initial_instance_count instances (null: min_capacity).
  validation {
    condition     = var.serverless != null || var.deployment.traffic_routing != "CANARY" || var.deployment.step_instances * 2 <= coalesce(var.initial_instance_count, var.min_capacity)
    error_message = "CANARY: step_instances must be at most half of the new fleet (initial_instance_count, else min_capacity); a canary needs a fleet of at least 2."
  }

  validation {
    condition     = var.serverless != null || var.deployment.traffic_routing != "LINEAR" || (var.deployment.step_instances * 2 <= coalesce(var.initial_instance_count, var.min_capacity) && var.deployment.step_instances * 10 >= coalesce(var.initial_instance_count, var.min_capacity))
    error_message = "LINEAR: step_instances must be 10-50% of the new fleet (initial_instance_count, else min_capacity); linear shifting needs a fleet of at least 2."
  }

  # AWS: MaximumExecutionTimeoutInSeconds "should be larger than the total waiting time specified in
  # TerminationWaitInSeconds and WaitIntervalInSeconds" (one wait per traffic step).
  validation {
    condition = var.deployment.maximum_execution_timeout_seconds > var.deployment.termination_wait_seconds + var.deployment.wait_interval_seconds * (
      var.serverless == null && var.deployment.traffic_routing == "LINEAR" ? ceil(coalesce(var.initial_instance_count, var.min_capacity) / var.deployment.step_instances) : var.serverless == null && var.deployment.traffic_routing == "CANARY" ? 2 : 1
    )
    error_message = "deployment.maximum_execution_timeout_seconds must exceed termination_wait_seconds plus wait_interval_seconds for every traffic step."
  }
}

variable "post_deploy_check" {
  description = "After every deployment, run `command` (the package's dogbreed-check-endpoint) where Terraform runs: it fails the apply unless the endpoint is InService on the configuration Terraform created, with no FailureReason, the artifact's S3 SHA-256 checksum matches model_sha256 and (smoke) a generated image gets a prediction. A failed check also keeps the previous configuration and model (Terraform destroys them only after it)."
  type = object({
    enable  = optional(bool, true)
    command = optional(string, "dogbreed-check-endpoint")
    smoke   = optional(bool, true)
  })
  default = {}

  validation {
    condition     = can(regex("^[A-Za-z0-9_./-]+( [A-Za-z0-9_./=-]+)*$", var.post_deploy_check.command))
    error_message = "post_deploy_check.command must be a program path and plain arguments (letters, digits, _ . / - =), no shell syntax."
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
  description = "Share of requests and responses captured to S3 (0 disables capture; must be 0 with serverless)."
  type        = number
  default     = 20

  validation {
    condition     = var.data_capture_sampling_percentage >= 0 && var.data_capture_sampling_percentage <= 100
    error_message = "data_capture_sampling_percentage must be between 0 and 100."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the endpoint's log group /aws/sagemaker/Endpoints/<name>."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be a retention period CloudWatch Logs accepts."
  }
}

variable "alarm_5xx_errors_per_minute" {
  description = "5XX errors per minute that raise the error alarm (a rollback alarm)."
  type        = number
  default     = 1

  validation {
    condition     = var.alarm_5xx_errors_per_minute >= 1
    error_message = "alarm_5xx_errors_per_minute must be at least 1."
  }
}

variable "alarm_model_latency_ms" {
  description = "p90 model latency (ms) that raises the latency alarm (a rollback alarm)."
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
