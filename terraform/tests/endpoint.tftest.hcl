# Endpoint module contracts: autoscaling target and policy, burstable-type validation, network isolation.
mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name                            = "dogbreed-endpoint"
  bucket_name                     = "dogbreed-123456789012-eu-west-1"
  model_data_url                  = "s3://dogbreed-123456789012-eu-west-1/models/run-1/model.tar.gz"
  kms_key_arn                     = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  kms_key_project_tag             = "dogbreed"
  min_capacity                    = 1
  max_capacity                    = 4
  target_invocations_per_instance = 120
}

run "autoscaling_tracks_invocations_per_instance" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  assert {
    condition     = aws_appautoscaling_target.this[0].resource_id == "endpoint/dogbreed-endpoint/variant/AllTraffic"
    error_message = "The scalable target must be endpoint/<name>/variant/<variant>."
  }
  assert {
    condition     = aws_appautoscaling_target.this[0].scalable_dimension == "sagemaker:variant:DesiredInstanceCount"
    error_message = "The scalable dimension must be sagemaker:variant:DesiredInstanceCount."
  }
  assert {
    condition     = aws_appautoscaling_target.this[0].service_namespace == "sagemaker"
    error_message = "The service namespace must be sagemaker."
  }
  assert {
    condition     = aws_appautoscaling_target.this[0].min_capacity == 1 && aws_appautoscaling_target.this[0].max_capacity == 4
    error_message = "min/max capacity must come from the variables."
  }
  assert {
    condition     = aws_appautoscaling_policy.invocations_per_instance[0].policy_type == "TargetTrackingScaling"
    error_message = "The scaling policy must be TargetTrackingScaling."
  }
  assert {
    condition     = aws_appautoscaling_policy.invocations_per_instance[0].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "SageMakerVariantInvocationsPerInstance"
    error_message = "The policy must track SageMakerVariantInvocationsPerInstance."
  }
  assert {
    condition     = aws_appautoscaling_policy.invocations_per_instance[0].target_tracking_scaling_policy_configuration[0].target_value == 120
    error_message = "The target value must be target_invocations_per_instance."
  }
  assert {
    condition = (aws_appautoscaling_policy.invocations_per_instance[0].target_tracking_scaling_policy_configuration[0].scale_in_cooldown == 300
    && aws_appautoscaling_policy.invocations_per_instance[0].target_tracking_scaling_policy_configuration[0].scale_out_cooldown == 60)
    error_message = "Cooldowns must be 300 s in and 60 s out by default."
  }
  assert {
    condition     = aws_appautoscaling_policy.invocations_per_instance[0].resource_id == aws_appautoscaling_target.this[0].resource_id
    error_message = "The policy must scale the registered target."
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.at_max_capacity) == 1
    error_message = "Autoscaling must come with the at-max-capacity alarm."
  }
}

run "model_is_isolated_and_config_replaced_before_destroy" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  assert {
    condition     = aws_sagemaker_model.this.enable_network_isolation
    error_message = "The model container must run with network isolation."
  }
  assert {
    condition     = aws_sagemaker_model.this.primary_container[0].model_data_url == var.model_data_url
    error_message = "The model must serve model_data_url."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.name_prefix == "dogbreed-endpoint-"
    error_message = "The endpoint configuration must use name_prefix (with create_before_destroy)."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == var.kms_key_arn
    error_message = "The endpoint storage must be encrypted with the project key."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].destination_s3_uri == "s3://dogbreed-123456789012-eu-west-1/data-capture/dogbreed-endpoint"
    error_message = "Captured data must go to data-capture/<endpoint> in the project bucket."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.errors_5xx.metric_name == "Invocation5XXErrors" && aws_cloudwatch_metric_alarm.model_latency.metric_name == "ModelLatency"
    error_message = "5XX and ModelLatency alarms must exist."
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "ReadOnlyTheServedModelArtifact"][0] == "arn:aws:s3:::dogbreed-123456789012-eu-west-1/models/run-1/model.tar.gz"
    error_message = "The endpoint role may read only the served model artifact."
  }
}

run "rejects_burstable_instance_with_autoscaling" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.t2.medium"
  }

  expect_failures = [var.instance_type]
}

run "allows_burstable_instance_without_autoscaling" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type      = "ml.t2.medium"
    enable_autoscaling = false
  }

  assert {
    condition     = length(aws_appautoscaling_target.this) == 0 && length(aws_appautoscaling_policy.invocations_per_instance) == 0
    error_message = "Without autoscaling there must be no scaling target or policy."
  }
}

run "rejects_upper_case_endpoint_name" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    name = "DogBreed-Endpoint"
  }

  expect_failures = [var.name]
}

run "rejects_model_outside_the_project_bucket" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    model_data_url = "s3://someone-elses-bucket/models/model.tar.gz"
  }

  expect_failures = [var.model_data_url]
}

run "rejects_max_capacity_below_min" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    min_capacity = 3
    max_capacity = 2
  }

  expect_failures = [var.max_capacity]
}
