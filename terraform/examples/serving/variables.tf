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

variable "model_key" {
  description = "Key of model.tar.gz in the project bucket."
  type        = string
  default     = "models/example/model.tar.gz"
}

variable "package_path" {
  description = "Lambda zip (build/predict_lambda.zip)."
  type        = string
  default     = "../../../build/predict_lambda.zip"
}
