data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  policies   = "${path.module}/../../../policies"
  repository = "repo:${var.github_repository}"
  # GitHub puts the environment, not the branch, into `sub` when a job names an environment.
  plan_subjects  = ["${local.repository}:pull_request", "${local.repository}:ref:refs/heads/${var.main_branch}"]
  apply_subjects = ["${local.repository}:environment:${var.apply_environment}"]
  provider_arn = (var.create_oidc_provider
    ? "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/token.actions.githubusercontent.com"
  : var.existing_oidc_provider_arn)
  common_vars = {
    partition           = data.aws_partition.current.partition
    region              = data.aws_region.current.name
    account_id          = data.aws_caller_identity.current.account_id
    state_bucket        = var.state_bucket_name
    state_key           = var.state_key
    kms_key_project_tag = var.state_kms_key_project_tag
  }
  roles = {
    plan  = { subjects = local.plan_subjects, description = "Terraform plan from pull requests and main: read-only." }
    apply = { subjects = local.apply_subjects, description = "Terraform apply of the reviewed plan, protected environment only." }
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

# Reading every resource of the stack is what a refresh needs; ReadOnlyAccess is AWS-managed but read-only.
resource "aws_iam_role_policy_attachment" "read_only" {
  for_each = local.roles

  role       = aws_iam_role.this[each.key].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy" "state" {
  for_each = local.roles

  name   = "terraform-state"
  role   = aws_iam_role.this[each.key].name
  policy = templatefile("${local.policies}/terraform_state.json", local.common_vars)
}

resource "aws_iam_role_policy" "deploy" {
  name = "deploy-project"
  role = aws_iam_role.this["apply"].name
  policy = templatefile("${local.policies}/deploy.json", {
    partition  = data.aws_partition.current.partition
    region     = data.aws_region.current.name
    account_id = data.aws_caller_identity.current.account_id
    name       = var.project_name
  })
}
