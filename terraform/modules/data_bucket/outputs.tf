output "bucket_name" {
  description = "Name of the data bucket."
  value       = aws_s3_bucket.this.bucket # configured, so known at plan time
}

output "bucket_arn" {
  description = "ARN of the data bucket."
  value       = "arn:${data.aws_partition.current.partition}:s3:::${aws_s3_bucket.this.bucket}"
}

output "kms_key_arn" {
  description = "ARN of the customer key encrypting the bucket, logs, volumes and endpoint storage."
  value       = aws_kms_key.this.arn
}

output "kms_key_project_tag" {
  description = "Project tag of the key; role policies grant key use through aws:ResourceTag/Project."
  value       = aws_kms_key.this.tags["Project"]
}

output "kms_alias_name" {
  description = "Alias of the key (alias/<name>)."
  value       = aws_kms_alias.this.name
}

output "force_destroy" {
  description = "Whether destroy deletes the bucket with the objects and versions it holds."
  value       = aws_s3_bucket.this.force_destroy
}

output "kms_deletion_window_in_days" {
  description = "Days the key stays pending deletion after destroy."
  value       = aws_kms_key.this.deletion_window_in_days
}
