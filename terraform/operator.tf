# The policy of the operators: the people who run the one-off commands from a workstation with internet
# (dogbreed-build-notebook-bundle, dogbreed-stage-weights, dogbreed-launch ec2-run; docs/infra.md, "Operators").
# The stack creates no IAM resource for them: an administrator attaches this document to the operator's role and
# names that role in code_writer_role_arns, so nothing the CI apply role can change widens what a person may do.
# Name-derived ARNs keep the document known at plan time, with or without the EC2 trainer.
locals {
  operator_policy = templatefile("${local.repository_root}/policies/operator.json", {
    partition                    = data.aws_partition.current.partition
    region                       = var.region
    account_id                   = data.aws_caller_identity.current.account_id
    name                         = var.name
    bucket                       = module.data_bucket.bucket_name
    notebook_bundle_prefix       = module.notebook.code_s3_prefix
    trainer_role_arn             = "${local.iam_prefix}:role/${var.name}-ec2-trainer"
    trainer_instance_profile_arn = "${local.iam_prefix}:instance-profile/${var.name}-ec2-trainer"
  })
}
