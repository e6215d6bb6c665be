# Prediction Lambda contracts: publish + live alias, concurrency, Function URL auth, least-privilege policy, the
# AWS-managed Powertools layer, and the time budget reaching the code as the environment it reads.
mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  function_name       = "dogbreed-predict"
  package_path        = "../build/predict_lambda.zip"
  endpoint_name       = "dogbreed-endpoint"
  kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  kms_key_project_tag = "dogbreed"
  allowed_url_hosts   = ["images.example.org", "upload.wikimedia.org:8443"]
}

run "function_alias_and_concurrency" {
  command = plan

  module {
    source = "./modules/predict_lambda"
  }

  assert {
    condition     = aws_lambda_function.this.publish && aws_lambda_function.this.handler == "handler.handler"
    error_message = "The function must publish versions and use handler.handler."
  }
  assert {
    condition     = aws_lambda_alias.live.name == "live"
    error_message = "The alias must be named live."
  }
  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == 5
    error_message = "Reserved concurrency must default to 5."
  }
  assert {
    condition     = aws_lambda_provisioned_concurrency_config.live[0].provisioned_concurrent_executions == 2 && aws_lambda_provisioned_concurrency_config.live[0].qualifier == "live"
    error_message = "Provisioned concurrency must default to 2 on the live alias."
  }
  assert {
    condition     = aws_lambda_function.this.timeout == 60
    error_message = "Timeout must be 2 x (2 s + 20 s) + 2 s backoff + 5 s URL fetch = 51 s, + 9 s headroom = 60 s."
  }
  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "Active"
    error_message = "X-Ray tracing must be active."
  }
  assert {
    condition = (aws_lambda_function.this.environment[0].variables["ENDPOINT_NAME"] == "dogbreed-endpoint"
      && aws_lambda_function.this.environment[0].variables["TOP_K"] == "5"
      && aws_lambda_function.this.environment[0].variables["MAX_IMAGE_BYTES"] == "4194304"
    && aws_lambda_function.this.environment[0].variables["ALLOWED_URL_HOSTS"] == "images.example.org,upload.wikimedia.org:8443")
    error_message = "The environment must carry ENDPOINT_NAME, TOP_K, MAX_IMAGE_BYTES and ALLOWED_URL_HOSTS."
  }
  assert {
    condition = (aws_lambda_function.this.environment[0].variables["ENDPOINT_CONNECT_TIMEOUT_S"] == "2"
      && aws_lambda_function.this.environment[0].variables["ENDPOINT_READ_TIMEOUT_S"] == "20"
      && aws_lambda_function.this.environment[0].variables["ENDPOINT_MAX_ATTEMPTS"] == "2"
    && aws_lambda_function.this.environment[0].variables["URL_FETCH_DEADLINE_S"] == "5")
    error_message = "The environment must carry the time budget the timeout is computed from (2 s, 20 s, 2 attempts, 5 s)."
  }
  assert {
    condition = (aws_lambda_function.this.environment[0].variables["POWERTOOLS_SERVICE_NAME"] == "dogbreed-predict"
    && aws_lambda_function.this.environment[0].variables["POWERTOOLS_METRICS_NAMESPACE"] == "DogBreed")
    error_message = "Powertools must get its service name (the function name) and metrics namespace from the environment."
  }
  assert {
    condition     = aws_lambda_function.this.layers == tolist(["arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:27"])
    error_message = "The only layer must be the AWS-managed Powertools V3 layer for python3.13 arm64, version 27 (Powertools 3.24.0)."
  }
  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["arm64"])
    error_message = "The function must run on arm64, the architecture of its Powertools layer."
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 365 && aws_cloudwatch_log_group.this.kms_key_id == var.kms_key_arn
    error_message = "The log group must have a retention and the project key."
  }
}

run "function_url_requires_iam_auth_by_default" {
  command = plan

  module {
    source = "./modules/predict_lambda"
  }

  assert {
    condition     = aws_lambda_function_url.live.authorization_type == "AWS_IAM" && aws_lambda_function_url.live.qualifier == "live"
    error_message = "The Function URL must use AWS_IAM auth on the live alias."
  }
}

run "policy_grants_exactly_invoke_endpoint_on_its_endpoint" {
  command = plan

  module {
    source = "./modules/predict_lambda"
  }

  assert {
    condition     = length(jsondecode(aws_iam_role_policy.invoke_endpoint.policy).Statement) == 1
    error_message = "The endpoint policy must have exactly one statement."
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.invoke_endpoint.policy).Statement[0].Action == "sagemaker:InvokeEndpoint"
    error_message = "The only SageMaker action must be sagemaker:InvokeEndpoint."
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.invoke_endpoint.policy).Statement[0].Resource == "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/dogbreed-endpoint"
    error_message = "InvokeEndpoint must be granted on the endpoint's ARN only."
  }
  assert {
    condition = alltrue([for statement in jsondecode(aws_iam_role_policy.runtime.policy).Statement :
    alltrue([for action in flatten([statement.Action]) : !startswith(action, "sagemaker:")])])
    error_message = "No other policy of the function may grant SageMaker actions."
  }
  assert {
    condition = contains(flatten([for statement in jsondecode(aws_iam_role_policy.runtime.policy).Statement :
      statement.Action if statement.Effect == "Allow"]), "xray:PutTraceSegments") && contains(flatten([for statement in jsondecode(aws_iam_role_policy.runtime.policy).Statement :
    statement.Action if statement.Effect == "Allow"]), "xray:PutTelemetryRecords")
    error_message = "Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords (Powertools Tracer sends subsegments)."
  }
}

run "endpoint_client_reaches_the_function_and_sets_its_timeout" {
  command = plan

  module {
    source = "./modules/predict_lambda"
  }

  variables {
    endpoint_client      = { connect_timeout_s = 1.5, read_timeout_s = 10, max_attempts = 3 }
    url_fetch_deadline_s = 2
  }

  assert {
    condition = (aws_lambda_function.this.environment[0].variables["ENDPOINT_CONNECT_TIMEOUT_S"] == "1.5"
      && aws_lambda_function.this.environment[0].variables["ENDPOINT_READ_TIMEOUT_S"] == "10"
      && aws_lambda_function.this.environment[0].variables["ENDPOINT_MAX_ATTEMPTS"] == "3"
    && aws_lambda_function.this.environment[0].variables["URL_FETCH_DEADLINE_S"] == "2")
    error_message = "endpoint_client and url_fetch_deadline_s must reach the function as the variables its settings read."
  }
  assert {
    condition     = aws_lambda_function.this.timeout == 52
    error_message = "Timeout must be 3 x (1.5 s + 10 s) + (2 + 4) s backoff + 2 s URL fetch = 42.5 s, ceil 43 + 9 s headroom = 52 s."
  }
}

run "powertools_layer_follows_runtime_and_partition" {
  command = plan

  module {
    source = "./modules/predict_lambda"
  }

  variables {
    runtime                  = "python3.12"
    powertools_layer_version = 26
  }

  override_data {
    target = data.aws_region.current
    values = { name = "us-gov-west-1" }
  }
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws-us-gov" }
  }

  assert {
    condition     = aws_lambda_function.this.layers == tolist(["arn:aws-us-gov:lambda:us-gov-west-1:165093116878:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:26"])
    error_message = "The layer must be GovCloud (US-West)'s Powertools publisher's, for the function's runtime."
  }
}

run "rejects_fractional_endpoint_attempts" {
  command = plan

  module {
    source = "./modules/predict_lambda"
  }

  variables {
    endpoint_client = { max_attempts = 2.5 }
  }

  expect_failures = [var.endpoint_client]
}

run "rejects_a_zero_connect_timeout" {
  command = plan

  module {
    source = "./modules/predict_lambda"
  }

  variables {
    endpoint_client = { connect_timeout_s = 0 }
  }

  expect_failures = [var.endpoint_client]
}

run "rejects_an_unpublished_layer_version" {
  command = plan

  module {
    source = "./modules/predict_lambda"
  }

  variables {
    powertools_layer_version = 0
  }

  expect_failures = [var.powertools_layer_version]
}

run "rejects_an_aws_reserved_metrics_namespace" {
  command = plan

  module {
    source = "./modules/predict_lambda"
  }

  variables {
    metrics_namespace = "AWS/Lambda"
  }

  expect_failures = [var.metrics_namespace]
}

run "rejects_provisioned_above_reserved_concurrency" {
  command = plan

  module {
    source = "./modules/predict_lambda"
  }

  variables {
    reserved_concurrency    = 2
    provisioned_concurrency = 3
  }

  expect_failures = [var.provisioned_concurrency]
}

run "rejects_unknown_function_url_auth_type" {
  command = plan

  module {
    source = "./modules/predict_lambda"
  }

  variables {
    function_url_auth_type = "ANONYMOUS"
  }

  expect_failures = [var.function_url_auth_type]
}

run "rejects_timeout_shorter_than_the_retry_worst_case" {
  command = plan

  module {
    source = "./modules/predict_lambda"
  }

  variables {
    timeout = 30
  }

  expect_failures = [aws_lambda_function.this]
}

run "function_url_callers_get_both_permissions_on_the_live_alias" {
  command = plan

  module {
    source = "./modules/predict_lambda"
  }

  variables {
    function_url_invoker_arns = ["arn:aws:iam::444455556666:role/caller", "123456789012"]
  }

  assert {
    condition = alltrue([for arn in var.function_url_invoker_arns :
      aws_lambda_permission.function_url[arn].action == "lambda:InvokeFunctionUrl"
      && aws_lambda_permission.function_url[arn].function_url_auth_type == "AWS_IAM"
      && aws_lambda_permission.function_url[arn].qualifier == "live"
    && aws_lambda_permission.function_url[arn].principal == arn])
    error_message = "Every invoker needs lambda:InvokeFunctionUrl on the live alias, conditioned on the URL's AWS_IAM auth type."
  }
  assert {
    condition = alltrue([for arn in var.function_url_invoker_arns :
      aws_lambda_permission.function_url_invoke[arn].action == "lambda:InvokeFunction"
      && aws_lambda_permission.function_url_invoke[arn].function_url_auth_type == null
      && aws_lambda_permission.function_url_invoke[arn].qualifier == "live"
    && aws_lambda_permission.function_url_invoke[arn].principal == arn])
    error_message = "Every invoker needs lambda:InvokeFunction on the live alias too (AWS_IAM Function URLs since October 2025), without function_url_auth_type (AWS rejects it on InvokeFunction)."
  }
  assert {
    condition     = length(aws_lambda_permission.function_url) == 2 && length(aws_lambda_permission.function_url_invoke) == 2
    error_message = "One pair of statements per invoker, no more."
  }
  assert {
    condition = length(distinct(concat(
      [for permission in aws_lambda_permission.function_url : permission.statement_id],
      [for permission in aws_lambda_permission.function_url_invoke : permission.statement_id],
    ))) == 4
    error_message = "Statement ids must be unique across both permissions (AddPermission refuses a duplicate)."
  }
}

run "accepts_the_payload_ceiling" {
  command = plan

  module {
    source = "./modules/predict_lambda"
  }

  variables {
    max_image_bytes = 4694016
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["MAX_IMAGE_BYTES"] == "4694016"
    error_message = "The ceiling (6,291,456 - 32,768) / 4 * 3 = 4,694,016 bytes must be accepted."
  }
}

run "rejects_max_image_bytes_whose_base64_overflows_the_event" {
  command = plan

  module {
    source = "./modules/predict_lambda"
  }

  variables {
    max_image_bytes = 4694017
  }

  expect_failures = [var.max_image_bytes]
}

run "passes_the_endpoint_request_limit" {
  command = plan

  module {
    source = "./modules/predict_lambda"
  }

  variables {
    endpoint_max_request_bytes = 4000000
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["ENDPOINT_MAX_REQUEST_BYTES"] == "4000000"
    error_message = "The function must know the endpoint's request limit (4 MB serverless) to size its JSON form."
  }
}

run "rejects_an_endpoint_request_limit_over_invoke_endpoints" {
  command = plan

  module {
    source = "./modules/predict_lambda"
  }

  variables {
    endpoint_max_request_bytes = 6291457
  }

  expect_failures = [var.endpoint_max_request_bytes]
}
