# Applied once, by an administrator, before the first pipeline run: the state bucket of the project stack and
# the GitHub OIDC roles that plan and apply it.
module "state_bucket" {
  source = "../modules/data_bucket"

  name                               = "${var.name}-tfstate"
  noncurrent_version_expiration_days = 90
  prefix_expiration_days             = {}
  write_once_prefixes                = [] # no published models in the state bucket
}

module "github_oidc" {
  source = "../modules/github_oidc"

  name                       = var.name
  project_name               = var.name
  github_repository          = var.github_repository
  apply_environment          = var.apply_environment
  create_oidc_provider       = var.create_oidc_provider
  existing_oidc_provider_arn = var.existing_oidc_provider_arn
  state_bucket_name          = module.state_bucket.bucket_name
  state_key                  = "${var.name}/terraform.tfstate"
  state_kms_alias_name       = module.state_bucket.kms_alias_name
  state_kms_key_project_tag  = module.state_bucket.kms_key_project_tag
}
