# The endpoint configuration's KMS key by AWS's rule, for a table of instance types (CPU, GPU and accelerators, with
# and without local NVMe instance storage): the project key where the instance's storage volume takes one, none
# where the storage is local NVMe (AWS encrypts it in hardware). tests/infra/test_endpoint_kms_rule.py checks that
# this table agrees with the SageMaker Python SDK's sagemaker.core.common_utils.instance_supports_kms; it reads the
# runs below, so keep their form (one instance_type, one kms_key_arn assertion). Captured data is encrypted with
# the key on every type (S3 server-side encryption).
mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name                = "dogbreed-endpoint"
  bucket_name         = "dogbreed-123456789012-eu-west-1"
  model_sha256        = "1a1f4502024df8a68d12e64bb2364ad6308d04ed0a7d5e8300a676ec70867140"
  model_data_url      = "s3://dogbreed-123456789012-eu-west-1/models/published/1a1f4502024df8a68d12e64bb2364ad6308d04ed0a7d5e8300a676ec70867140/model.tar.gz"
  kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  kms_key_project_tag = "dogbreed"
  enable_autoscaling  = false # the table is about storage; ml.t* cannot be autoscaled
}

run "kms_ml_c5_xlarge_takes_the_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.c5.xlarge"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == var.kms_key_arn
    error_message = "ml.c5.xlarge (CPU, EBS): the storage volume takes the project key."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_m5_large_takes_the_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.m5.large"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == var.kms_key_arn
    error_message = "ml.m5.large (CPU, EBS): the storage volume takes the project key."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_r5_large_takes_the_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.r5.large"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == var.kms_key_arn
    error_message = "ml.r5.large (CPU, EBS): the storage volume takes the project key."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_c6i_xlarge_takes_the_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.c6i.xlarge"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == var.kms_key_arn
    error_message = "ml.c6i.xlarge (CPU, EBS): the storage volume takes the project key."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_c7i_large_takes_the_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.c7i.large"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == var.kms_key_arn
    error_message = "ml.c7i.large (CPU, EBS): the storage volume takes the project key."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_t2_medium_takes_the_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.t2.medium"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == var.kms_key_arn
    error_message = "ml.t2.medium (CPU burstable, EBS): the storage volume takes the project key."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_c5d_xlarge_has_no_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.c5d.xlarge"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == null
    error_message = "ml.c5d.xlarge (CPU, NVMe instance storage): local NVMe storage takes no KMS key (AWS)."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_m5d_large_has_no_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.m5d.large"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == null
    error_message = "ml.m5d.large (CPU, NVMe instance storage): local NVMe storage takes no KMS key (AWS)."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_r5d_xlarge_has_no_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.r5d.xlarge"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == null
    error_message = "ml.r5d.xlarge (CPU, NVMe instance storage): local NVMe storage takes no KMS key (AWS)."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_c6gd_xlarge_has_no_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.c6gd.xlarge"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == null
    error_message = "ml.c6gd.xlarge (CPU Graviton, NVMe instance storage): local NVMe storage takes no KMS key (AWS)."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_p3_2xlarge_takes_the_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.p3.2xlarge"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == var.kms_key_arn
    error_message = "ml.p3.2xlarge (GPU, EBS): the storage volume takes the project key."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_g4dn_xlarge_has_no_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.g4dn.xlarge"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == null
    error_message = "ml.g4dn.xlarge (GPU, NVMe instance storage): local NVMe storage takes no KMS key (AWS)."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_g5_xlarge_has_no_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.g5.xlarge"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == null
    error_message = "ml.g5.xlarge (GPU, NVMe instance storage): local NVMe storage takes no KMS key (AWS)."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_g6_xlarge_has_no_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.g6.xlarge"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == null
    error_message = "ml.g6.xlarge (GPU, NVMe instance storage): local NVMe storage takes no KMS key (AWS)."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_g6e_xlarge_has_no_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.g6e.xlarge"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == null
    error_message = "ml.g6e.xlarge (GPU, NVMe instance storage): local NVMe storage takes no KMS key (AWS)."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_p4de_24xlarge_has_no_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.p4de.24xlarge"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == null
    error_message = "ml.p4de.24xlarge (GPU, NVMe instance storage): local NVMe storage takes no KMS key (AWS)."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_p4d_24xlarge_has_no_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.p4d.24xlarge"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == null
    error_message = "ml.p4d.24xlarge (GPU, NVMe instance storage): local NVMe storage takes no KMS key (AWS)."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_p5_48xlarge_has_no_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.p5.48xlarge"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == null
    error_message = "ml.p5.48xlarge (GPU, NVMe instance storage): local NVMe storage takes no KMS key (AWS)."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_p5e_48xlarge_has_no_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.p5e.48xlarge"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == null
    error_message = "ml.p5e.48xlarge (GPU, NVMe instance storage): local NVMe storage takes no KMS key (AWS)."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_inf1_xlarge_takes_the_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.inf1.xlarge"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == var.kms_key_arn
    error_message = "ml.inf1.xlarge (Inferentia, EBS): the storage volume takes the project key."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_inf2_xlarge_takes_the_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.inf2.xlarge"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == var.kms_key_arn
    error_message = "ml.inf2.xlarge (Inferentia, EBS): the storage volume takes the project key."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_trn1_2xlarge_has_no_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.trn1.2xlarge"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == null
    error_message = "ml.trn1.2xlarge (Trainium, NVMe instance storage): local NVMe storage takes no KMS key (AWS)."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_c6gn_large_takes_the_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.c6gn.large"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == var.kms_key_arn
    error_message = "ml.c6gn.large (CPU Graviton, EBS): the storage volume takes the project key."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_m6gd_large_has_no_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.m6gd.large"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == null
    error_message = "ml.m6gd.large (CPU Graviton, NVMe instance storage): local NVMe storage takes no KMS key (AWS)."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_dl1_24xlarge_has_no_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.dl1.24xlarge"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == null
    error_message = "ml.dl1.24xlarge (Gaudi accelerator, NVMe instance storage): local NVMe storage takes no KMS key (AWS)."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}

run "kms_ml_trn2_48xlarge_has_no_key" {
  command = plan

  module {
    source = "./modules/endpoint"
  }

  variables {
    instance_type = "ml.trn2.48xlarge"
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.kms_key_arn == null
    error_message = "ml.trn2.48xlarge (Trainium, NVMe instance storage): local NVMe storage takes no KMS key (AWS)."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "Captured data is encrypted with the project key on every instance type."
  }
}
