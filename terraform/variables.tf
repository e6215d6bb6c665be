variable "region" {
  description = "AWS region of the whole stack."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region code such as eu-west-1."
  }
}

variable "name" {
  description = "Project name: prefix of every resource, SageMaker job names (<name>-*) and the KMS alias."
  type        = string
  default     = "dogbreed"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}[a-z0-9]$", var.name))
    error_message = "name must be 3-22 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "model_data_url" {
  description = "S3 URI of the published model.tar.gz, s3://<project bucket>/models/published/<model_sha256>/model.tar.gz (terraform/model.auto.tfvars.json, written by dogbreed-launch publish). null: no endpoint and no prediction API yet."
  type        = string
  default     = null

  validation {
    condition     = var.model_data_url == null || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/models/published/[0-9a-f]{64}/model\\.tar\\.gz$", var.model_data_url))
    error_message = "model_data_url must be a published artifact, s3://<project bucket>/models/published/<sha256>/model.tar.gz: run dogbreed-launch publish."
  }
}

variable "model_sha256" {
  description = "SHA-256 of the published model.tar.gz (terraform/model.auto.tfvars.json, recorded by dogbreed-launch publish); part of the endpoint's model name."
  type        = string
  default     = null

  validation {
    condition     = (var.model_sha256 == null) == (var.model_data_url == null)
    error_message = "model_sha256 and model_data_url come together (dogbreed-launch publish writes both)."
  }

  validation {
    condition     = var.model_sha256 == null || can(regex("^[0-9a-f]{64}$", var.model_sha256))
    error_message = "model_sha256 must be 64 lower-case hex digits."
  }

  validation {
    condition     = var.model_sha256 == null || try(endswith(var.model_data_url, "/models/published/${var.model_sha256}/model.tar.gz"), false)
    error_message = "model_data_url must be the published key of model_sha256: .../models/published/<model_sha256>/model.tar.gz."
  }
}

variable "autoscaling_invocations_per_instance" {
  description = "Target invocations per instance per minute (terraform/autoscaling.auto.tfvars.json, from the endpoint capacity benchmark). null: a conservative 100."
  type        = number
  default     = null

  validation {
    condition     = var.autoscaling_invocations_per_instance == null ? true : var.autoscaling_invocations_per_instance > 0 && var.autoscaling_invocations_per_instance <= 100000
    error_message = "autoscaling_invocations_per_instance must be > 0 and <= 100000."
  }
}

variable "endpoint" {
  description = "Endpoint sizing, model updates and alarms (terraform/modules/endpoint: variables of the same names). serverless set: a Serverless Inference endpoint instead of instances."
  type = object({
    instance_type                    = optional(string, "ml.c5.xlarge")
    image_tag                        = optional(string, "2.6.0-cpu-py312")
    enable_autoscaling               = optional(bool, true)
    min_capacity                     = optional(number, 2)
    max_capacity                     = optional(number, 4)
    initial_instance_count           = optional(number) # null: min_capacity; set to the busy-hour count
    data_capture_sampling_percentage = optional(number, 20)
    alarm_model_latency_ms           = optional(number, 1000)
    log_retention_in_days            = optional(number, 365)
    deployment = optional(object({
      traffic_routing                   = optional(string, "CANARY")
      step_instances                    = optional(number, 1)
      wait_interval_seconds             = optional(number, 600)
      termination_wait_seconds          = optional(number, 300)
      maximum_execution_timeout_seconds = optional(number, 3600)
    }), {})
    serverless = optional(object({
      memory_size_in_mb                = number
      max_concurrency                  = number
      provisioned_concurrency          = optional(number)
      acknowledge_no_network_isolation = optional(bool, false)
    }))
    post_deploy_check = optional(object({
      enable  = optional(bool, true)
      command = optional(string, "dogbreed-check-endpoint")
      smoke   = optional(bool, true)
    }), {})
  })
  default = {}
}

variable "predict_api" {
  description = "Prediction Lambda settings."
  type = object({
    package_path              = optional(string) # null: <repository>/build/predict_lambda.zip
    top_k                     = optional(number, 5)
    max_image_bytes           = optional(number, 4194304)
    allowed_url_hosts         = optional(list(string), [])
    reserved_concurrency      = optional(number, 5)
    provisioned_concurrency   = optional(number, 2)
    function_url_auth_type    = optional(string, "AWS_IAM")
    function_url_invoker_arns = optional(list(string), [])
  })
  default = {}
}

variable "notebook_instance_type" {
  description = "Instance type of the notebook that launches training and tuning jobs."
  type        = string
  default     = "ml.t3.medium"
}

variable "ec2_trainer" {
  description = "Optional EC2 GPU trainer: a launch template only. A run starts when a person runs `dogbreed-launch ec2-run --run-id <id>` (the same id resumes from its S3 checkpoints); no apply ever launches one, and the instance terminates itself when training ends."
  type = object({
    create           = optional(bool, false)
    instance_type    = optional(string, "g4dn.xlarge")
    ami_id           = optional(string) # null: the current Deep Learning AMI from AWS's public SSM parameter
    root_device_name = optional(string, "/dev/sda1")
    use_spot         = optional(bool, false)
    data_prefix      = optional(string, "data/dogImages/")
    train_args       = optional(string, "")
  })
  default = {}
}

variable "alarm_actions" {
  description = "ARNs (e.g. an SNS topic) notified by the endpoint alarms."
  type        = list(string)
  default     = []
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of every role the stack creates. null: <name>-workload-boundary of this account, the managed policy terraform/bootstrap creates (the CI apply role may create roles only with it)."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/[A-Za-z0-9+=,.@_/-]+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be an IAM managed policy ARN."
  }
}

variable "code_writer_role_arns" {
  description = "Roles that may write or delete s3://<bucket>/code/ besides the CI apply role <name>-github-apply, which always may: the operators who upload the notebook's kernel bundle (code/notebook/; their policy is output operator_policy_json) or apply the EC2 trainer from a workstation. code/ is what the trainer and the notebook's kernel run; the bucket policy denies every other principal."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.code_writer_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", arn))])
    error_message = "code_writer_role_arns must list IAM role ARNs."
  }
}

variable "tags" {
  description = "Tags applied to every resource through the provider's default_tags."
  type        = map(string)
  default     = {}
}

variable "allow_destroy_data" {
  description = "Let `terraform destroy` delete the data bucket with every object and object version in it (force_destroy) and schedule the key's deletion after AWS's shortest window (7 days instead of 30). Apply once with true before destroying: the provider reads force_destroy from the state. false: destroy stops at a bucket that holds data, and keeps the bucket and its key."
  type        = bool
  default     = false
}

variable "budget" {
  description = "Monthly AWS Budgets cost budget over the resources tagged Project = <name> (the Project tag must be an active cost allocation tag). Alerts go to alert_emails and alert_sns_topic_arns (none: the budget tracks, nothing alerts) when actual costs pass alert_threshold_percent of monthly_limit_usd, and when forecasted costs pass the limit. Set the limit from `dogbreed-bill --var-file <your tfvars>`: the default 600 USD is the default stack's always-on cost (docs/bill.md) with room for its traffic, so its 80% alert stays quiet while the default stack idles."
  type = object({
    create                       = optional(bool, true)
    monthly_limit_usd            = optional(number, 600)
    alert_threshold_percent      = optional(number, 80)
    forecast_alert               = optional(bool, true)
    alert_emails                 = optional(list(string), [])
    alert_sns_topic_arns         = optional(list(string), [])
    activate_cost_allocation_tag = optional(bool, false)
  })
  default = {}
}
