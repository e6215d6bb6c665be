"""The endpoint module's KMS rule agrees with AWS's own SDK for every instance type `terraform test` covers.

terraform/tests/endpoint_kms.tftest.hcl plans the endpoint module once per instance type and asserts whether
its configuration carries the project key (`kms_key_arn == var.kms_key_arn`) or none (`== null`). This test
reads that table and checks each row against sagemaker.core.common_utils.instance_supports_kms, the SageMaker
Python SDK's rule for instance types whose storage takes a KMS key (none with local NVMe instance storage).
"""

from __future__ import annotations

import re

import pytest

from dev.offline_terraform import REPO_ROOT

TABLE = REPO_ROOT / "terraform" / "tests" / "endpoint_kms.tftest.hcl"
KEY = "aws_sagemaker_endpoint_configuration.this.kms_key_arn == var.kms_key_arn"
NO_KEY = "aws_sagemaker_endpoint_configuration.this.kms_key_arn == null"


def terraform_table() -> dict[str, bool]:
    """instance type -> whether the module's configuration carries the key, one entry per run block."""
    table: dict[str, bool] = {}
    for block in re.split(r"\n(?=run \")", TABLE.read_text())[1:]:
        (instance_type,) = re.findall(r'instance_type\s*=\s*"([^"]+)"', block)
        conditions = re.findall(r"condition\s*=\s*(.+)", block)
        takes_key, takes_none = KEY in conditions, NO_KEY in conditions
        assert takes_key != takes_none, f"{instance_type}: the run must assert exactly one of key / no key"
        assert instance_type not in table, f"{instance_type} is in the table twice"
        table[instance_type] = takes_key
    return table


def test_the_table_covers_cpu_gpu_and_both_kinds_of_storage():
    table = terraform_table()
    gpu = {t for t in table if re.match(r"ml\.(g|p)\d", t)}
    assert len(table) >= 12
    assert gpu and set(table) - gpu, "CPU and GPU instance types"
    assert {table[t] for t in gpu} == {True, False} and {table[t] for t in set(table) - gpu} == {True, False}


@pytest.mark.parametrize("instance_type", sorted(terraform_table()))
def test_terraform_agrees_with_the_sdk(instance_type):
    from sagemaker.core.common_utils import instance_supports_kms

    assert terraform_table()[instance_type] is instance_supports_kms(instance_type)
