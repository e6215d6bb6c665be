# GitHub OIDC: the roles trust only this repository's pull requests, main branch and protected environment.
mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name                      = "dogbreed"
  project_name              = "dogbreed"
  github_repository         = "example-org/dogbreed-mlops"
  state_bucket_name         = "dogbreed-tfstate-123456789012-eu-west-1"
  state_kms_alias_name      = "alias/dogbreed-tfstate"
  state_kms_key_project_tag = "dogbreed-tfstate"
}

run "roles_trust_only_this_repository" {
  command = plan

  module {
    source = "./modules/github_oidc"
  }

  assert {
    condition     = aws_iam_openid_connect_provider.this[0].client_id_list == toset(["sts.amazonaws.com"])
    error_message = "The OIDC provider audience must be sts.amazonaws.com."
  }
  assert {
    condition = jsondecode(aws_iam_role.this["plan"].assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == [
      "repo:example-org/dogbreed-mlops:pull_request", "repo:example-org/dogbreed-mlops:ref:refs/heads/main"
    ]
    error_message = "The plan role must trust only pull requests and main of this repository."
  }
  assert {
    condition     = jsondecode(aws_iam_role.this["apply"].assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == ["repo:example-org/dogbreed-mlops:environment:production"]
    error_message = "The apply role must trust only the protected environment."
  }
  assert {
    condition     = alltrue([for role in values(aws_iam_role.this) : jsondecode(role.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"])
    error_message = "Both roles must require the sts.amazonaws.com audience."
  }
  assert {
    condition     = strcontains(output.backend_config, "use_lockfile = true")
    error_message = "The backend settings must use S3 native locking."
  }
}

run "rejects_wildcard_repository" {
  command = plan

  module {
    source = "./modules/github_oidc"
  }

  variables {
    github_repository = "example-org/*"
  }

  expect_failures = [var.github_repository]
}
