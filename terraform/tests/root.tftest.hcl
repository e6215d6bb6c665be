# Root stack and examples: composition, tool-written inputs and the outputs the launcher reads.
mock_provider "aws" {
  source = "./tests/mocks"
}

# The Lambda package is the real build/predict_lambda.zip (dogbreed-build-lambda-zip), the root stack's default.

run "without_a_published_model_there_is_no_endpoint_yet" {
  command = plan

  assert {
    condition     = output.endpoint_name == null && output.function_name == null
    error_message = "Without model_data_url the stack must not create an endpoint or a Lambda."
  }
  assert {
    condition     = output.training_role_arn == "arn:aws:iam::123456789012:role/dogbreed-sagemaker-training"
    error_message = "The training role ARN must be known at plan time."
  }
  assert {
    condition     = output.data_bucket_name == "dogbreed-123456789012-eu-west-1" && output.region == "eu-west-1"
    error_message = "Bucket and region outputs must be set."
  }
  assert {
    condition     = output.ec2_trainer_launch_template_id == null
    error_message = "Without ec2_trainer.create there is no launch template."
  }
}

run "training_jobs_get_their_own_group_and_the_private_subnets" {
  command = plan

  assert {
    condition     = length(output.training_subnet_ids) == 2 && length(output.training_security_group_ids) == 1
    error_message = "The launcher needs the private subnets and the training jobs' security group as outputs."
  }
}

run "only_deployed_workloads_get_a_security_group" {
  command = plan

  assert {
    condition     = keys(module.network.security_group_ids) == ["notebook", "training"]
    error_message = "Without the EC2 trainer the network must create the notebook's and the training jobs' groups only."
  }
}

run "the_ec2_trainer_brings_its_security_group" {
  command = plan

  variables {
    ec2_trainer = { create = true, ami_id = "ami-0123456789abcdef0" }
  }

  assert {
    condition     = keys(module.network.security_group_ids) == ["notebook", "trainer", "training"]
    error_message = "The EC2 trainer must get its own security group from the network module."
  }
}

run "operators_get_a_policy_for_the_trainer_and_the_kernel_bundle_and_are_named_code_writers" {
  command = plan

  variables {
    ec2_trainer           = { create = true, ami_id = "ami-0123456789abcdef0" }
    code_writer_role_arns = ["arn:aws:iam::123456789012:role/dogbreed-operator"]
  }

  assert {
    condition     = one([for s in jsondecode(output.operator_policy_json).Statement : s.Resource if s.Sid == "PassOnlyTheTrainerRoleAndOnlyToEc2"]) == "arn:aws:iam::123456789012:role/${module.ec2_trainer[0].role_name}"
    error_message = "The operator policy must pass exactly the trainer's role (by the name the module gives it)."
  }
  assert {
    condition     = one([for s in jsondecode(output.operator_policy_json).Statement : s.Condition.ArnEquals["ec2:InstanceProfile"] if s.Sid == "LaunchOnlyTheTrainerProfileFromALaunchTemplate"]) == "arn:aws:iam::123456789012:instance-profile/${module.ec2_trainer[0].instance_profile_name}"
    error_message = "The operator policy must launch only the trainer's instance profile."
  }
  assert {
    condition     = jsonencode(local.code_writer_arns) == jsonencode(["arn:aws:iam::123456789012:role/dogbreed-github-apply", "arn:aws:iam::123456789012:role/dogbreed-operator"])
    error_message = "code/ writers are the CI apply role, always, and the named operators."
  }
}

run "published_model_is_served" {
  command = plan

  variables {
    model_data_url                       = "s3://dogbreed-123456789012-eu-west-1/models/published/1a1f4502024df8a68d12e64bb2364ad6308d04ed0a7d5e8300a676ec70867140/model.tar.gz"
    model_sha256                         = "1a1f4502024df8a68d12e64bb2364ad6308d04ed0a7d5e8300a676ec70867140"
    autoscaling_invocations_per_instance = 240
  }

  assert {
    condition     = output.endpoint_name == "dogbreed-endpoint" && output.function_name == "dogbreed-predict"
    error_message = "A model_data_url must bring the endpoint and the Lambda."
  }
}

run "rejects_model_outside_models_prefix" {
  command = plan

  variables {
    model_data_url = "s3://dogbreed-123456789012-eu-west-1/tmp/model.zip"
  }

  expect_failures = [var.model_data_url]
}

run "rejects_non_positive_autoscaling_target" {
  command = plan

  variables {
    model_data_url                       = "s3://dogbreed-123456789012-eu-west-1/models/published/1a1f4502024df8a68d12e64bb2364ad6308d04ed0a7d5e8300a676ec70867140/model.tar.gz"
    model_sha256                         = "1a1f4502024df8a68d12e64bb2364ad6308d04ed0a7d5e8300a676ec70867140"
    autoscaling_invocations_per_instance = 0
  }

  expect_failures = [var.autoscaling_invocations_per_instance]
}

run "example_serving" {
  command = plan

  module {
    source = "./examples/serving"
  }

  variables {
    package_path = "../build/predict_lambda.zip"
  }

  assert {
    condition     = output.endpoint_name == "dogbreed-demo-endpoint"
    error_message = "The serving example must create its endpoint."
  }
}

run "example_notebook_training" {
  command = plan

  module {
    source = "./examples/notebook_training"
  }

  assert {
    condition     = output.notebook_name == "dogbreed-demo-notebook"
    error_message = "The notebook example must create its notebook."
  }
}
