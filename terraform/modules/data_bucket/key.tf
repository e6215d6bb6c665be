locals {
  # CloudWatch Logs may use the key only for the stack's log groups: the encryption context it sends is the log
  # group's ARN (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html). Without log
  # groups (the state bucket's key) the statement is left out.
  log_group_arns = [
    for name in var.log_group_names :
    "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:${name}"
  ]
  key_policy = jsondecode(templatefile("${local.policies}/kms_key.json", {
    partition           = data.aws_partition.current.partition
    region              = data.aws_region.current.name
    account_id          = data.aws_caller_identity.current.account_id
    log_group_arns_json = jsonencode(local.log_group_arns)
  }))
  key_policy_statements = [
    for statement in local.key_policy.Statement : statement
    if length(local.log_group_arns) > 0 || !startswith(statement.Sid, "CloudWatchLogs")
  ]
}

resource "aws_kms_key" "this" {
  description             = "Encrypts ${local.bucket_name} and the project's logs, volumes and endpoint storage."
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days
  policy                  = jsonencode(merge(local.key_policy, { Statement = local.key_policy_statements }))
  tags                    = merge(var.tags, { Project = var.name })
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}
