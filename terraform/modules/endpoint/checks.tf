# Post-deploy check, run by Terraform after every change of the endpoint configuration. hashicorp/aws reports an
# update that SageMaker rolled back as a success and then deletes the old configuration and model the endpoint
# still runs on (hashicorp/terraform-provider-aws#46663, #48997). This resource depends on the endpoint, and
# Terraform destroys the replaced (deposed) configuration and model only after their dependents succeeded: when
# the check fails, the apply fails and the previous configuration and model stay (verified offline with 5.100,
# /work/research/aws-rules/SERVING.md section 2). It needs the package's dogbreed-check-endpoint on PATH and the
# caller's AWS credentials (sagemaker:DescribeEndpoint, sagemaker:InvokeEndpoint, s3:GetObject on the artifact).
locals {
  post_deploy_check_command = join(" ", compact([
    var.post_deploy_check.command,
    "--region", data.aws_region.current.name,
    "--endpoint-name", aws_sagemaker_endpoint.this.name,
    "--expected-config", aws_sagemaker_endpoint_configuration.this.name,
    "--model-data-url", var.model_data_url,
    "--model-sha256", var.model_sha256,
    var.post_deploy_check.smoke ? "" : "--no-smoke",
  ]))
}

resource "terraform_data" "post_deploy_check" {
  count = var.post_deploy_check.enable ? 1 : 0

  # The configuration Terraform created, not the one the endpoint reports: a new one means a new deployment.
  triggers_replace = [aws_sagemaker_endpoint_configuration.this.name, var.model_sha256]

  provisioner "local-exec" {
    command = local.post_deploy_check_command
  }

  depends_on = [aws_sagemaker_endpoint.this]
}
