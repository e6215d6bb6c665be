output "name" {
  description = "Name of the budget."
  value       = aws_budgets_budget.this.name
}

output "cost_filter" {
  description = "The budget's tag filter (user:<key>$<value>)."
  value       = local.tag_filter
}

output "alerting" {
  description = "Whether the budget has a subscriber to alert."
  value       = local.subscribers > 0
}
