resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = local.flow_log_group_name
  retention_in_days = var.flow_log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_iam_role" "flow_logs" {
  name                 = "${var.name}-vpc-flow-logs"
  permissions_boundary = var.permissions_boundary
  # aws:SourceAccount and aws:SourceArn (this account's flow logs) as the VPC guide recommends
  # (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html).
  assume_role_policy = templatefile("${local.policies}/trust_vpc_flow_logs.json", {
    partition  = data.aws_partition.current.partition
    region     = data.aws_region.current.name
    account_id = data.aws_caller_identity.current.account_id
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "deliver-flow-logs"
  role   = aws_iam_role.flow_logs.name
  policy = templatefile("${local.policies}/vpc_flow_logs.json", { log_group_arn = local.flow_log_group_arn })
}

resource "aws_flow_log" "this" {
  vpc_id               = aws_vpc.this.id
  traffic_type         = "ALL"
  log_destination_type = "cloud-watch-logs"
  log_destination      = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn         = aws_iam_role.flow_logs.arn
  tags                 = var.tags
}
