terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.83, < 6.0"
    }
  }

  # Partial configuration: `terraform init -backend-config=backend.hcl` (written from the bootstrap stack's
  # backend_config output). S3 native locking (use_lockfile) needs no DynamoDB table.
  backend "s3" {}
}
