locals {
  autoscaled = !local.serverless && var.enable_autoscaling
  # Keyed by instance type. AWS refuses an update that changes the instance type of a variant registered as a
  # scalable target ("delete any scaling policies ... and deregister the variant as a scalable target" first,
  # register it again afterwards: endpoint-scaling-update.html). A new key makes Terraform destroy the old
  # policy and target before it updates the endpoint (a dependent's destroy precedes its dependency's update,
  # hashicorp/terraform docs/destroying.md) and register the new ones after: the documented procedure in one
  # apply. A model update on the same instance type keeps the target, as AWS allows.
  scaling_keys = local.autoscaled ? toset([var.instance_type]) : toset([])
}

resource "aws_appautoscaling_target" "this" {
  for_each = local.scaling_keys

  service_namespace  = "sagemaker"
  resource_id        = "endpoint/${aws_sagemaker_endpoint.this.name}/variant/${var.variant_name}"
  scalable_dimension = "sagemaker:variant:DesiredInstanceCount"
  min_capacity       = var.min_capacity
  max_capacity       = var.max_capacity
}

resource "aws_appautoscaling_policy" "invocations_per_instance" {
  for_each = aws_appautoscaling_target.this

  name               = "${var.name}-invocations-per-instance"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = each.value.service_namespace
  resource_id        = each.value.resource_id
  scalable_dimension = each.value.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.target_invocations_per_instance
    scale_in_cooldown  = var.scale_in_cooldown_seconds
    scale_out_cooldown = var.scale_out_cooldown_seconds

    predefined_metric_specification {
      predefined_metric_type = "SageMakerVariantInvocationsPerInstance"
    }
  }
}
