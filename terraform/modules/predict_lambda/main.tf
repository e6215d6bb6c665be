data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  policies      = "${path.module}/../../../policies"
  arn_prefix    = "arn:${data.aws_partition.current.partition}"
  log_group     = "/aws/lambda/${var.function_name}"
  log_group_arn = "${local.arn_prefix}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:${local.log_group}"
  endpoint_arn  = "${local.arn_prefix}:sagemaker:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:endpoint/${lower(var.endpoint_name)}"

  # Worst case of one request (dogbreed.predict_api): every InvokeEndpoint attempt waits for its connect and read
  # timeouts, botocore's standard mode sleeps at most min(2^retry, 20) s before each retry, and a URL image
  # download has its own deadline: 2 x (2 s + 20 s) + 2 s + 5 s = 51 s. Timeout = 51 s + 9 s headroom = 60 s.
  # The same numbers reach the function as ENDPOINT_* and URL_FETCH_DEADLINE_S, so the code keeps this budget.
  client                = var.endpoint_client
  retry_backoff_bound_s = sum(concat([0], [for retry in range(1, local.client.max_attempts) : min(pow(2, retry), 20)]))
  worst_case_s          = local.client.max_attempts * (local.client.connect_timeout_s + local.client.read_timeout_s) + local.retry_backoff_bound_s + var.url_fetch_deadline_s
  timeout_s             = coalesce(var.timeout, ceil(local.worst_case_s) + var.timeout_headroom_s)

  # The AWS-managed Powertools for AWS Lambda (Python) V3 layer, one per Python version and architecture, published
  # by AWS's Powertools account of the partition (docs/getting-started/install.md, "Lambda Layer", in
  # aws-powertools/powertools-lambda-python): arn:<partition>:lambda:<region>:<account>:layer:
  # AWSLambdaPowertoolsPythonV3-<python313>-<arm64>:<version>.
  architecture = "arm64"
  powertools_publisher = lookup({
    "cn-north-1"    = "498634801083"
    "us-gov-east-1" = "165087284144"
    "us-gov-west-1" = "165093116878"
  }, data.aws_region.current.name, "017000801446")
  powertools_layer_name = "AWSLambdaPowertoolsPythonV3-${replace(var.runtime, ".", "")}-${local.architecture}"
  powertools_layer_arn  = "${local.arn_prefix}:lambda:${data.aws_region.current.name}:${local.powertools_publisher}:layer:${local.powertools_layer_name}:${var.powertools_layer_version}"
}

resource "aws_lambda_function" "this" {
  function_name                  = var.function_name
  description                    = "Classifies a dog image through the ${var.endpoint_name} SageMaker endpoint."
  role                           = aws_iam_role.this.arn
  filename                       = var.package_path
  source_code_hash               = filebase64sha256(var.package_path)
  handler                        = "handler.handler"
  runtime                        = var.runtime
  architectures                  = [local.architecture]
  layers                         = [local.powertools_layer_arn]
  memory_size                    = var.memory_size
  timeout                        = local.timeout_s
  publish                        = true
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = {
      ENDPOINT_NAME                = var.endpoint_name
      TOP_K                        = tostring(var.top_k)
      MAX_IMAGE_BYTES              = tostring(var.max_image_bytes)
      ENDPOINT_MAX_REQUEST_BYTES   = tostring(var.endpoint_max_request_bytes)
      ALLOWED_URL_HOSTS            = join(",", var.allowed_url_hosts)
      ENDPOINT_CONNECT_TIMEOUT_S   = tostring(local.client.connect_timeout_s)
      ENDPOINT_READ_TIMEOUT_S      = tostring(local.client.read_timeout_s)
      ENDPOINT_MAX_ATTEMPTS        = tostring(local.client.max_attempts)
      URL_FETCH_DEADLINE_S         = tostring(var.url_fetch_deadline_s)
      POWERTOOLS_SERVICE_NAME      = var.function_name
      POWERTOOLS_METRICS_NAMESPACE = var.metrics_namespace
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

# Since October 2025 a caller of a new AWS_IAM Function URL needs lambda:InvokeFunctionUrl AND lambda:InvokeFunction
# (docs.aws.amazon.com/lambda/latest/dg/urls-auth.html). Another account's caller needs both here, in the function's
# resource policy, besides its own identity policy (docs/prediction_api.md has that policy).
resource "aws_lambda_permission" "function_url" {
  for_each = toset(var.function_url_invoker_arns)

  statement_id           = "InvokeUrl${substr(sha256(each.value), 0, 16)}"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.this.function_name
  qualifier              = aws_lambda_alias.live.name
  principal              = each.value
  function_url_auth_type = var.function_url_auth_type
}

# The narrowest InvokeFunction grant provider 5.100 can express: this principal, the live alias only (not $LATEST,
# not other versions). AWS's own narrower form, the condition lambda:InvokedViaFunctionUrl = true, needs the
# permission's invoked_via_function_url argument, which arrived in a later major version of the provider
# (hashicorp/terraform-provider-aws#44858); AWS rejects function_url_auth_type on an InvokeFunction statement. So
# this statement also lets the principal invoke the live alias directly (aws lambda invoke), with the same
# request validation and the same reserved concurrency as the URL.
resource "aws_lambda_permission" "function_url_invoke" {
  for_each = toset(var.function_url_invoker_arns)

  statement_id  = "InvokeViaUrl${substr(sha256(each.value), 0, 16)}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  qualifier     = aws_lambda_alias.live.name
  principal     = each.value
}
