resource "aws_iam_role" "this" {
  name                 = "${var.name}-endpoint"
  description          = "Execution role of the ${var.name} endpoint: reads the published model artifacts, writes captured data."
  permissions_boundary = var.permissions_boundary
  # For inference AWS documents aws:SourceArn only in this account-wide form ("do not replace it with the ARN of a
  # model or endpoint": https://docs.aws.amazon.com/sagemaker/latest/dg/security-confused-deputy-prevention.html).
  assume_role_policy = templatefile("${local.policies}/trust_sagemaker.json", {
    account_id = data.aws_caller_identity.current.account_id
    source_arn = "arn:${data.aws_partition.current.partition}:sagemaker:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:*"
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name = "serve-model"
  role = aws_iam_role.this.name
  policy = templatefile("${local.policies}/endpoint.json", {
    partition     = data.aws_partition.current.partition
    region        = data.aws_region.current.name
    account_id    = data.aws_caller_identity.current.account_id
    bucket        = var.bucket_name
    endpoint_name = var.name
    # Every published artifact, not only the one being deployed: the policy does not change with the model, so
    # during an update (and after a rollback) the old fleet can still download its model. Published artifacts
    # are write-once and named after their SHA-256, so reading one never means reading something unreviewed.
    published_models_arn = "arn:${data.aws_partition.current.partition}:s3:::${var.bucket_name}/${var.published_models_prefix}*"
    # AWS: the execution role needs cloudwatch:DescribeAlarms on the auto-rollback alarms.
    rollback_alarm_arns = jsonencode([for name in local.rollback_alarm_names : "${local.alarm_arn_prefix}${name}"])
    kms_key_project_tag = var.kms_key_project_tag
  })
}
