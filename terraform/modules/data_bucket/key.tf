resource "aws_kms_key" "this" {
  description             = "Encrypts ${local.bucket_name} and the project's logs, volumes and endpoint storage."
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days
  policy = templatefile("${local.policies}/kms_key.json", {
    partition  = data.aws_partition.current.partition
    region     = data.aws_region.current.name
    account_id = data.aws_caller_identity.current.account_id
  })
  tags = merge(var.tags, { Project = var.name })
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}
