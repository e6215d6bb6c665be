terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.83, < 6.0"
    }
  }
  # Local state on purpose: this stack creates the state bucket. Keep terraform.tfstate safe, or migrate it
  # into the bucket afterwards (docs/infra.md).
}

provider "aws" {
  region = var.region

  default_tags {
    tags = { Project = var.name, ManagedBy = "terraform", Stack = "bootstrap" }
  }
}
