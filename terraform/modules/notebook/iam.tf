resource "aws_iam_role" "this" {
  name                 = local.role_name
  description          = "Notebook instance: runs the project's training and tuning jobs, passes only the training role."
  permissions_boundary = var.permissions_boundary
  # AWS documents no aws:SourceArn for notebook instances (its confused-deputy page covers jobs, inference, Studio,
  # ...), so the trust keeps aws:SourceAccount only: an ArnLike on a key SageMaker does not send would lock it out.
  assume_role_policy = templatefile("${local.policies}/trust_sagemaker_notebook.json", {
    account_id = data.aws_caller_identity.current.account_id
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name = "run-project-training"
  role = aws_iam_role.this.name
  policy = templatefile("${local.policies}/notebook.json", {
    partition           = data.aws_partition.current.partition
    region              = data.aws_region.current.name
    account_id          = data.aws_caller_identity.current.account_id
    name                = var.job_name_prefix
    notebook_name       = var.name
    bucket              = var.bucket_name
    kms_key_project_tag = var.kms_key_project_tag
    kms_key_arn         = var.kms_key_arn
    training_role_arn   = var.training_role_arn
    # The kernel's wheelhouse and code: read, never written (code/ is written by the CI apply role only).
    code_prefix = var.code_s3_prefix
    # Jobs only in these subnets and security groups, on these instance types (policies/notebook.json).
    training_subnet_ids_json          = jsonencode(var.training_subnet_ids)
    training_security_group_ids_json  = jsonencode(var.training_security_group_ids)
    ebs_instance_types_json           = jsonencode(var.training_instance_types.ebs_only)
    local_storage_instance_types_json = jsonencode(var.training_instance_types.local_storage)
  })
}
