# The training side: bucket, private network (with the notebook's security group), training role and the notebook
# that launches jobs with it.
module "data_bucket" {
  source = "../../modules/data_bucket"

  name = var.name
}

module "network" {
  source = "../../modules/network"

  name                    = var.name
  kms_key_arn             = module.data_bucket.kms_key_arn
  s3_endpoint_bucket_arns = [module.data_bucket.bucket_arn]
  workload_security_groups = {
    notebook = { description = "Notebook instance: no inbound, HTTPS out to VPC endpoints and S3 only" }
    # Named as in the root stack: the security gates create this group in moto by that name (dev/offline_terraform.py).
    training = {
      name                = "${var.name}-training-jobs"
      description         = "SageMaker training and tuning jobs: all traffic within the group, HTTPS out to VPC endpoints and S3"
      enable_self_traffic = true
    }
  }
}

module "training_role" {
  source = "../../modules/training_role"

  name                = var.name
  bucket_name         = module.data_bucket.bucket_name
  kms_key_project_tag = module.data_bucket.kms_key_project_tag
}

module "notebook" {
  source = "../../modules/notebook"

  name                     = "${var.name}-notebook"
  job_name_prefix          = var.name
  subnet_id                = module.network.private_subnet_ids[0]
  security_group_ids       = [module.network.security_group_ids["notebook"]]
  kms_key_arn              = module.data_bucket.kms_key_arn
  kms_key_project_tag      = module.data_bucket.kms_key_project_tag
  bucket_name              = module.data_bucket.bucket_name
  training_role_arn        = module.training_role.role_arn
  idle_minutes_before_stop = 30

  training_subnet_ids         = module.network.private_subnet_ids
  training_security_group_ids = [module.network.security_group_ids["training"]]
}
