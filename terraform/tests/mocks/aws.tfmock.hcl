# Shared by every tests/*.tftest.hcl (mock_provider "aws" { source = "./tests/mocks" }): the account, partition and
# region the modules build ARNs and names from, so assertions can compare them with literal strings.
mock_data "aws_caller_identity" {
  defaults = { account_id = "123456789012" }
}

mock_data "aws_partition" {
  defaults = { partition = "aws" }
}

mock_data "aws_region" {
  defaults = { name = "eu-west-1" }
}
