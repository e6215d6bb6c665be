locals {
  endpoint_dimensions = {
    EndpointName = var.name
    VariantName  = var.variant_name
  }
}

resource "aws_cloudwatch_metric_alarm" "errors_5xx" {
  alarm_name          = "${var.name}-5xx-errors"
  alarm_description   = "The model container answered with 5XX errors; also rolls back a blue/green deployment."
  namespace           = "AWS/SageMaker"
  metric_name         = "Invocation5XXErrors"
  dimensions          = local.endpoint_dimensions
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = var.alarm_5xx_errors_per_minute
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "model_latency" {
  alarm_name          = "${var.name}-model-latency"
  alarm_description   = "p90 ModelLatency above ${var.alarm_model_latency_ms} ms for 5 minutes."
  namespace           = "AWS/SageMaker"
  metric_name         = "ModelLatency" # reported in microseconds
  dimensions          = local.endpoint_dimensions
  extended_statistic  = "p90"
  period              = 60
  evaluation_periods  = 5
  threshold           = var.alarm_model_latency_ms * 1000
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

# Target tracking adds instances while invocations per instance exceed the target; staying above it for
# 15 minutes means it cannot add more: the variant sits at max_capacity and max_capacity is too low.
resource "aws_cloudwatch_metric_alarm" "at_max_capacity" {
  count = var.enable_autoscaling ? 1 : 0

  alarm_name          = "${var.name}-at-max-capacity"
  alarm_description   = "InvocationsPerInstance above the scaling target for 15 minutes: scaled out to max_capacity (${var.max_capacity})."
  namespace           = "AWS/SageMaker"
  metric_name         = "InvocationsPerInstance"
  dimensions          = local.endpoint_dimensions
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 15
  threshold           = var.target_invocations_per_instance
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
