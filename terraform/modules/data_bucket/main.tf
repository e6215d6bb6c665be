data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  bucket_name = coalesce(var.bucket_name, "${var.name}-${data.aws_caller_identity.current.account_id}-${data.aws_region.current.name}")
  bucket_arn  = "arn:${data.aws_partition.current.partition}:s3:::${local.bucket_name}"
  policies    = "${path.module}/../../../policies"
}

resource "aws_s3_bucket" "this" {
  bucket        = local.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

# Rendered from a name-derived ARN so the policy is fully known at plan time (and visible to the gates): TLS only,
# the write-once prefixes (policies/s3_bucket_write_once.json) when there are any, and the prefixes only named
# roles may write (policies/s3_bucket_code_writers.json).
locals {
  bucket_policy_documents = concat(
    [jsondecode(templatefile("${local.policies}/s3_bucket_tls_only.json", { bucket_arn = local.bucket_arn }))],
    length(var.write_once_prefixes) == 0 ? [] : [jsondecode(templatefile("${local.policies}/s3_bucket_write_once.json", {
      write_once_object_arns = jsonencode([for prefix in var.write_once_prefixes : "${local.bucket_arn}/${prefix}*"])
    }))],
    [for prefix, writers in var.prefix_writer_arns : { Statement = [merge(
      one(jsondecode(templatefile("${local.policies}/s3_bucket_code_writers.json", {
        bucket_arn       = local.bucket_arn
        prefix           = prefix
        writer_arns_json = jsonencode(writers)
      })).Statement),
      { Sid = "OnlyTheNamedWritersChange${join("", [for part in split("-", trimsuffix(prefix, "/")) : title(part)])}" }
    )] }],
  )
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = flatten([for document in local.bucket_policy_documents : document.Statement])
  })

  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "abort-incomplete-uploads-and-expire-old-versions"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
  }

  dynamic "rule" {
    for_each = var.prefix_expiration_days
    content {
      id     = "expire-${trimsuffix(rule.key, "/")}"
      status = "Enabled"

      filter {
        prefix = rule.key
      }

      expiration {
        days = rule.value
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}
