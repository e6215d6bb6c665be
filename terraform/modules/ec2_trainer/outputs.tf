output "launch_template_id" {
  description = "Launch template of the trainer: `dogbreed-launch ec2-run --run-id <id>` starts a run from it."
  value       = aws_launch_template.this.id
}

output "launch_template_name" {
  description = "Name of the trainer's launch template."
  value       = aws_launch_template.this.name
}

output "role_arn" {
  description = "ARN of the instance role (passed to EC2 through the launch template's instance profile)."
  value       = aws_iam_role.this.arn
}

output "output_s3_uri" {
  description = "Where each run writes its checkpoints, model and metrics: <output_s3_uri><run id>/."
  value       = "s3://${var.bucket_name}/ec2-runs/"
}

output "role_name" {
  description = "Name of the instance role (known at plan time): the role whoever runs ec2-run passes to EC2."
  value       = aws_iam_role.this.name
}

output "instance_profile_name" {
  description = "Name of the instance profile the launch template names (known at plan time)."
  value       = aws_iam_instance_profile.this.name
}
