# A monthly cost budget over everything tagged Project = <project> (the provider's default_tags put that tag on
# every resource of the stack). AWS Budgets filters by tag as "user:<key>$<value>", and only matches costs once
# the key is an active cost allocation tag (Billing console, or activate_cost_allocation_tag below).
locals {
  tag_filter  = format("user:%s$%s", var.project_tag_key, var.project_tag_value)
  subscribers = length(var.alert_emails) + length(var.alert_sns_topic_arns)
  notifications = local.subscribers == 0 ? [] : concat(
    [{ type = "ACTUAL", threshold = var.alert_threshold_percent }],
    var.forecast_alert ? [{ type = "FORECASTED", threshold = 100 }] : [],
  )
}

resource "aws_budgets_budget" "this" {
  name         = var.name
  budget_type  = "COST"
  limit_amount = format("%.2f", var.monthly_limit_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  cost_filter {
    name   = "TagKeyValue"
    values = [local.tag_filter]
  }

  dynamic "notification" {
    for_each = local.notifications
    content {
      comparison_operator        = "GREATER_THAN"
      notification_type          = notification.value.type
      threshold                  = notification.value.threshold
      threshold_type             = "PERCENTAGE"
      subscriber_email_addresses = var.alert_emails
      subscriber_sns_topic_arns  = var.alert_sns_topic_arns
    }
  }

  tags = var.tags
}

# Activating a user-defined tag key for cost allocation is account-wide (payer account in an Organization) and
# fails until the key has appeared in billing data, up to 24 hours after the first tagged resource exists.
resource "aws_ce_cost_allocation_tag" "project" {
  count = var.activate_cost_allocation_tag ? 1 : 0

  tag_key = var.project_tag_key
  status  = "Active"
}
