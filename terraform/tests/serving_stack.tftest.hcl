# Root stack serving wiring: the published model reaches the endpoint, the Lambda is sized to what the endpoint
# takes, the outputs the post-apply check reads, and the serverless mode end to end.
mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  model_data_url = "s3://dogbreed-123456789012-eu-west-1/models/published/1a1f4502024df8a68d12e64bb2364ad6308d04ed0a7d5e8300a676ec70867140/model.tar.gz"
  model_sha256   = "1a1f4502024df8a68d12e64bb2364ad6308d04ed0a7d5e8300a676ec70867140"
}

run "instance_endpoint_is_served_with_the_default_image_limit" {
  command = plan

  assert {
    condition     = output.endpoint_name == "dogbreed-endpoint" && output.function_name == "dogbreed-predict"
    error_message = "A published model must bring the endpoint and the Lambda."
  }
  assert {
    condition     = output.model_sha256 == var.model_sha256 && output.model_data_url == var.model_data_url
    error_message = "The outputs must name the served artifact and its hash for dogbreed-check-endpoint."
  }
  assert {
    condition     = output.endpoint_log_group_arn == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/sagemaker/Endpoints/dogbreed-endpoint"
    error_message = "The endpoint's log group ARN must be known at plan time (for the key policy)."
  }
  assert {
    condition     = local.predict_max_image_bytes == 4194304
    error_message = "An instance endpoint takes 6 MiB bodies: the Lambda keeps its own 4 MiB image limit."
  }
  assert {
    condition     = local.endpoint_max_request_bytes == 6291456
    error_message = "Behind an instance endpoint the Lambda's JSON form may use InvokeEndpoint's 6 MiB."
  }
}

run "serverless_endpoint_is_wired_to_the_lambda" {
  command = plan

  variables {
    endpoint = {
      serverless                       = { memory_size_in_mb = 3072, max_concurrency = 20, acknowledge_no_network_isolation = true }
      data_capture_sampling_percentage = 0
    }
  }

  assert {
    condition     = module.endpoint[0].serverless && output.function_name == "dogbreed-predict" && output.endpoint_name == "dogbreed-endpoint"
    error_message = "The serverless endpoint must be created and the Lambda pointed at it."
  }
  assert {
    condition     = local.predict_max_image_bytes == 4000000
    error_message = "Behind a serverless endpoint (4 MB per request) the Lambda must refuse images over 4,000,000 bytes."
  }
  assert {
    condition     = local.endpoint_max_request_bytes == 4000000
    error_message = "Behind a serverless endpoint the Lambda must size its JSON form (top_k above 5) to 4 MB too."
  }
}

run "rejects_a_model_without_its_hash" {
  command = plan

  variables {
    model_sha256 = null
  }

  expect_failures = [var.model_sha256]
}

run "rejects_a_hash_that_is_not_the_published_key" {
  command = plan

  variables {
    model_sha256 = "c13b1cdc9ebe20eae323c28a6b6c627090b9f4b5ec73bf2f82735c7f75d086d8"
  }

  expect_failures = [var.model_sha256]
}

run "rejects_an_unpublished_training_output" {
  command = plan

  variables {
    model_data_url = "s3://dogbreed-123456789012-eu-west-1/models/dogbreed-job-1/output/model.tar.gz"
  }

  expect_failures = [var.model_data_url]
}
