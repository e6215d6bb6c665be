# Teardown opt-in: allow_destroy_data reaches everything that keeps `terraform destroy` from deleting data (the
# bucket's force_destroy, the key's window, the destroy guard). tests/infra/test_teardown.py destroys against moto.
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

run "the_destroy_guard_holds_the_opt_in_it_checks_on_destroy" {
  command = plan

  module {
    source = "./modules/data_bucket"
  }

  variables {
    name          = "dogbreed"
    force_destroy = false
  }

  assert {
    condition     = terraform_data.destroy_guard.input == false
    error_message = "The guard's state must carry force_destroy: its destroy-time provisioner reads only self."
  }
}

run "the_destroy_guard_lets_an_opted_in_destroy_through" {
  command = plan

  module {
    source = "./modules/data_bucket"
  }

  variables {
    name          = "dogbreed"
    force_destroy = true
  }

  assert {
    condition     = terraform_data.destroy_guard.input == true
    error_message = "With force_destroy the guard must let the destroy through."
  }
}
