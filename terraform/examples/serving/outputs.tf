output "endpoint_name" {
  description = "Endpoint name."
  value       = module.endpoint.name
}

output "function_url" {
  description = "Function URL (AWS_IAM auth)."
  value       = module.predict_lambda.function_url
}
