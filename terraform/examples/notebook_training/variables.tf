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
