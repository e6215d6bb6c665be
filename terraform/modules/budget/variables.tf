variable "name" {
  description = "Budget name (unique in the account)."
  type        = string

  # AWS Budgets BudgetName (botocore budgets model): 1-100 characters of [^:\\], no "/action/", and no
  # <script>...</script> in any case. tests/infra/test_budget_rules.py checks the tftest table against it.
  validation {
    condition = (
      length(var.name) >= 1 && length(var.name) <= 100 && !can(regex("[:\\\\]", var.name))
      && !strcontains(var.name, "/action/") && !can(regex("(?i)<script>.*</script>", var.name))
    )
    error_message = "name must be 1-100 characters without ':', '\\', '/action/' or <script>...</script> (AWS Budgets BudgetName)."
  }
}

variable "project_tag_key" {
  description = "Tag key the budget filters on (the stack tags every resource with it)."
  type        = string
  default     = "Project"

  validation {
    condition     = length(var.project_tag_key) >= 1 && length(var.project_tag_key) <= 128 && !startswith(lower(var.project_tag_key), "aws:")
    error_message = "project_tag_key must be a user tag key: 1-128 characters, not starting with aws: (AWS tag rules)."
  }
}

variable "project_tag_value" {
  description = "Tag value the budget filters on: the project name."
  type        = string

  validation {
    condition     = length(var.project_tag_value) <= 256
    error_message = "project_tag_value must be at most 256 characters (AWS tag rules)."
  }
}

variable "monthly_limit_usd" {
  description = "Monthly cost limit in USD the alert thresholds are relative to."
  type        = number

  validation {
    condition     = var.monthly_limit_usd > 0
    error_message = "monthly_limit_usd must be positive."
  }
}

variable "alert_threshold_percent" {
  description = "Alert when actual costs of the month exceed this percentage of the limit."
  type        = number
  default     = 80

  # AWS Budgets: "The maximum limit for your threshold is 1,000,000% above the budgeted amount"; 0 would alert
  # on the first cent, so it is refused here.
  validation {
    condition     = var.alert_threshold_percent > 0 && var.alert_threshold_percent <= 1000000
    error_message = "alert_threshold_percent must be greater than 0 and at most 1000000 (AWS Budgets' maximum)."
  }
}

variable "forecast_alert" {
  description = "Also alert when the month's forecasted costs exceed the limit."
  type        = bool
  default     = true
}

variable "alert_emails" {
  description = "Email addresses alerted (each must confirm the subscription AWS sends)."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.alert_emails) <= 10
    error_message = "A budget notification takes at most 10 email subscribers (AWS Budgets)."
  }
  validation {
    condition     = alltrue([for email in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", email))])
    error_message = "alert_emails must be email addresses."
  }
}

variable "alert_sns_topic_arns" {
  description = "SNS topic alerted (at most one; its policy must let budgets.amazonaws.com publish)."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.alert_sns_topic_arns) <= 1
    error_message = "A budget notification takes at most one SNS subscriber (AWS Budgets)."
  }
  validation {
    condition     = alltrue([for arn in var.alert_sns_topic_arns : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:.+$", arn))])
    error_message = "alert_sns_topic_arns must be SNS topic ARNs."
  }
}

variable "activate_cost_allocation_tag" {
  description = "Activate project_tag_key as a cost allocation tag from this stack (fails until the key shows up in billing data; needs the payer account in an Organization). false: activate it once in the Billing console."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to the budget."
  type        = map(string)
  default     = {}
}
