data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  role_name = "${var.name}-notebook"
  policies  = "${path.module}/../../../policies"
  # What the launcher reads as the root stack's outputs; the kernel finds it through $DOGBREED_TF_OUTPUTS.
  launcher_settings = {
    region                      = data.aws_region.current.name
    data_bucket_name            = var.bucket_name
    kms_key_arn                 = var.kms_key_arn
    training_role_arn           = var.training_role_arn
    training_subnet_ids         = var.training_subnet_ids
    training_security_group_ids = var.training_security_group_ids
    name                        = var.job_name_prefix
  }
  on_start = base64encode(templatefile("${path.module}/on_start.sh.tftpl", {
    idle_minutes       = var.idle_minutes_before_stop
    stop_when_idle_py  = file("${path.module}/stop_when_idle.py")
    kernel_install_sh  = file("${path.module}/install_kernel.sh")
    code_s3_uri        = "s3://${var.bucket_name}/${var.code_s3_prefix}"
    launcher_settings  = jsonencode(local.launcher_settings)
    kernel_base_python = var.kernel_base_python
  }))
}

resource "aws_sagemaker_notebook_instance" "this" {
  name                   = var.name
  instance_type          = var.instance_type
  role_arn               = aws_iam_role.this.arn
  subnet_id              = var.subnet_id
  security_groups        = var.security_group_ids
  direct_internet_access = "Disabled" # set explicitly: the provider default is "Enabled"
  root_access            = "Disabled"
  kms_key_id             = var.kms_key_arn
  volume_size            = var.volume_size_gb
  platform_identifier    = var.platform_identifier
  lifecycle_config_name  = aws_sagemaker_notebook_instance_lifecycle_configuration.this.name

  instance_metadata_service_configuration {
    minimum_instance_metadata_service_version = "2"
  }

  tags = var.tags
}

resource "aws_sagemaker_notebook_instance_lifecycle_configuration" "this" {
  name     = "${var.name}-stop-when-idle"
  on_start = local.on_start

  lifecycle {
    precondition {
      condition     = length(local.on_start) <= 16384
      error_message = "The on-start script is over 16384 characters once base64-encoded (NotebookInstanceLifecycleHook.Content)."
    }
  }
}
