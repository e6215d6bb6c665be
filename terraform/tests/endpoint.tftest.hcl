# Endpoint module contracts: traffic shift, capacities, artifacts, model name, logs, post-deploy check,
# autoscaling, serverless mode, validations. The KMS rule per instance type: endpoint_kms.tftest.hcl.
mock_provider "aws" {
  source = "./tests/mocks"

  # A configuration name as AWS returns it (name_prefix + timestamp), known at plan time so that the post-deploy
  # check's command can be asserted.
  override_resource {
    target          = aws_sagemaker_endpoint_configuration.this
    override_during = plan
    values = {
      name = "dogbreed-endpoint-20260101000000000000000001"
    }
  }
}

variables {
  name                            = "dogbreed-endpoint"
  bucket_name                     = "dogbreed-123456789012-eu-west-1"
  model_sha256                    = "1a1f4502024df8a68d12e64bb2364ad6308d04ed0a7d5e8300a676ec70867140"
  model_data_url                  = "s3://dogbreed-123456789012-eu-west-1/models/published/1a1f4502024df8a68d12e64bb2364ad6308d04ed0a7d5e8300a676ec70867140/model.tar.gz"
  kms_key_arn                     = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  kms_key_project_tag             = "dogbreed"
  target_invocations_per_instance = 120
}

run "autoscaling_tracks_invocations_per_instance_from_two_instances" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  assert {
    condition     = keys(aws_appautoscaling_target.this) == ["ml.c5.xlarge"]
    error_message = "One scalable target, keyed by the instance type."
  }
  assert {
    condition     = aws_appautoscaling_target.this["ml.c5.xlarge"].resource_id == "endpoint/dogbreed-endpoint/variant/AllTraffic"
    error_message = "The scalable target must be endpoint/<name>/variant/<variant>."
  }
  assert {
    condition     = aws_appautoscaling_target.this["ml.c5.xlarge"].scalable_dimension == "sagemaker:variant:DesiredInstanceCount" && aws_appautoscaling_target.this["ml.c5.xlarge"].service_namespace == "sagemaker"
    error_message = "The scalable dimension must be sagemaker:variant:DesiredInstanceCount in the sagemaker namespace."
  }
  assert {
    condition     = aws_appautoscaling_target.this["ml.c5.xlarge"].min_capacity == 2 && aws_appautoscaling_target.this["ml.c5.xlarge"].max_capacity == 4
    error_message = "By default the endpoint keeps at least 2 instances (two AZs) and scales to 4."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.production_variants[0].initial_instance_count == 2
    error_message = "Without initial_instance_count every fleet starts at min_capacity (2)."
  }
  assert {
    condition     = aws_appautoscaling_policy.invocations_per_instance["ml.c5.xlarge"].policy_type == "TargetTrackingScaling"
    error_message = "The scaling policy must be TargetTrackingScaling."
  }
  assert {
    condition     = aws_appautoscaling_policy.invocations_per_instance["ml.c5.xlarge"].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "SageMakerVariantInvocationsPerInstance"
    error_message = "The policy must track SageMakerVariantInvocationsPerInstance."
  }
  assert {
    condition     = aws_appautoscaling_policy.invocations_per_instance["ml.c5.xlarge"].target_tracking_scaling_policy_configuration[0].target_value == 120
    error_message = "The target value must be target_invocations_per_instance."
  }
  assert {
    condition = (aws_appautoscaling_policy.invocations_per_instance["ml.c5.xlarge"].target_tracking_scaling_policy_configuration[0].scale_in_cooldown == 300
    && aws_appautoscaling_policy.invocations_per_instance["ml.c5.xlarge"].target_tracking_scaling_policy_configuration[0].scale_out_cooldown == 60)
    error_message = "Cooldowns must be 300 s in and 60 s out by default."
  }
  assert {
    condition     = aws_appautoscaling_policy.invocations_per_instance["ml.c5.xlarge"].resource_id == aws_appautoscaling_target.this["ml.c5.xlarge"].resource_id
    error_message = "The policy must scale the registered target."
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.at_max_capacity) == 1 && length(aws_cloudwatch_metric_alarm.at_max_concurrency) == 0
    error_message = "Autoscaling must come with the at-max-capacity alarm (and no serverless alarm)."
  }
}

run "default_update_is_a_canary_with_a_bake_and_rollback_alarms" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  assert {
    condition     = aws_sagemaker_endpoint.this.deployment_config[0].blue_green_update_policy[0].traffic_routing_configuration[0].type == "CANARY"
    error_message = "Updates must shift traffic as a canary by default."
  }
  assert {
    condition     = aws_sagemaker_endpoint.this.deployment_config[0].blue_green_update_policy[0].traffic_routing_configuration[0].canary_size[0].type == "INSTANCE_COUNT" && aws_sagemaker_endpoint.this.deployment_config[0].blue_green_update_policy[0].traffic_routing_configuration[0].canary_size[0].value == 1
    error_message = "The canary must be 1 instance (50% of the 2-instance fleet: AWS allows at most 50%)."
  }
  assert {
    condition     = length(aws_sagemaker_endpoint.this.deployment_config[0].blue_green_update_policy[0].traffic_routing_configuration[0].linear_step_size) == 0
    error_message = "A canary has no linear step."
  }
  assert {
    condition     = aws_sagemaker_endpoint.this.deployment_config[0].blue_green_update_policy[0].traffic_routing_configuration[0].wait_interval_in_seconds == 600
    error_message = "The canary must bake 10 minutes before the rest of the traffic moves."
  }
  assert {
    condition     = aws_sagemaker_endpoint.this.deployment_config[0].blue_green_update_policy[0].termination_wait_in_seconds == 300 && aws_sagemaker_endpoint.this.deployment_config[0].blue_green_update_policy[0].maximum_execution_timeout_in_seconds == 3600
    error_message = "The old fleet must stay 5 minutes after the shift; the deployment may take an hour."
  }
  assert {
    condition     = toset([for alarm in aws_sagemaker_endpoint.this.deployment_config[0].auto_rollback_configuration[0].alarms : alarm.alarm_name]) == toset(["dogbreed-endpoint-5xx-errors", "dogbreed-endpoint-model-latency"])
    error_message = "Both the 5XX and the latency alarm must roll a deployment back."
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "DescribeTheAutoRollbackAlarms"][0] == ["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:dogbreed-endpoint-5xx-errors", "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:dogbreed-endpoint-model-latency"]
    error_message = "The execution role must be able to describe exactly the rollback alarms (AWS requires cloudwatch:DescribeAlarms)."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.errors_5xx.treat_missing_data == "notBreaching" && aws_cloudwatch_metric_alarm.model_latency.treat_missing_data == "notBreaching"
    error_message = "No traffic is no evidence of failure: the rollback alarms must treat missing data as not breaching."
  }
}

run "initial_count_carries_the_expected_load" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    initial_instance_count = 4
    deployment             = { step_instances = 2 }
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.production_variants[0].initial_instance_count == 4
    error_message = "Every new fleet must start with initial_instance_count, the count that carries the load."
  }
  assert {
    condition     = aws_appautoscaling_target.this["ml.c5.xlarge"].min_capacity == 2
    error_message = "Autoscaling may still scale in to min_capacity after the deployment."
  }
}

run "linear_shift_in_quarter_steps" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    initial_instance_count = 4
    deployment             = { traffic_routing = "LINEAR", step_instances = 1, wait_interval_seconds = 300 }
  }

  assert {
    condition     = aws_sagemaker_endpoint.this.deployment_config[0].blue_green_update_policy[0].traffic_routing_configuration[0].linear_step_size[0].value == 1 && length(aws_sagemaker_endpoint.this.deployment_config[0].blue_green_update_policy[0].traffic_routing_configuration[0].canary_size) == 0
    error_message = "LINEAR must shift step_instances at a time and have no canary."
  }
}

run "rejects_a_canary_on_a_single_instance" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    min_capacity = 1
  }

  expect_failures = [var.deployment]
}

run "allows_all_at_once_on_a_single_instance" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    min_capacity = 1
    deployment   = { traffic_routing = "ALL_AT_ONCE" }
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.production_variants[0].initial_instance_count == 1 && length(aws_sagemaker_endpoint.this.deployment_config[0].blue_green_update_policy[0].traffic_routing_configuration[0].canary_size) == 0
    error_message = "A single-instance endpoint may be updated all at once."
  }
}

run "rejects_a_linear_step_over_half_the_fleet" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    initial_instance_count = 4
    deployment             = { traffic_routing = "LINEAR", step_instances = 3 }
  }

  expect_failures = [var.deployment]
}

run "rejects_a_timeout_shorter_than_the_waits" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    deployment = { wait_interval_seconds = 1800, termination_wait_seconds = 600, maximum_execution_timeout_seconds = 3600 }
  }

  expect_failures = [var.deployment]
}

run "rejects_an_initial_count_below_min_capacity" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    initial_instance_count = 1
  }

  expect_failures = [var.initial_instance_count]
}

run "old_and_new_artifacts_stay_readable" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  # Deploying a second artifact: the role's read must cover it and the one the old fleet runs.
  variables {
    model_sha256   = "c13b1cdc9ebe20eae323c28a6b6c627090b9f4b5ec73bf2f82735c7f75d086d8"
    model_data_url = "s3://dogbreed-123456789012-eu-west-1/models/published/c13b1cdc9ebe20eae323c28a6b6c627090b9f4b5ec73bf2f82735c7f75d086d8/model.tar.gz"
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "ReadPublishedModelArtifactsOldAndNew"] == ["arn:aws:s3:::dogbreed-123456789012-eu-west-1/models/published/*"]
    error_message = "The endpoint role must read every published artifact (old and new), and only those."
  }
  assert {
    condition     = aws_sagemaker_model.this[0].name == "dogbreed-endpoint-c13b1cdc9ebe20ea" && aws_sagemaker_model.this[0].name != run.default_update_is_a_canary_with_a_bake_and_rollback_alarms.model_name
    error_message = "The model name must carry the artifact's hash: a new artifact is a new model."
  }
  assert {
    condition     = aws_sagemaker_model.this[0].tags["ModelSha256"] == var.model_sha256
    error_message = "The model must be tagged with the artifact's full SHA-256."
  }
}

run "model_name_fits_sagemakers_63_characters" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    name = "a-thirty-six-character-endpoint-name"
  }

  assert {
    condition     = aws_sagemaker_model.this[0].name == "a-thirty-six-character-endpoint-name-1a1f4502024df8a6" && length(aws_sagemaker_model.this[0].name) <= 63
    error_message = "The longest endpoint name plus 16 hash digits must fit SageMaker's 63 characters."
  }
}

run "rejects_a_name_too_long_for_the_configuration_prefix" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    name = "a-thirty-seven-character-endpoint-nam"
  }

  expect_failures = [var.name]
}

run "rejects_an_artifact_that_is_not_at_its_hash" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    model_sha256 = "c13b1cdc9ebe20eae323c28a6b6c627090b9f4b5ec73bf2f82735c7f75d086d8"
  }

  expect_failures = [var.model_sha256]
}

run "rejects_an_unpublished_training_output" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    model_data_url = "s3://dogbreed-123456789012-eu-west-1/models/dogbreed-job-1/output/model.tar.gz"
  }

  expect_failures = [var.model_data_url]
}

run "log_group_is_declared_with_the_key_and_a_retention" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/sagemaker/Endpoints/dogbreed-endpoint"
    error_message = "The endpoint's log group is /aws/sagemaker/Endpoints/<name>, where SageMaker writes."
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == var.kms_key_arn && aws_cloudwatch_log_group.this.retention_in_days == 365
    error_message = "The log group must be encrypted with the project key and kept 365 days."
  }
  assert {
    condition     = output.log_group_arn == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/sagemaker/Endpoints/dogbreed-endpoint"
    error_message = "log_group_arn must be the group's ARN without :*, as CloudWatch Logs puts it in the encryption context."
  }
}

run "post_deploy_check_runs_against_the_new_configuration" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  assert {
    condition     = length(terraform_data.post_deploy_check) == 1 && terraform_data.post_deploy_check[0].triggers_replace[0] == "dogbreed-endpoint-20260101000000000000000001" && terraform_data.post_deploy_check[0].triggers_replace[1] == var.model_sha256
    error_message = "Every new configuration (or artifact) must trigger the post-deploy check."
  }
  assert {
    condition     = local.post_deploy_check_command == "dogbreed-check-endpoint --region eu-west-1 --endpoint-name dogbreed-endpoint --expected-config dogbreed-endpoint-20260101000000000000000001 --model-data-url ${var.model_data_url} --model-sha256 ${var.model_sha256}"
    error_message = "The check must compare the endpoint with the configuration Terraform created, verify the artifact and smoke-test it."
  }
}

run "post_deploy_check_can_be_switched_off" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    post_deploy_check = { enable = false }
  }

  assert {
    condition     = length(terraform_data.post_deploy_check) == 0
    error_message = "enable = false must drop the check."
  }
}

run "rejects_shell_syntax_in_the_check_command" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    post_deploy_check = { command = "dogbreed-check-endpoint; curl example.org" }
  }

  expect_failures = [var.post_deploy_check]
}

run "an_instance_type_change_re_registers_the_scalable_target" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.c5.2xlarge"
  }

  assert {
    condition     = keys(aws_appautoscaling_target.this) == ["ml.c5.2xlarge"] && keys(aws_appautoscaling_policy.invocations_per_instance) == ["ml.c5.2xlarge"]
    error_message = "A new instance type must be a new scalable target and policy (the old ones are removed before the update)."
  }
}

run "model_is_isolated_and_config_replaced_before_destroy" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  assert {
    condition     = aws_sagemaker_model.this[0].enable_network_isolation && length(aws_sagemaker_model.serverless) == 0
    error_message = "On instances the model container must run with network isolation."
  }
  assert {
    condition     = aws_sagemaker_model.this[0].primary_container[0].model_data_url == var.model_data_url
    error_message = "The model must serve model_data_url."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.name_prefix == "dogbreed-endpoint-"
    error_message = "The endpoint configuration must use name_prefix (with create_before_destroy)."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].destination_s3_uri == "s3://dogbreed-123456789012-eu-west-1/data-capture/dogbreed-endpoint" && aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data must go KMS-encrypted to data-capture/<endpoint> in the project bucket."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.errors_5xx.metric_name == "Invocation5XXErrors" && aws_cloudwatch_metric_alarm.model_latency.metric_name == "ModelLatency"
    error_message = "5XX and ModelLatency alarms must exist."
  }
  assert {
    condition     = output.max_request_bytes == 6291456 && !output.serverless
    error_message = "An instance endpoint takes InvokeEndpoint bodies up to 6 MiB."
  }
}

run "serverless_mode_deploys_the_same_artifact_without_autoscaling" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    serverless                       = { memory_size_in_mb = 3072, max_concurrency = 10, provisioned_concurrency = 2, acknowledge_no_network_isolation = true }
    data_capture_sampling_percentage = 0
  }

  assert {
    condition     = length(aws_appautoscaling_target.this) == 0 && length(aws_appautoscaling_policy.invocations_per_instance) == 0 && length(aws_cloudwatch_metric_alarm.at_max_capacity) == 0
    error_message = "A serverless endpoint has no scalable target, scaling policy or at-max-capacity alarm."
  }
  assert {
    condition = (aws_sagemaker_endpoint_configuration.this.production_variants[0].serverless_config[0].memory_size_in_mb == 3072
      && aws_sagemaker_endpoint_configuration.this.production_variants[0].serverless_config[0].max_concurrency == 10
    && aws_sagemaker_endpoint_configuration.this.production_variants[0].serverless_config[0].provisioned_concurrency == 2)
    error_message = "The variant must carry the serverless memory and concurrency."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.production_variants[0].instance_type == null && aws_sagemaker_endpoint_configuration.this.production_variants[0].initial_instance_count == null
    error_message = "A serverless variant has no instance type or count."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == null && length(aws_sagemaker_endpoint_configuration.this.data_capture_config) == 0
    error_message = "Serverless takes no KMS key on the endpoint configuration and no data capture."
  }
  assert {
    condition     = length(aws_sagemaker_model.this) == 0 && !aws_sagemaker_model.serverless[0].enable_network_isolation && aws_sagemaker_model.serverless[0].primary_container[0].model_data_url == var.model_data_url
    error_message = "The same artifact, without network isolation (serverless does not support it)."
  }
  assert {
    condition     = aws_sagemaker_endpoint.this.deployment_config[0].blue_green_update_policy[0].traffic_routing_configuration[0].type == "ALL_AT_ONCE" && length(aws_sagemaker_endpoint.this.deployment_config[0].blue_green_update_policy[0].traffic_routing_configuration[0].canary_size) == 0
    error_message = "A serverless endpoint has no instances to shift: all at once, still with the bake and the rollback alarms."
  }
  assert {
    condition     = length(aws_sagemaker_endpoint.this.deployment_config[0].auto_rollback_configuration[0].alarms) == 2 && aws_cloudwatch_metric_alarm.at_max_concurrency[0].metric_name == "ServerlessConcurrentExecutionsUtilization"
    error_message = "Serverless keeps the 5XX and latency rollback alarms and alarms on its concurrency instead of instances."
  }
  assert {
    condition     = output.max_request_bytes == 4000000 && output.serverless
    error_message = "A serverless endpoint takes at most 4 MB per request."
  }
}

run "rejects_serverless_without_accepting_its_network" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    serverless                       = { memory_size_in_mb = 3072, max_concurrency = 10 }
    data_capture_sampling_percentage = 0
  }

  expect_failures = [var.serverless]
}

run "rejects_serverless_with_data_capture" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    serverless = { memory_size_in_mb = 3072, max_concurrency = 10, acknowledge_no_network_isolation = true }
  }

  expect_failures = [var.serverless]
}

run "rejects_serverless_memory_off_the_1_gb_steps" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    serverless                       = { memory_size_in_mb = 1500, max_concurrency = 10, acknowledge_no_network_isolation = true }
    data_capture_sampling_percentage = 0
  }

  expect_failures = [var.serverless]
}

run "rejects_provisioned_concurrency_above_max_concurrency" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    serverless                       = { memory_size_in_mb = 2048, max_concurrency = 5, provisioned_concurrency = 10, acknowledge_no_network_isolation = true }
    data_capture_sampling_percentage = 0
  }

  expect_failures = [var.serverless]
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
    model_data_url = "s3://someone-elses-bucket/models/published/1a1f4502024df8a68d12e64bb2364ad6308d04ed0a7d5e8300a676ec70867140/model.tar.gz"
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
