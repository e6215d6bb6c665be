output "role_name" {
  description = "Name of the training role."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the training role, built from its configured name so that policies using it are known at plan time."
  value       = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:role/${aws_iam_role.this.name}"
}
