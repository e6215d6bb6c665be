data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  repository_root = "${path.root}/.."
  iam_prefix      = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}"
  # Every role below carries the workload boundary the bootstrap stack defines (terraform/bootstrap): the CI apply
  # role may create or change a role only with it (policies/deploy.json).
  permissions_boundary = coalesce(var.permissions_boundary_arn, "${local.iam_prefix}:policy/${var.name}-workload-boundary")
  # code/ is what the EC2 trainer and the notebook's kernel run: the bucket policy lets only these roles write it.
  code_writer_arns = distinct(concat(["${local.iam_prefix}:role/${var.name}-github-apply"], var.code_writer_role_arns))
  serve            = var.model_data_url != null
  package_path     = coalesce(var.predict_api.package_path, "${local.repository_root}/build/predict_lambda.zip")
  endpoint_name    = "${var.name}-endpoint"
  notebook_name    = "${var.name}-notebook"
  # A raw image is the InvokeEndpoint body: never larger than what the endpoint takes (4 MB serverless).
  endpoint_max_request_bytes = local.serve ? module.endpoint[0].max_request_bytes : null
  predict_max_image_bytes    = local.serve ? min(var.predict_api.max_image_bytes, local.endpoint_max_request_bytes) : null

  # The network module owns one security group per workload in the private subnets. These names and descriptions
  # are the ones the groups had in the notebook and ec2_trainer modules (moved.tf): changing either replaces a group.
  workloads = {
    notebook = {
      create      = true
      name        = "${local.notebook_name}-notebook"
      description = "Notebook instance: no inbound, HTTPS out to VPC endpoints and S3 only"
    }
    trainer = {
      create      = var.ec2_trainer.create
      name        = "${var.name}-ec2-trainer"
      description = "EC2 trainer: no inbound (Session Manager only), HTTPS out to VPC endpoints and S3"
    }
    # SageMaker training and tuning jobs (VpcConfig): torchrun/DDP between the instances of one job, S3 for data,
    # code, weights, checkpoints and models. dev/offline_terraform.py creates this group in moto with this name
    # and description, so keep the two in step.
    training = {
      create              = true
      name                = "${var.name}-training-jobs"
      description         = "SageMaker training and tuning jobs: all traffic within the group, HTTPS out to VPC endpoints and S3"
      enable_self_traffic = true
    }
  }
}

module "data_bucket" {
  source = "./modules/data_bucket"

  name = var.name
  # Teardown: destroy deletes the bucket's data only when the user opted in (README, "Teardown").
  force_destroy               = var.allow_destroy_data
  kms_deletion_window_in_days = var.allow_destroy_data ? 7 : 30
  # The stack's log groups (the Lambda's, the endpoint's, the training jobs', the flow logs'): the only ones the
  # key's CloudWatch Logs statement admits.
  log_group_names = [
    "/aws/lambda/${var.name}-predict",
    "/aws/sagemaker/Endpoints/${local.endpoint_name}",
    "/aws/sagemaker/TrainingJobs",
    "/vpc/${var.name}/flow-logs",
  ]
  prefix_writer_arns = { "code/" = local.code_writer_arns }
}

module "network" {
  source = "./modules/network"

  name                    = var.name
  kms_key_arn             = module.data_bucket.kms_key_arn
  s3_endpoint_bucket_arns = [module.data_bucket.bucket_arn]
  permissions_boundary    = local.permissions_boundary
  workload_security_groups = {
    for key, workload in local.workloads : key => {
      name                = workload.name
      description         = workload.description
      enable_self_traffic = try(workload.enable_self_traffic, false)
    } if workload.create
  }
}

module "training_role" {
  source = "./modules/training_role"

  name                 = var.name
  bucket_name          = module.data_bucket.bucket_name
  kms_key_project_tag  = module.data_bucket.kms_key_project_tag
  permissions_boundary = local.permissions_boundary
}

module "notebook" {
  source = "./modules/notebook"

  name                 = local.notebook_name
  job_name_prefix      = var.name
  instance_type        = var.notebook_instance_type
  subnet_id            = module.network.private_subnet_ids[0]
  security_group_ids   = [module.network.security_group_ids["notebook"]]
  kms_key_arn          = module.data_bucket.kms_key_arn
  kms_key_project_tag  = module.data_bucket.kms_key_project_tag
  bucket_name          = module.data_bucket.bucket_name
  training_role_arn    = module.training_role.role_arn
  permissions_boundary = local.permissions_boundary
  # The notebook may start jobs only here (policies/notebook.json), and its kernel launches them here.
  training_subnet_ids         = module.network.private_subnet_ids
  training_security_group_ids = [module.network.security_group_ids["training"]]
}

module "ec2_trainer" {
  source = "./modules/ec2_trainer"
  count  = var.ec2_trainer.create ? 1 : 0

  name                = var.name
  instance_type       = var.ec2_trainer.instance_type
  ami_id              = var.ec2_trainer.ami_id
  root_device_name    = var.ec2_trainer.root_device_name
  use_spot            = var.ec2_trainer.use_spot
  subnet_id           = module.network.private_subnet_ids[0]
  security_group_ids  = [module.network.security_group_ids["trainer"]]
  bucket_name         = module.data_bucket.bucket_name
  kms_key_arn         = module.data_bucket.kms_key_arn
  kms_key_project_tag = module.data_bucket.kms_key_project_tag
  user_data_template  = "${local.repository_root}/ec2/user_data.sh.tftpl"
  # train.py runs with training/ as sys.path[0], as on SageMaker, so the package travels next to it.
  code_dirs = {
    "training"          = "${local.repository_root}/training"
    "training/dogbreed" = "${local.repository_root}/src/dogbreed"
    "ec2"               = "${local.repository_root}/ec2"
  }
  data_s3_uri          = "s3://${module.data_bucket.bucket_name}/${var.ec2_trainer.data_prefix}"
  train_args           = var.ec2_trainer.train_args
  permissions_boundary = local.permissions_boundary
}

module "endpoint" {
  source = "./modules/endpoint"
  count  = local.serve ? 1 : 0

  name                             = local.endpoint_name
  model_data_url                   = var.model_data_url
  model_sha256                     = var.model_sha256
  bucket_name                      = module.data_bucket.bucket_name
  kms_key_arn                      = module.data_bucket.kms_key_arn
  kms_key_project_tag              = module.data_bucket.kms_key_project_tag
  instance_type                    = var.endpoint.instance_type
  image_tag                        = var.endpoint.image_tag
  serverless                       = var.endpoint.serverless
  enable_autoscaling               = var.endpoint.enable_autoscaling
  min_capacity                     = var.endpoint.min_capacity
  max_capacity                     = var.endpoint.max_capacity
  initial_instance_count           = var.endpoint.initial_instance_count
  deployment                       = var.endpoint.deployment
  post_deploy_check                = var.endpoint.post_deploy_check
  target_invocations_per_instance  = coalesce(var.autoscaling_invocations_per_instance, 100)
  data_capture_sampling_percentage = var.endpoint.data_capture_sampling_percentage
  log_retention_in_days            = var.endpoint.log_retention_in_days
  alarm_model_latency_ms           = var.endpoint.alarm_model_latency_ms
  alarm_actions                    = var.alarm_actions
  permissions_boundary             = local.permissions_boundary
}

module "predict_lambda" {
  source = "./modules/predict_lambda"
  count  = local.serve ? 1 : 0

  function_name              = "${var.name}-predict"
  package_path               = local.package_path
  endpoint_name              = module.endpoint[0].name
  top_k                      = var.predict_api.top_k
  max_image_bytes            = local.predict_max_image_bytes
  endpoint_max_request_bytes = local.endpoint_max_request_bytes
  allowed_url_hosts          = var.predict_api.allowed_url_hosts
  reserved_concurrency       = var.predict_api.reserved_concurrency
  provisioned_concurrency    = var.predict_api.provisioned_concurrency
  function_url_auth_type     = var.predict_api.function_url_auth_type
  function_url_invoker_arns  = var.predict_api.function_url_invoker_arns
  kms_key_arn                = module.data_bucket.kms_key_arn
  kms_key_project_tag        = module.data_bucket.kms_key_project_tag
  permissions_boundary       = local.permissions_boundary
}

module "budget" {
  source = "./modules/budget"
  count  = var.budget.create ? 1 : 0

  name                         = "${var.name}-monthly"
  project_tag_value            = var.name
  monthly_limit_usd            = var.budget.monthly_limit_usd
  alert_threshold_percent      = var.budget.alert_threshold_percent
  forecast_alert               = var.budget.forecast_alert
  alert_emails                 = var.budget.alert_emails
  alert_sns_topic_arns         = var.budget.alert_sns_topic_arns
  activate_cost_allocation_tag = var.budget.activate_cost_allocation_tag
}
