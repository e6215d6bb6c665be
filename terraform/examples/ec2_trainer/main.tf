# The EC2 trainer on its own, in an existing private subnet: a launch template (and its role, instance profile
# and the code it runs), never an instance. Start a run with `dogbreed-launch ec2-run --run-id <id>`.
module "ec2_trainer" {
  source = "../../modules/ec2_trainer"

  name                = var.name
  ami_id              = var.ami_id
  use_spot            = true
  subnet_id           = var.subnet_id
  security_group_ids  = var.security_group_ids
  bucket_name         = var.bucket_name
  kms_key_arn         = var.kms_key_arn
  kms_key_project_tag = var.name
  user_data_template  = "${path.root}/../../../ec2/user_data.sh.tftpl"
  code_dirs = {
    "training"          = "${path.root}/../../../training"
    "training/dogbreed" = "${path.root}/../../../src/dogbreed"
    "ec2"               = "${path.root}/../../../ec2"
  }
  data_s3_uri = "s3://${var.bucket_name}/data/dogImages/"
  train_args  = var.train_args
}
