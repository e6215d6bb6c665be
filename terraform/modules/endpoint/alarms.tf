# Invocation metrics (AWS/SageMaker, EndpointName + VariantName) exist in both modes: AWS lists Invocation5XXErrors
# and ModelLatency among the metrics serverless endpoints publish (serverless-endpoints-monitoring.html).
#
# Missing data is not breaching: SageMaker publishes invocation metrics only when there are invocations, so
# "breaching" would roll back every deployment made while nobody calls the endpoint, and "missing" would keep
# the alarm INSUFFICIENT_DATA. With no traffic these alarms therefore check nothing during the bake; the check
# that acts without traffic is the post-deploy smoke invocation (post_deploy_check, checks.tf).
locals {
  endpoint_dimensions = {
    EndpointName = var.name
    VariantName  = var.variant_name
  }
  # Both alarms roll a blue/green update back; AWS's own examples pair an error alarm with a latency alarm.
  rollback_alarm_names = [
    aws_cloudwatch_metric_alarm.errors_5xx.alarm_name,
    aws_cloudwatch_metric_alarm.model_latency.alarm_name,
  ]
  alarm_arn_prefix = "arn:${data.aws_partition.current.partition}:cloudwatch:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:alarm:"
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
  alarm_description   = "p90 ModelLatency above ${var.alarm_model_latency_ms} ms for 5 minutes; also rolls back a blue/green deployment."
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
  count = local.autoscaled ? 1 : 0

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

# Serverless publishes no InvocationsPerInstance; its capacity signal is ServerlessConcurrentExecutionsUtilization,
# "the number of concurrent executions divided by the maximum concurrency" (serverless-endpoints-monitoring.html).
# Invocations beyond max_concurrency are throttled, so 15 minutes near 1 means max_concurrency is too low.
resource "aws_cloudwatch_metric_alarm" "at_max_concurrency" {
  count = local.serverless ? 1 : 0

  alarm_name          = "${var.name}-at-max-concurrency"
  alarm_description   = "Serverless concurrency above 80% of max_concurrency (${try(var.serverless.max_concurrency, 0)}) for 15 minutes: requests beyond it are throttled."
  namespace           = "AWS/SageMaker"
  metric_name         = "ServerlessConcurrentExecutionsUtilization"
  dimensions          = local.endpoint_dimensions
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 15
  threshold           = 0.8
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
