data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  policies   = "${path.module}/../../../policies"
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id
  repository = "repo:${var.github_repository}"
  # GitHub puts the environment, not the branch, into `sub` when a job names an environment.
  plan_subjects  = ["${local.repository}:pull_request", "${local.repository}:ref:refs/heads/${var.main_branch}"]
  apply_subjects = ["${local.repository}:environment:${var.apply_environment}"]
  provider_arn = (var.create_oidc_provider
    ? "arn:${local.partition}:iam::${local.account_id}:oidc-provider/token.actions.githubusercontent.com"
  : var.existing_oidc_provider_arn)
  roles = {
    plan  = { subjects = local.plan_subjects, description = "Terraform plan from pull requests and main: reads the stack, reads the state, writes only the lock file." }
    apply = { subjects = local.apply_subjects, description = "Terraform apply of the reviewed plan, protected environment only; every role it creates carries the workload boundary." }
  }
  role_arn     = { for key in keys(local.roles) : key => "arn:${local.partition}:iam::${local.account_id}:role/${var.name}-github-${key}" }
  boundary_arn = "arn:${local.partition}:iam::${local.account_id}:policy/${var.project_name}-workload-boundary"
  # The project bucket as the root stack names it (modules/data_bucket: <name>-<account id>-<region>).
  project_bucket = "${var.project_name}-${local.account_id}-${local.region}"
  # The roles the root stack creates, by the service each is passed to ("" for the training role, which the notebook
  # passes to SageMaker and the apply role never does). The apply role may create and change these roles only.
  workload_roles = coalesce(var.workload_roles, {
    "${var.project_name}-sagemaker-training" = ""
    "${var.project_name}-notebook-notebook"  = "sagemaker.amazonaws.com"
    "${var.project_name}-endpoint-endpoint"  = "sagemaker.amazonaws.com"
    "${var.project_name}-predict"            = "lambda.amazonaws.com"
    "${var.project_name}-ec2-trainer"        = "ec2.amazonaws.com"
    "${var.project_name}-vpc-flow-logs"      = "vpc-flow-logs.amazonaws.com"
  })
  workload_role_arns = { for role, service in local.workload_roles : role => "arn:${local.partition}:iam::${local.account_id}:role/${role}" }
  passed_to = {
    for service in ["sagemaker.amazonaws.com", "lambda.amazonaws.com", "ec2.amazonaws.com", "vpc-flow-logs.amazonaws.com"] :
    service => [for role, target in local.workload_roles : local.workload_role_arns[role] if target == service]
  }
  project_vars = {
    partition           = local.partition
    region              = local.region
    account_id          = local.account_id
    name                = var.project_name
    bucket              = local.project_bucket
    workload_roles_json = jsonencode(values(local.workload_role_arns))
  }
  state_vars = {
    partition           = local.partition
    region              = local.region
    account_id          = local.account_id
    state_bucket        = var.state_bucket_name
    state_key           = var.state_key
    kms_key_project_tag = var.state_kms_key_project_tag
  }
}

resource "aws_iam_openid_connect_provider" "this" {
  count = var.create_oidc_provider ? 1 : 0

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
  tags           = var.tags
}

resource "aws_iam_role" "this" {
  for_each = local.roles

  name                 = "${var.name}-github-${each.key}"
  description          = each.value.description
  max_session_duration = 3600
  assume_role_policy = templatefile("${local.policies}/trust_github_oidc.json", {
    oidc_provider_arn = local.provider_arn
    subjects_json     = jsonencode(each.value.subjects)
  })
  tags = var.tags

  depends_on = [aws_iam_openid_connect_provider.this]
}

# The ceiling of every role the project stack creates: the apply role may create or change a role only while it
# carries this boundary, and may never change the boundary itself (policies/deploy.json).
resource "aws_iam_policy" "workload_boundary" {
  name        = "${var.project_name}-workload-boundary"
  description = "Permissions boundary of the ${var.project_name} stack's roles: the project bucket, keys, log groups and SageMaker resources only."
  policy      = templatefile("${local.policies}/workload_boundary.json", local.project_vars)
  tags        = var.tags
}

# What a plan (refresh) reads: this stack's resources only, no AWS-managed ReadOnlyAccess. The apply role refreshes too.
resource "aws_iam_role_policy" "plan_read" {
  for_each = local.roles

  name   = "read-the-stack"
  role   = aws_iam_role.this[each.key].name
  policy = templatefile("${local.policies}/terraform_plan_read.json", local.project_vars)
}

resource "aws_iam_role_policy" "state" {
  for_each = local.roles

  name   = "terraform-state"
  role   = aws_iam_role.this[each.key].name
  policy = templatefile("${local.policies}/${each.key == "plan" ? "terraform_state_plan.json" : "terraform_state.json"}", local.state_vars)
}

resource "aws_iam_role_policy" "deploy" {
  name = "deploy-project"
  role = aws_iam_role.this["apply"].name
  policy = templatefile("${local.policies}/deploy.json", merge(local.project_vars, {
    boundary_arn         = local.boundary_arn
    deploy_roles_json    = jsonencode(values(local.role_arn))
    sagemaker_roles_json = jsonencode(local.passed_to["sagemaker.amazonaws.com"])
    lambda_roles_json    = jsonencode(local.passed_to["lambda.amazonaws.com"])
    ec2_roles_json       = jsonencode(local.passed_to["ec2.amazonaws.com"])
    flow_logs_roles_json = jsonencode(local.passed_to["vpc-flow-logs.amazonaws.com"])
  }))

  lifecycle {
    precondition {
      condition     = alltrue([for roles in values(local.passed_to) : length(roles) > 0])
      error_message = "workload_roles must name at least one role for each of sagemaker, lambda, ec2 and vpc-flow-logs (the apply policy passes roles to each)."
    }
  }
}
