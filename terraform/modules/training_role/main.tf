data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  role_name = "${var.name}-sagemaker-training"
  policies  = "${path.module}/../../../policies"
}

resource "aws_iam_role" "this" {
  name                 = local.role_name
  description          = "Execution role of the project's SageMaker training and tuning jobs."
  max_session_duration = 43200 # training jobs can run for hours; SageMaker refreshes credentials itself
  permissions_boundary = var.permissions_boundary
  # aws:SourceArn as AWS's confused-deputy page shows it for training jobs, narrowed to the project's job names
  # (https://docs.aws.amazon.com/sagemaker/latest/dg/security-confused-deputy-prevention.html).
  assume_role_policy = templatefile("${local.policies}/trust_sagemaker.json", {
    account_id = data.aws_caller_identity.current.account_id
    source_arn = "arn:${data.aws_partition.current.partition}:sagemaker:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:training-job/${var.name}-*"
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name = "train-from-project-bucket"
  role = aws_iam_role.this.name
  policy = templatefile("${local.policies}/training_job.json", {
    partition           = data.aws_partition.current.partition
    region              = data.aws_region.current.name
    account_id          = data.aws_caller_identity.current.account_id
    bucket              = var.bucket_name
    kms_key_project_tag = var.kms_key_project_tag
  })
}
