# One security group per workload in the private subnets (var.workload_security_groups): no inbound rule, HTTPS out
# to the interface endpoints (inside the VPC) and to S3 (the gateway endpoint's prefix list), nothing else.
resource "aws_security_group" "workload" {
  for_each = var.workload_security_groups

  name        = coalesce(each.value.name, "${var.name}-${each.key}")
  description = each.value.description
  vpc_id      = aws_vpc.this.id
  tags        = var.tags
}

resource "aws_vpc_security_group_egress_rule" "workload_https_to_vpc_endpoints" {
  for_each = var.workload_security_groups

  security_group_id = aws_security_group.workload[each.key].id
  description       = "HTTPS to the VPC interface endpoints"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = aws_vpc.this.cidr_block
}

resource "aws_vpc_security_group_egress_rule" "workload_https_to_s3" {
  for_each = var.workload_security_groups

  security_group_id = aws_security_group.workload[each.key].id
  description       = "HTTPS to S3 through the gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id
}

# Multi-node workloads (e.g. distributed SageMaker training jobs) talk among themselves: all traffic, but only
# between members of the same group (https://docs.aws.amazon.com/sagemaker/latest/dg/train-vpc.html).
resource "aws_vpc_security_group_ingress_rule" "workload_self" {
  for_each = local.self_traffic_workloads

  security_group_id            = aws_security_group.workload[each.key].id
  description                  = "All traffic from members of this group"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.workload[each.key].id
}

resource "aws_vpc_security_group_egress_rule" "workload_self" {
  for_each = local.self_traffic_workloads

  security_group_id            = aws_security_group.workload[each.key].id
  description                  = "All traffic to members of this group"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.workload[each.key].id
}
