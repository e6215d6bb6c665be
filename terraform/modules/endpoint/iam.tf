resource "aws_iam_role" "this" {
  name                 = "${var.name}-endpoint"
  description          = "Execution role of the ${var.name} endpoint: reads its model artifact, writes captured data."
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
    partition           = data.aws_partition.current.partition
    region              = data.aws_region.current.name
    account_id          = data.aws_caller_identity.current.account_id
    bucket              = var.bucket_name
    endpoint_name       = var.name
    model_object_arn    = local.model_object_arn
    kms_key_project_tag = var.kms_key_project_tag
  })
}
