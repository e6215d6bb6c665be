resource "aws_iam_role" "this" {
  name                 = local.name
  description          = "EC2 trainer: reads data/, code/ and weights/, reads and writes ec2-runs/ of the project bucket."
  permissions_boundary = var.permissions_boundary
  assume_role_policy   = file("${local.policies}/trust_ec2.json")
  tags                 = var.tags
}

resource "aws_iam_role_policy" "this" {
  name = "train-from-project-bucket"
  role = aws_iam_role.this.name
  policy = templatefile("${local.policies}/ec2_trainer.json", {
    partition           = data.aws_partition.current.partition
    region              = data.aws_region.current.name
    account_id          = data.aws_caller_identity.current.account_id
    bucket              = var.bucket_name
    kms_key_project_tag = var.kms_key_project_tag
  })
}

# Session Manager access instead of SSH (the security group has no inbound rule).
resource "aws_iam_role_policy_attachment" "ssm_core" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "this" {
  name = local.name
  role = aws_iam_role.this.name
  tags = var.tags
}
