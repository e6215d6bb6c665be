output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "IDs of the private subnets (no route to the internet)."
  value       = aws_subnet.private[*].id
}

output "s3_prefix_list_id" {
  description = "Prefix list of the S3 gateway endpoint, for security group egress rules."
  value       = aws_vpc_endpoint.s3.prefix_list_id
}

output "security_group_ids" {
  description = "ID of each workload's security group, by the keys of workload_security_groups."
  value       = { for key, group in aws_security_group.workload : key => group.id }
}

output "interface_endpoint_services" {
  description = "Services with an interface endpoint (each billed per Availability Zone-hour); known at plan time."
  value       = var.interface_endpoint_services
}

output "availability_zone_count" {
  description = "Number of Availability Zones, private subnets and interface endpoint network interfaces per endpoint; known at plan time."
  value       = length(local.azs)
}
