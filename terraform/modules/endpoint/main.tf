data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

# The SageMaker PyTorch inference container; the lookup is offline (a table in the provider), no API call.
data "aws_sagemaker_prebuilt_ecr_image" "this" {
  repository_name = var.image_repository
  image_tag       = var.image_tag
}

locals {
  policies         = "${path.module}/../../../policies"
  model_object_arn = "arn:${data.aws_partition.current.partition}:s3:::${trimprefix(var.model_data_url, "s3://")}"
  # A new model name per artifact: the endpoint config then changes too and is replaced before the old one goes.
  model_name = "${var.name}-${substr(sha256(var.model_data_url), 0, 8)}"
}

resource "aws_sagemaker_model" "this" {
  name                     = local.model_name
  execution_role_arn       = aws_iam_role.this.arn
  enable_network_isolation = true

  primary_container {
    image          = data.aws_sagemaker_prebuilt_ecr_image.this.registry_path
    mode           = "SingleModel"
    model_data_url = var.model_data_url
    environment = {
      SAGEMAKER_PROGRAM             = "inference.py"
      SAGEMAKER_SUBMIT_DIRECTORY    = "/opt/ml/model/code"
      SAGEMAKER_CONTAINER_LOG_LEVEL = "20"
      SAGEMAKER_REGION              = data.aws_region.current.name
    }
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.this]
}

resource "aws_sagemaker_endpoint_configuration" "this" {
  name_prefix = "${var.name}-"
  kms_key_arn = var.kms_key_arn

  production_variants {
    variant_name           = var.variant_name
    model_name             = aws_sagemaker_model.this.name
    instance_type          = var.instance_type
    initial_instance_count = var.min_capacity
  }

  data_capture_config {
    enable_capture              = var.data_capture_sampling_percentage > 0
    initial_sampling_percentage = var.data_capture_sampling_percentage
    destination_s3_uri          = "s3://${var.bucket_name}/data-capture/${var.name}"
    kms_key_id                  = var.kms_key_arn

    capture_options {
      capture_mode = "Input"
    }

    capture_options {
      capture_mode = "Output"
    }

    capture_content_type_header {
      json_content_types = ["application/json"]
    }
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true # the live endpoint keeps its config until the update to the new one succeeded
  }
}

resource "aws_sagemaker_endpoint" "this" {
  name                 = var.name
  endpoint_config_name = aws_sagemaker_endpoint_configuration.this.name

  deployment_config {
    blue_green_update_policy {
      traffic_routing_configuration {
        type                     = "ALL_AT_ONCE"
        wait_interval_in_seconds = 300
      }
      maximum_execution_timeout_in_seconds = 3600
    }

    auto_rollback_configuration {
      alarms {
        alarm_name = aws_cloudwatch_metric_alarm.errors_5xx.alarm_name
      }
    }
  }

  tags = var.tags
}
