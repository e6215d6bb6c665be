data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  policies      = "${path.module}/../../../policies"
  arn_prefix    = "arn:${data.aws_partition.current.partition}"
  log_group     = "/aws/lambda/${var.function_name}"
  log_group_arn = "${local.arn_prefix}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:${local.log_group}"
  endpoint_arn  = "${local.arn_prefix}:sagemaker:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:endpoint/${lower(var.endpoint_name)}"

  # Worst case of one request inside the handler: every attempt waits for connect and read timeouts, plus the
  # standard-mode backoff between attempts (at most 1 s, then 2 s: base 1 s doubling, full jitter), plus time
  # to decode the image and answer. 3 attempts x (2 s + 20 s) + (1 + 2) s + 5 s = 74 s.
  client                = var.endpoint_client
  retry_backoff_bound_s = sum([for attempt in range(1, local.client.max_attempts) : min(pow(2, attempt - 1), 20)])
  worst_case_s          = local.client.max_attempts * (local.client.connect_timeout_s + local.client.read_timeout_s) + local.retry_backoff_bound_s + var.handler_overhead_s
  timeout_s             = coalesce(var.timeout, ceil(local.worst_case_s))
}

resource "aws_lambda_function" "this" {
  function_name                  = var.function_name
  description                    = "Classifies a dog image through the ${var.endpoint_name} SageMaker endpoint."
  role                           = aws_iam_role.this.arn
  filename                       = var.package_path
  source_code_hash               = filebase64sha256(var.package_path)
  handler                        = "handler.handler"
  runtime                        = var.runtime
  architectures                  = ["arm64"]
  memory_size                    = var.memory_size
  timeout                        = local.timeout_s
  publish                        = true
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = {
      ENDPOINT_NAME     = var.endpoint_name
      TOP_K             = tostring(var.top_k)
      MAX_IMAGE_BYTES   = tostring(var.max_image_bytes)
      ALLOWED_URL_HOSTS = join(",", var.allowed_url_hosts)
    }
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.timeout_s >= local.worst_case_s
      error_message = "timeout (${local.timeout_s} s) is shorter than the handler's worst case (${local.worst_case_s} s): the function would be killed mid-retry."
    }
  }

  depends_on = [aws_iam_role_policy.runtime]
}

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_alias" "live" {
  name             = "live"
  description      = "The published version the Function URL serves."
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version
}

resource "aws_lambda_provisioned_concurrency_config" "live" {
  count = var.provisioned_concurrency > 0 ? 1 : 0

  function_name                     = aws_lambda_function.this.function_name
  qualifier                         = aws_lambda_alias.live.name
  provisioned_concurrent_executions = var.provisioned_concurrency
}

resource "aws_lambda_function_url" "live" {
  function_name      = aws_lambda_function.this.function_name
  qualifier          = aws_lambda_alias.live.name
  authorization_type = var.function_url_auth_type
}

resource "aws_lambda_permission" "function_url" {
  for_each = toset(var.function_url_invoker_arns)

  statement_id           = "InvokeUrl${substr(sha256(each.value), 0, 16)}"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.this.function_name
  qualifier              = aws_lambda_alias.live.name
  principal              = each.value
  function_url_auth_type = var.function_url_auth_type
}
