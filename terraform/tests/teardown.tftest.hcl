# Teardown opt-in: allow_destroy_data reaches everything that keeps `terraform destroy` from deleting data.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "data_is_kept_by_default" {
  command = plan

  assert {
    condition     = module.data_bucket.force_destroy == false && module.data_bucket.kms_deletion_window_in_days == 30
    error_message = "Without the opt-in, destroy must refuse a bucket holding data and the key waits 30 days."
  }
}

run "the_opt_in_empties_the_bucket_and_shortens_the_key_window" {
  command = plan

  variables {
    allow_destroy_data = true
  }

  assert {
    condition     = module.data_bucket.force_destroy == true && module.data_bucket.kms_deletion_window_in_days == 7
    error_message = "allow_destroy_data must set the bucket's force_destroy and AWS's shortest key deletion window (7 days)."
  }
}
