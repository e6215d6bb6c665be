# The group SageMaker writes the endpoint's container logs to (the SageMaker Python SDK reads them from
# /aws/sagemaker/Endpoints/<endpoint name>, streams <variant>/<instance>). Declared here so that it exists before
# the endpoint, with the project key and a retention; left to SageMaker it would have neither.
# The key policy must let CloudWatch Logs use the key for this group (encryption context
# kms:EncryptionContext:aws:logs:arn = log_group_arn, an output of this module).
locals {
  log_group_name = "/aws/sagemaker/Endpoints/${var.name}"
  log_group_arn  = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:${local.log_group_name}"
}

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}
