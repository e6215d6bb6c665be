# No internet gateway and no NAT: the notebook, the trainer and SageMaker reach AWS only through these endpoints.
# Each endpoint has a policy, so the VPC cannot reach other accounts' data through them (the default policy
# allows everything): S3 only the project buckets (this account's principals) and the AWS-owned objects the
# agents and package managers fetch; every interface endpoint only this account's principals.
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]
  policy = templatefile("${local.policies}/vpc_endpoint_s3.json", {
    account_id             = data.aws_caller_identity.current.account_id
    project_resources_json = jsonencode(flatten([for arn in var.s3_endpoint_bucket_arns : [arn, "${arn}/*"]]))
    aws_owned_objects_json = jsonencode(local.s3_endpoint_aws_owned_object_arns)
  })
  tags = merge(var.tags, { Name = "${var.name}-s3" })
}

resource "aws_security_group" "endpoints" {
  name        = "${var.name}-vpc-endpoints"
  description = "HTTPS from inside the VPC to the AWS interface endpoints"
  vpc_id      = aws_vpc.this.id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_https" {
  security_group_id = aws_security_group.endpoints.id
  description       = "HTTPS from the VPC"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.cidr_block
}

resource "aws_vpc_endpoint" "interface" {
  for_each = local.interface_services

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${data.aws_region.current.name}.${each.value}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints.id]
  policy = templatefile("${local.policies}/vpc_endpoint_account_only.json", {
    account_id = data.aws_caller_identity.current.account_id
  })
  tags = merge(var.tags, { Name = "${var.name}-${each.value}" })
}
