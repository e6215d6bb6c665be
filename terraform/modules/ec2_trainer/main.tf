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
    code_s3_uri   = "s3://${var.bucket_name}/code/"
    data_s3_uri   = var.data_s3_uri
    output_s3_uri = "s3://${var.bucket_name}/ec2-runs/"
    train_args    = var.train_args
  })
}

resource "aws_instance" "this" {
  ami                                  = coalesce(var.ami_id, try(nonsensitive(data.aws_ssm_parameter.dlami[0].value), null))
  instance_type                        = var.instance_type
  subnet_id                            = var.subnet_id
  vpc_security_group_ids               = var.security_group_ids
  iam_instance_profile                 = aws_iam_instance_profile.this.name
  instance_initiated_shutdown_behavior = "terminate" # the bootstrap powers off when training ends
  ebs_optimized                        = true
  monitoring                           = true
  user_data_base64                     = base64encode(local.user_data)
  user_data_replace_on_change          = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = var.root_volume_size_gb
    encrypted   = true
    kms_key_id  = var.kms_key_arn
  }

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

  tags = merge(var.tags, { Name = local.name })
  # Tagged at launch like the instance: the CI apply role may launch (and later change) only volumes that carry
  # the project's tag (aws:RequestTag/Project in policies/deploy.json); default_tags reach the instance only.
  volume_tags = merge(var.tags, { Name = local.name, Project = var.name })

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
