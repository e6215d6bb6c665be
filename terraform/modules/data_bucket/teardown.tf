# Destroy guard. Without force_destroy a destroy would still delete the bucket's configuration (its policy, public
# access block, encryption, lifecycle; versioning suspended: the provider's destroy of each) before failing on the
# non-empty bucket, and leave the data unprotected. This resource depends on all of them, so Terraform destroys it
# first, and its destroy fails unless force_destroy is set: the bucket and the key stay exactly as they were while
# everything else goes. The value comes from the state (a destroy-time provisioner sees only `self`): apply a
# changed force_destroy before destroying, as the provider requires for force_destroy itself.
resource "terraform_data" "destroy_guard" {
  input = var.force_destroy

  provisioner "local-exec" {
    when    = destroy
    command = self.input ? "exit 0" : "echo 'The data bucket and its key are kept: apply with allow_destroy_data = true (force_destroy), then destroy, to delete them.' >&2; exit 1"
  }

  depends_on = [
    aws_s3_bucket_ownership_controls.this,
    aws_s3_bucket_public_access_block.this,
    aws_s3_bucket_versioning.this,
    aws_s3_bucket_server_side_encryption_configuration.this,
    aws_s3_bucket_policy.this,
    aws_s3_bucket_lifecycle_configuration.this,
  ]
}
