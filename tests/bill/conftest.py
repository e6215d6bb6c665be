"""The bill's tests run `terraform console` through dogbreed.bill.settings: the provider comes from the local
mirror when there is one (dev/offline_terraform.py cli_config), through the shared plugin cache."""

from __future__ import annotations

import os
import shutil

import pytest

from dev.offline_terraform import cli_config
from dogbreed.bill.settings import read_settings


@pytest.fixture(scope="session", autouse=True)
def terraform_cli(tmp_path_factory):
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not on PATH (the bill evaluates the stack's settings with it)")
    previous = os.environ.get("TF_CLI_CONFIG_FILE")
    os.environ["TF_CLI_CONFIG_FILE"] = str(cli_config(tmp_path_factory.mktemp("terraform-cli")))
    yield
    if previous is None:
        os.environ.pop("TF_CLI_CONFIG_FILE", None)
    else:
        os.environ["TF_CLI_CONFIG_FILE"] = previous


@pytest.fixture(scope="session")
def default_facts(terraform_cli):
    return read_settings()
