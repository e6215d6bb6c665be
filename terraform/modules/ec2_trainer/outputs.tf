output "instance_id" {
  description = "ID of the trainer instance (connect with aws ssm start-session)."
  value       = aws_instance.this.id
}

output "role_arn" {
  description = "ARN of the instance role."
  value       = aws_iam_role.this.arn
}

output "output_s3_uri" {
  description = "Where the run writes its model and metrics."
  value       = "s3://${var.bucket_name}/ec2-runs/"
}
