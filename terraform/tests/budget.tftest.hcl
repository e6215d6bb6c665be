# The AWS Budgets budget over the project's tag: on by default in the root stack, its alerts, its AWS rules.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "the_root_stack_budgets_its_project_tag_by_default" {
  command = plan

  assert {
    condition     = output.budget_name == "dogbreed-monthly" && module.budget[0].cost_filter == "user:Project$dogbreed"
    error_message = "The stack must create <name>-monthly over TagKeyValue user:Project$<name> unless budget.create is false."
  }
  assert {
    condition     = !module.budget[0].alerting
    error_message = "Without a subscriber the budget tracks costs but cannot alert."
  }
}

run "the_root_stack_passes_its_name_and_subscribers" {
  command = plan

  variables {
    name   = "pets"
    budget = { alert_emails = ["ml-team@example.org"] }
  }

  assert {
    condition     = output.budget_name == "pets-monthly" && module.budget[0].cost_filter == "user:Project$pets" && module.budget[0].alerting
    error_message = "The budget follows the project name and alerts once it has a subscriber."
  }
}

run "no_budget_when_turned_off" {
  command = plan

  variables {
    budget = { create = false }
  }

  assert {
    condition     = length(module.budget) == 0 && output.budget_name == null
    error_message = "budget.create = false must create no budget."
  }
}

run "budget_limit_and_tag_filter" {
  command = plan

  module {
    source = "./modules/budget"
  }

  variables {
    name              = "dogbreed-monthly"
    project_tag_value = "dogbreed"
    monthly_limit_usd = 400
  }

  assert {
    condition = (
      aws_budgets_budget.this.budget_type == "COST" && aws_budgets_budget.this.time_unit == "MONTHLY"
      && aws_budgets_budget.this.limit_amount == "400.00" && aws_budgets_budget.this.limit_unit == "USD"
    )
    error_message = "A monthly cost budget of 400.00 USD."
  }
  assert {
    condition     = length(aws_budgets_budget.this.cost_filter) == 1 && alltrue([for f in aws_budgets_budget.this.cost_filter : f.name == "TagKeyValue" && length(f.values) == 1 && contains(f.values, "user:Project$dogbreed")])
    error_message = "The one cost filter is TagKeyValue user:Project$dogbreed (user-defined tag, '$' between key and value)."
  }
  assert {
    condition     = length(aws_budgets_budget.this.notification) == 0
    error_message = "Without a subscriber there is no notification (AWS: each notification needs at least one subscriber)."
  }
  assert {
    condition     = length(aws_ce_cost_allocation_tag.project) == 0
    error_message = "The cost allocation tag is activated only on request (it fails on a fresh account)."
  }
}

run "alerts_go_to_every_subscriber_at_the_thresholds" {
  command = plan

  module {
    source = "./modules/budget"
  }

  variables {
    name                    = "pets-monthly"
    project_tag_value       = "pets"
    monthly_limit_usd       = 120
    alert_threshold_percent = 90
    alert_emails            = ["ml-team@example.org"]
    alert_sns_topic_arns    = ["arn:aws:sns:eu-west-1:123456789012:pets-alerts"]
  }

  assert {
    condition = length(aws_budgets_budget.this.notification) == 2 && alltrue([
      for n in aws_budgets_budget.this.notification : (
        n.comparison_operator == "GREATER_THAN" && n.threshold_type == "PERCENTAGE"
        && n.subscriber_email_addresses == toset(["ml-team@example.org"])
        && n.subscriber_sns_topic_arns == toset(["arn:aws:sns:eu-west-1:123456789012:pets-alerts"])
        && (n.notification_type == "ACTUAL" ? n.threshold == 90 : n.notification_type == "FORECASTED" && n.threshold == 100)
      )
    ]) && toset([for n in aws_budgets_budget.this.notification : n.notification_type]) == toset(["ACTUAL", "FORECASTED"])
    error_message = "Actual costs above the threshold and forecasted costs above the limit must alert every subscriber."
  }
}

run "forecast_alert_can_be_turned_off" {
  command = plan

  module {
    source = "./modules/budget"
  }

  variables {
    name              = "dogbreed-monthly"
    project_tag_value = "dogbreed"
    monthly_limit_usd = 50
    alert_emails      = ["ml-team@example.org"]
    forecast_alert    = false
  }

  assert {
    condition     = [for n in aws_budgets_budget.this.notification : n.notification_type] == ["ACTUAL"]
    error_message = "forecast_alert = false leaves the actual-cost alert only."
  }
}

run "activates_the_cost_allocation_tag_on_request" {
  command = plan

  module {
    source = "./modules/budget"
  }

  variables {
    name                         = "dogbreed-monthly"
    project_tag_value            = "dogbreed"
    monthly_limit_usd            = 50
    activate_cost_allocation_tag = true
  }

  assert {
    condition     = aws_ce_cost_allocation_tag.project[0].tag_key == "Project" && aws_ce_cost_allocation_tag.project[0].status == "Active"
    error_message = "activate_cost_allocation_tag must activate the Project key."
  }
}

run "rejects_a_non_positive_limit" {
  command = plan

  module {
    source = "./modules/budget"
  }

  variables {
    name              = "dogbreed-monthly"
    project_tag_value = "dogbreed"
    monthly_limit_usd = 0
  }

  expect_failures = [var.monthly_limit_usd]
}

run "rejects_more_than_ten_emails" {
  command = plan

  module {
    source = "./modules/budget"
  }

  variables {
    name              = "dogbreed-monthly"
    project_tag_value = "dogbreed"
    monthly_limit_usd = 10
    alert_emails      = [for i in range(11) : "person${i}@example.org"]
  }

  expect_failures = [var.alert_emails]
}

run "rejects_a_second_sns_topic" {
  command = plan

  module {
    source = "./modules/budget"
  }

  variables {
    name                 = "dogbreed-monthly"
    project_tag_value    = "dogbreed"
    monthly_limit_usd    = 10
    alert_sns_topic_arns = ["arn:aws:sns:eu-west-1:123456789012:a", "arn:aws:sns:eu-west-1:123456789012:b"]
  }

  expect_failures = [var.alert_sns_topic_arns]
}

# BudgetName table: tests/infra/test_budget_rules.py checks every row against botocore's budgets model.
run "budget_name_accepts_the_stacks_name" {
  command = plan

  module {
    source = "./modules/budget"
  }

  variables {
    name              = "dogbreed-monthly"
    project_tag_value = "dogbreed"
    monthly_limit_usd = 10
  }

  assert {
    condition     = aws_budgets_budget.this.name == var.name
    error_message = "An AWS-valid budget name is accepted as given."
  }
}

run "budget_name_accepts_one_character" {
  command = plan

  module {
    source = "./modules/budget"
  }

  variables {
    name              = "a"
    project_tag_value = "dogbreed"
    monthly_limit_usd = 10
  }

  assert {
    condition     = aws_budgets_budget.this.name == var.name
    error_message = "An AWS-valid budget name is accepted as given."
  }
}

run "budget_name_accepts_100_characters" {
  command = plan

  module {
    source = "./modules/budget"
  }

  variables {
    name              = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
    project_tag_value = "dogbreed"
    monthly_limit_usd = 10
  }

  assert {
    condition     = aws_budgets_budget.this.name == var.name
    error_message = "An AWS-valid budget name is accepted as given."
  }
}

run "budget_name_accepts_slashes_and_spaces" {
  command = plan

  module {
    source = "./modules/budget"
  }

  variables {
    name              = "team a/budget 1"
    project_tag_value = "dogbreed"
    monthly_limit_usd = 10
  }

  assert {
    condition     = aws_budgets_budget.this.name == var.name
    error_message = "An AWS-valid budget name is accepted as given."
  }
}

run "budget_name_rejects_101_characters" {
  command = plan

  module {
    source = "./modules/budget"
  }

  variables {
    name              = "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
    project_tag_value = "dogbreed"
    monthly_limit_usd = 10
  }

  expect_failures = [var.name]
}

run "budget_name_rejects_a_colon" {
  command = plan

  module {
    source = "./modules/budget"
  }

  variables {
    name              = "dogbreed:monthly"
    project_tag_value = "dogbreed"
    monthly_limit_usd = 10
  }

  expect_failures = [var.name]
}

run "budget_name_rejects_a_backslash" {
  command = plan

  module {
    source = "./modules/budget"
  }

  variables {
    name              = "dogbreed\\monthly"
    project_tag_value = "dogbreed"
    monthly_limit_usd = 10
  }

  expect_failures = [var.name]
}

run "budget_name_rejects_the_action_path" {
  command = plan

  module {
    source = "./modules/budget"
  }

  variables {
    name              = "dogbreed/action/monthly"
    project_tag_value = "dogbreed"
    monthly_limit_usd = 10
  }

  expect_failures = [var.name]
}

run "budget_name_rejects_a_script_element" {
  command = plan

  module {
    source = "./modules/budget"
  }

  variables {
    name              = "x<SCRIPT>alert(1)</script>"
    project_tag_value = "dogbreed"
    monthly_limit_usd = 10
  }

  expect_failures = [var.name]
}

run "rejects_a_threshold_of_zero" {
  command = plan

  module {
    source = "./modules/budget"
  }

  variables {
    name                    = "dogbreed-monthly"
    project_tag_value       = "dogbreed"
    monthly_limit_usd       = 10
    alert_threshold_percent = 0
  }

  expect_failures = [var.alert_threshold_percent]
}

run "accepts_aws_maximum_threshold" {
  command = plan

  module {
    source = "./modules/budget"
  }

  variables {
    name                    = "dogbreed-monthly"
    project_tag_value       = "dogbreed"
    monthly_limit_usd       = 10
    alert_threshold_percent = 1000000
    alert_emails            = ["ml-team@example.org"]
  }

  assert {
    condition     = contains([for n in aws_budgets_budget.this.notification : n.threshold], 1000000)
    error_message = "AWS's maximum threshold (1,000,000%) is accepted."
  }
}

run "rejects_a_threshold_above_aws_maximum" {
  command = plan

  module {
    source = "./modules/budget"
  }

  variables {
    name                    = "dogbreed-monthly"
    project_tag_value       = "dogbreed"
    monthly_limit_usd       = 10
    alert_threshold_percent = 1000001
  }

  expect_failures = [var.alert_threshold_percent]
}

run "rejects_an_aws_tag_key" {
  command = plan

  module {
    source = "./modules/budget"
  }

  variables {
    name              = "dogbreed-monthly"
    project_tag_key   = "aws:cloudformation:stack-name"
    project_tag_value = "dogbreed"
    monthly_limit_usd = 10
  }

  expect_failures = [var.project_tag_key]
}
