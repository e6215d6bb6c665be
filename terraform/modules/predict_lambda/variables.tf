variable "function_name" {
  description = "Name of the function, its role and its log group."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1-64 letters, digits, hyphens or underscores."
  }
}

variable "package_path" {
  description = "Deterministic deployment zip built outside Terraform (build/predict_lambda.zip)."
  type        = string

  validation {
    condition     = endswith(var.package_path, ".zip")
    error_message = "package_path must be a .zip file."
  }
}

variable "endpoint_name" {
  description = "SageMaker endpoint the function invokes (ENDPOINT_NAME)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9](-*[a-z0-9]){0,62}$", var.endpoint_name))
    error_message = "endpoint_name must be lower-case letters, digits and hyphens (AWS stores endpoint ARNs lower-case)."
  }
}

variable "runtime" {
  description = "Python runtime of the function."
  type        = string
  default     = "python3.13"

  validation {
    condition     = contains(["python3.12", "python3.13"], var.runtime)
    error_message = "runtime must be python3.12 or python3.13."
  }
}

variable "memory_size" {
  description = "Memory (MB); also scales the CPU share that decodes images."
  type        = number
  default     = 512

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240."
  }
}

variable "endpoint_client" {
  description = "The handler's boto3 settings for InvokeEndpoint (ENDPOINT_CONNECT_TIMEOUT_S, ENDPOINT_READ_TIMEOUT_S, ENDPOINT_MAX_ATTEMPTS, per attempt; attempts include the first); the function timeout is derived from them."
  type = object({
    connect_timeout_s = optional(number, 2)
    read_timeout_s    = optional(number, 20)
    max_attempts      = optional(number, 2)
  })
  default = {}

  validation {
    condition     = var.endpoint_client.max_attempts >= 1 && var.endpoint_client.max_attempts <= 5 && floor(var.endpoint_client.max_attempts) == var.endpoint_client.max_attempts
    error_message = "endpoint_client.max_attempts must be a whole number between 1 and 5."
  }
  validation {
    condition     = var.endpoint_client.connect_timeout_s >= 0.1 && var.endpoint_client.connect_timeout_s <= 60
    error_message = "endpoint_client.connect_timeout_s must be between 0.1 and 60 seconds."
  }
  validation {
    condition     = var.endpoint_client.read_timeout_s >= 0.1 && var.endpoint_client.read_timeout_s <= 900
    error_message = "endpoint_client.read_timeout_s must be between 0.1 and 900 seconds."
  }
}

variable "url_fetch_deadline_s" {
  description = "The handler's deadline for downloading an image from an allowed URL (URL_FETCH_DEADLINE_S)."
  type        = number
  default     = 5

  validation {
    condition     = var.url_fetch_deadline_s >= 0.1 && var.url_fetch_deadline_s <= 60
    error_message = "url_fetch_deadline_s must be between 0.1 and 60 seconds."
  }
}

variable "powertools_layer_version" {
  description = "Version of the AWS-managed layer AWSLambdaPowertoolsPythonV3-<runtime>-arm64. Layer 27 holds Powertools for AWS Lambda (Python) 3.24.0, the release requirements/dev.txt pins for the tests: change the two together."
  type        = number
  default     = 27

  validation {
    condition     = var.powertools_layer_version >= 1 && floor(var.powertools_layer_version) == var.powertools_layer_version
    error_message = "powertools_layer_version must be a published layer version: a whole number >= 1."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the function's EMF metrics (POWERTOOLS_METRICS_NAMESPACE); the service dimension is the function name."
  type        = string
  default     = "DogBreed"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 of A-Z a-z 0-9 . - _ / # : and not start with AWS/ (reserved for AWS services)."
  }
}

variable "timeout_headroom_s" {
  description = "Seconds added to the handler's worst case for validation, image decoding and the response."
  type        = number
  default     = 9

  validation {
    condition     = var.timeout_headroom_s >= 0
    error_message = "timeout_headroom_s must not be negative."
  }
}

variable "timeout" {
  description = "Function timeout in seconds; null derives it from endpoint_client (60 s with the defaults)."
  type        = number
  default     = null

  validation {
    condition     = var.timeout == null ? true : var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be between 1 and 900 seconds."
  }
}

variable "reserved_concurrency" {
  description = "Concurrency reserved for (and capping) the function; protects the endpoint from a flood."
  type        = number
  default     = 5

  validation {
    condition     = var.reserved_concurrency >= 1
    error_message = "reserved_concurrency must be >= 1 (0 would disable the function)."
  }
}

variable "provisioned_concurrency" {
  description = "Pre-initialised environments on the live alias (0 disables)."
  type        = number
  default     = 2

  validation {
    condition     = var.provisioned_concurrency >= 0 && var.provisioned_concurrency <= var.reserved_concurrency
    error_message = "provisioned_concurrency must be between 0 and reserved_concurrency."
  }
}

variable "top_k" {
  description = "Number of breeds returned (TOP_K)."
  type        = number
  default     = 5

  validation {
    condition     = var.top_k >= 1 && var.top_k <= 133
    error_message = "top_k must be between 1 and 133 (the number of breeds)."
  }
}

variable "max_image_bytes" {
  description = "Largest accepted image (MAX_IMAGE_BYTES). A synchronous invocation carries at most 6 MB (6,291,456 bytes) of event, and a Function URL delivers images base64-encoded (4 bytes per 3) inside it: with 32 KiB budgeted for the event's envelope (headers, requestContext, SigV4 session token), the ceiling is (6,291,456 - 32,768) / 4 * 3 = 4,694,016 bytes (dogbreed.predict_api.settings.MAX_IMAGE_BYTES_CEILING)."
  type        = number
  default     = 4194304

  validation {
    condition     = var.max_image_bytes >= 1024 && var.max_image_bytes <= 4694016
    error_message = "max_image_bytes must be between 1,024 and 4,694,016 bytes: base64 of a larger image plus the event envelope does not fit Lambda's 6 MB synchronous payload."
  }
}

variable "endpoint_max_request_bytes" {
  description = "Largest InvokeEndpoint body the endpoint takes (ENDPOINT_MAX_REQUEST_BYTES): 6,291,456 for instance endpoints (botocore: Body max 6291456), 4,000,000 for serverless ones (AWS: 4 MB). Requests whose raw image or JSON form (base64, for top_k above 5) exceed it get 413 from the function instead of a ValidationError from the endpoint."
  type        = number
  default     = 6291456

  validation {
    condition     = var.endpoint_max_request_bytes >= 1024 && var.endpoint_max_request_bytes <= 6291456 && floor(var.endpoint_max_request_bytes) == var.endpoint_max_request_bytes
    error_message = "endpoint_max_request_bytes must be a whole number of bytes between 1,024 and 6,291,456 (InvokeEndpoint's limit)."
  }
}

variable "allowed_url_hosts" {
  description = "Hosts the handler may fetch image URLs from (ALLOWED_URL_HOSTS, comma-joined); empty disables URL input."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for host in var.allowed_url_hosts : can(regex("^[a-z0-9.-]+(:[0-9]{1,5})?$", host))])
    error_message = "allowed_url_hosts must be lower-case host or host:port entries (no scheme, path or wildcard)."
  }
}

variable "function_url_auth_type" {
  description = "Auth of the Function URL: AWS_IAM (SigV4-signed callers) or NONE (public; only if you add your own auth)."
  type        = string
  default     = "AWS_IAM"

  validation {
    condition     = contains(["AWS_IAM", "NONE"], var.function_url_auth_type)
    error_message = "function_url_auth_type must be AWS_IAM or NONE."
  }
}

variable "function_url_invoker_arns" {
  description = "IAM principals (account or role ARNs) granted lambda:InvokeFunctionUrl (with the URL's auth type) and lambda:InvokeFunction on the live alias: a caller of an AWS_IAM Function URL needs both."
  type        = list(string)
  default     = []
}

variable "log_retention_in_days" {
  description = "Retention of the function's log group."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be a retention period CloudWatch Logs accepts."
  }
}

variable "kms_key_arn" {
  description = "Customer key for the environment variables and the log group."
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
