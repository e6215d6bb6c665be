variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Project name."
  type        = string
  default     = "dogbreed-demo"
}

variable "model_sha256" {
  description = "SHA-256 of the published model.tar.gz (its key is models/published/<sha256>/model.tar.gz)."
  type        = string
  default     = "1a1f4502024df8a68d12e64bb2364ad6308d04ed0a7d5e8300a676ec70867140"
}

variable "package_path" {
  description = "Lambda zip (build/predict_lambda.zip)."
  type        = string
  default     = "../../../build/predict_lambda.zip"
}
