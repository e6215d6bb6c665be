data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  azs                    = var.availability_zones != null ? var.availability_zones : [for suffix in ["a", "b"] : "${data.aws_region.current.name}${suffix}"]
  flow_log_group_arn     = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:${local.flow_log_group_name}"
  flow_log_group_name    = "/vpc/${var.name}/flow-logs"
  policies               = "${path.module}/../../../policies"
  interface_services     = toset(var.interface_endpoint_services)
  self_traffic_workloads = { for key, group in var.workload_security_groups : key => group if group.enable_self_traffic }

  # What inside the VPC fetches from AWS-owned buckets through the S3 gateway endpoint (GetObject only):
  # - SSM Agent on the EC2 trainer (Session Manager, agent updates, documents): the buckets of
  #   https://docs.aws.amazon.com/systems-manager/latest/userguide/ssm-agent-minimum-s3-permissions.html
  # - yum on the notebook instance (platform notebook-al2-*, Amazon Linux 2): its repositories, as listed in
  #   aws-samples/data-perimeter-policy-examples vpc_endpoint_policies/s3_endpoint_policy.json.
  # Not listed because nothing in the VPC pulls container images (no ECR endpoint; SageMaker pulls the endpoint's
  # and the jobs' images itself): the ECR layer bucket prod-<region>-starport-layer-bucket.
  region_name = data.aws_region.current.name
  s3_endpoint_aws_owned_object_arns = coalesce(var.s3_endpoint_aws_owned_object_arns, [
    for bucket in [
      "aws-ssm-${local.region_name}",
      "amazon-ssm-${local.region_name}",
      "amazon-ssm-packages-${local.region_name}",
      "${local.region_name}-birdwatcher-prod",
      "aws-ssm-distributor-file-${local.region_name}",
      "aws-ssm-document-attachments-${local.region_name}",
      "patch-baseline-snapshot-${local.region_name}",
      "amazonlinux.${local.region_name}.amazonaws.com",
      "amazonlinux-2-repos-${local.region_name}",
    ] : "arn:${data.aws_partition.current.partition}:s3:::${bucket}/*"
  ])
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = merge(var.tags, { Name = var.name })
}

# The default security group of a VPC allows all traffic between members; strip every rule from it.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-default-unused" })
}

resource "aws_subnet" "private" {
  count = length(local.azs)

  vpc_id            = aws_vpc.this.id
  availability_zone = local.azs[count.index]
  cidr_block        = cidrsubnet(var.cidr_block, 4, count.index)
  tags              = merge(var.tags, { Name = "${var.name}-private-${local.azs[count.index]}" })
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-private" })
}

resource "aws_route_table_association" "private" {
  count = length(local.azs)

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}
