resource "aws_iam_role" "this" {
  name                 = var.function_name
  description          = "Prediction Lambda: may invoke only the ${var.endpoint_name} endpoint."
  permissions_boundary = var.permissions_boundary
  assume_role_policy = templatefile("${local.policies}/trust_lambda.json", {
    account_id = data.aws_caller_identity.current.account_id
  })
  tags = var.tags
}

# The only SageMaker permission of the function: InvokeEndpoint on its own endpoint's ARN.
resource "aws_iam_role_policy" "invoke_endpoint" {
  name   = "invoke-endpoint"
  role   = aws_iam_role.this.name
  policy = templatefile("${local.policies}/predict_lambda.json", { endpoint_arn = local.endpoint_arn })
}

resource "aws_iam_role_policy" "runtime" {
  name = "logs-tracing-environment"
  role = aws_iam_role.this.name
  policy = templatefile("${local.policies}/lambda_runtime.json", {
    partition           = data.aws_partition.current.partition
    region              = data.aws_region.current.name
    account_id          = data.aws_caller_identity.current.account_id
    log_group_arn       = local.log_group_arn
    kms_key_project_tag = var.kms_key_project_tag
  })
}
