# A published model (dogbreed-launch publish: models/published/<sha256>/model.tar.gz in the project bucket), served
# by an autoscaled endpoint behind the IAM-authenticated Lambda.
module "data_bucket" {
  source = "../../modules/data_bucket"

  name = var.name
}

module "endpoint" {
  source = "../../modules/endpoint"

  name                            = "${var.name}-endpoint"
  model_data_url                  = "s3://${module.data_bucket.bucket_name}/models/published/${var.model_sha256}/model.tar.gz"
  model_sha256                    = var.model_sha256
  bucket_name                     = module.data_bucket.bucket_name
  kms_key_arn                     = module.data_bucket.kms_key_arn
  kms_key_project_tag             = module.data_bucket.kms_key_project_tag
  instance_type                   = "ml.c5.xlarge"
  min_capacity                    = 2
  max_capacity                    = 3
  target_invocations_per_instance = 150
}

module "predict_lambda" {
  source = "../../modules/predict_lambda"

  function_name       = "${var.name}-predict"
  package_path        = var.package_path
  endpoint_name       = module.endpoint.name
  kms_key_arn         = module.data_bucket.kms_key_arn
  kms_key_project_tag = module.data_bucket.kms_key_project_tag
}
