data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

# The SageMaker PyTorch inference container; the lookup is offline (a table in the provider), no API call.
data "aws_sagemaker_prebuilt_ecr_image" "this" {
  repository_name = var.image_repository
  image_tag       = var.image_tag
}

locals {
  policies   = "${path.module}/../../../policies"
  serverless = var.serverless != null

  # A new model name per artifact: its SHA-256 (recorded by publish) is in the name, so a different artifact is
  # always a new model, hence a new endpoint configuration replaced before the old one goes. 16 hex digits
  # (64 bits) keep the name within SageMaker's 63 characters for a 36-character endpoint name; the model's
  # ModelSha256 tag carries the full hash.
  model_name = "${var.name}-${substr(var.model_sha256, 0, 16)}"

  # AWS's rule for a KMS key on an instance's storage, as the SageMaker Python SDK encodes it
  # (sagemaker.core.common_utils.instance_supports_kms = volume_size_supported, sagemaker 3.27): instance types
  # with local NVMe instance storage take no key (AWS encrypts that storage in hardware; CreateEndpointConfig's
  # KmsKeyId "does not encrypt instance local storage" there). "Any instance type with a 'd' in the instance
  # family (i.e. c5d, p4d, etc) + g5, g6, g7e, p5, p6-b200, trn1 or trn2 does not support attaching an EBS volume."
  # tests/infra/test_endpoint_kms_rule.py proves this agrees with the SDK's function on the tested table.
  instance_family       = split(".", var.instance_type)[1]
  instance_supports_kms = !strcontains(local.instance_family, "d") && !anytrue([for prefix in ["g5", "g6", "g7e", "p5", "p6-b200", "trn1", "trn2"] : startswith(local.instance_family, prefix)])
  # Serverless variants have no instance storage and take no key on the endpoint configuration.
  endpoint_config_kms_key_arn = !local.serverless && local.instance_supports_kms ? var.kms_key_arn : null

  initial_instance_count = max(var.min_capacity, coalesce(var.initial_instance_count, var.min_capacity))
  container_environment = {
    SAGEMAKER_PROGRAM             = "inference.py"
    SAGEMAKER_SUBMIT_DIRECTORY    = "/opt/ml/model/code"
    SAGEMAKER_CONTAINER_LOG_LEVEL = "20"
    SAGEMAKER_REGION              = data.aws_region.current.name
  }
  model           = one(concat(aws_sagemaker_model.this, aws_sagemaker_model.serverless))
  traffic_routing = local.serverless ? "ALL_AT_ONCE" : var.deployment.traffic_routing
}

# One model: network-isolated on instances; without isolation only for serverless, which does not support it
# (AWS). Two resources rather than a conditional attribute, so that checkov's CKV_AWS_370 still reads a literal
# `true` on the instance model, and the one exception is visible where it is made.
resource "aws_sagemaker_model" "this" {
  count = local.serverless ? 0 : 1

  name                     = local.model_name
  execution_role_arn       = aws_iam_role.this.arn
  enable_network_isolation = true

  primary_container {
    image          = data.aws_sagemaker_prebuilt_ecr_image.this.registry_path
    mode           = "SingleModel"
    model_data_url = var.model_data_url
    environment    = local.container_environment
  }

  tags = merge(var.tags, { ModelSha256 = var.model_sha256 })

  depends_on = [aws_iam_role_policy.this]
}

resource "aws_sagemaker_model" "serverless" {
  #checkov:skip=CKV_AWS_370:Serverless Inference does not support network isolation (AWS); this model exists only when var.serverless is set with acknowledge_no_network_isolation = true
  count = local.serverless ? 1 : 0

  name                     = local.model_name
  execution_role_arn       = aws_iam_role.this.arn
  enable_network_isolation = false

  primary_container {
    image          = data.aws_sagemaker_prebuilt_ecr_image.this.registry_path
    mode           = "SingleModel"
    model_data_url = var.model_data_url
    environment    = local.container_environment
  }

  tags = merge(var.tags, { ModelSha256 = var.model_sha256 })

  depends_on = [aws_iam_role_policy.this]
}

resource "aws_sagemaker_endpoint_configuration" "this" {
  name_prefix = "${var.name}-"
  kms_key_arn = local.endpoint_config_kms_key_arn

  production_variants {
    variant_name           = var.variant_name
    model_name             = local.model.name
    instance_type          = local.serverless ? null : var.instance_type
    initial_instance_count = local.serverless ? null : local.initial_instance_count

    dynamic "serverless_config" {
      for_each = local.serverless ? [var.serverless] : []
      content {
        memory_size_in_mb       = serverless_config.value.memory_size_in_mb
        max_concurrency         = serverless_config.value.max_concurrency
        provisioned_concurrency = serverless_config.value.provisioned_concurrency
      }
    }
  }

  dynamic "data_capture_config" {
    for_each = local.serverless ? [] : [var.data_capture_sampling_percentage]
    content {
      enable_capture              = data_capture_config.value > 0
      initial_sampling_percentage = data_capture_config.value
      destination_s3_uri          = "s3://${var.bucket_name}/data-capture/${var.name}"
      kms_key_id                  = var.kms_key_arn # S3 server-side encryption: every instance type

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
        type                     = local.traffic_routing
        wait_interval_in_seconds = var.deployment.wait_interval_seconds

        dynamic "canary_size" {
          for_each = local.traffic_routing == "CANARY" ? [var.deployment.step_instances] : []
          content {
            type  = "INSTANCE_COUNT"
            value = canary_size.value
          }
        }

        dynamic "linear_step_size" {
          for_each = local.traffic_routing == "LINEAR" ? [var.deployment.step_instances] : []
          content {
            type  = "INSTANCE_COUNT"
            value = linear_step_size.value
          }
        }
      }
      termination_wait_in_seconds          = var.deployment.termination_wait_seconds
      maximum_execution_timeout_in_seconds = var.deployment.maximum_execution_timeout_seconds
    }

    auto_rollback_configuration {
      dynamic "alarms" {
        for_each = local.rollback_alarm_names
        content {
          alarm_name = alarms.value
        }
      }
    }
  }

  tags = var.tags

  # SageMaker writes into the group when it exists; created first, it carries the key and the retention.
  depends_on = [aws_cloudwatch_log_group.this]
}
