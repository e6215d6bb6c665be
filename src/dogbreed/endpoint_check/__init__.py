"""dogbreed-check-endpoint: after `terraform apply`, fail unless the endpoint serves what was deployed."""
