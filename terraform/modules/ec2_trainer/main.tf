data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

# AWS publishes the current Deep Learning AMI id as a public SSM parameter; an explicit ami_id skips the lookup.
data "aws_ssm_parameter" "dlami" {
  count = var.ami_id == null ? 1 : 0
  name  = var.dlami_ssm_parameter
}

locals {
  name     = "${var.name}-ec2-trainer"
  policies = "${path.module}/../../../policies"
  code_files = merge([
    for dir_name, dir in var.code_dirs : {
      for file in fileset(dir, "**") : "${dir_name}/${file}" => "${dir}/${file}"
      if !strcontains(file, "__pycache__") && !endswith(file, ".pyc")
    }
  ]...)
  user_data = templatefile(var.user_data_template, {
    code_s3_uri    = "s3://${var.bucket_name}/code/"
    data_s3_uri    = var.data_s3_uri
    weights_s3_uri = "s3://${var.bucket_name}/weights/"
    output_s3_uri  = "s3://${var.bucket_name}/ec2-runs/"
    train_args     = var.train_args
  })
}

# The module owns a launch template, never an instance: a run starts only when a person runs
# `dogbreed-launch ec2-run --run-id <id>` (RunInstances from this template, tagged RunId), so no `terraform apply`
# ever launches, relaunches or replaces a training run. The run id survives restarts: the same id resumes
# from the checkpoints in S3 (ec2/bootstrap.sh).
resource "aws_launch_template" "this" {
  name                                 = local.name
  description                          = "dogbreed EC2 trainer: started by dogbreed-launch ec2-run, never by Terraform."
  image_id                             = coalesce(var.ami_id, try(nonsensitive(data.aws_ssm_parameter.dlami[0].value), null))
  instance_type                        = var.instance_type
  instance_initiated_shutdown_behavior = "terminate" # the bootstrap powers off when training ends
  ebs_optimized                        = true
  user_data                            = base64encode(local.user_data)
  update_default_version               = true

  iam_instance_profile {
    name = aws_iam_instance_profile.this.name
  }

  network_interfaces {
    subnet_id                   = var.subnet_id
    security_groups             = var.security_group_ids
    associate_public_ip_address = false
    delete_on_termination       = true
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "enabled" # the bootstrap reads its RunId tag from IMDS
  }

  monitoring {
    enabled = true
  }

  block_device_mappings {
    device_name = var.root_device_name

    ebs {
      volume_type           = "gp3"
      volume_size           = var.root_volume_size_gb
      encrypted             = true
      kms_key_id            = var.kms_key_arn
      delete_on_termination = true
    }
  }

  # One-time spot, terminated on interruption: EC2 never restarts it on its own. A persistent request would
  # re-open when the finished instance shuts down and launch the run again (EC2 User Guide, "Terminate a Spot
  # Instance"), and user data runs on the first boot only; resuming is `ec2-run` with the same run id.
  dynamic "instance_market_options" {
    for_each = var.use_spot ? [1] : []
    content {
      market_type = "spot"
      spot_options {
        spot_instance_type             = "one-time"
        instance_interruption_behavior = "terminate"
      }
    }
  }

  # Everything a run creates carries the project's tag (default_tags reach the template only): whoever runs
  # `ec2-run` may launch only project-tagged instances, volumes and network interfaces (policies/ec2_run.json), and
  # the CI apply role may change only project-tagged EC2 resources (policies/deploy.json). A spot request tag
  # spec on an on-demand template would fail the launch, hence the dynamic block.
  dynamic "tag_specifications" {
    for_each = toset(concat(["instance", "volume", "network-interface"], var.use_spot ? ["spot-instances-request"] : []))
    content {
      resource_type = tag_specifications.value
      tags          = merge(var.tags, { Name = local.name, Project = var.name })
    }
  }

  tags = var.tags

  depends_on = [aws_s3_object.code]
}

resource "aws_s3_object" "code" {
  for_each = local.code_files

  bucket      = var.bucket_name
  key         = "code/${each.key}"
  source      = each.value
  source_hash = filemd5(each.value)
  kms_key_id  = var.kms_key_arn
  tags        = var.tags
}
