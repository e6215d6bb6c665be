# Prediction Lambda contracts: publish + live alias, concurrency, Function URL auth, least-privilege policy.
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
