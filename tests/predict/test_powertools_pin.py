"""The Powertools the tests run is the one the Lambda gets: requirements/dev.txt's pin, the installed package
and the AWS-managed layer version Terraform deploys name the same release."""

from __future__ import annotations

import re
from importlib import metadata

from tests.predict.helpers import REPO_ROOT

# Layer version -> the release it holds, from the Powertools installation page (docs/getting-started/
# install.md in aws-powertools/powertools-lambda-python), published for the release at
# https://docs.aws.amazon.com/powertools/python/3.24.0/getting-started/install/
LAYER_RELEASES = {27: "3.24.0"}


def pinned(package: str) -> str:
    text = (REPO_ROOT / "requirements" / "dev.txt").read_text()
    return re.search(rf"^{re.escape(package)}==(\S+)$", text, re.MULTILINE).group(1)


def layer_version_default() -> int:
    variables = (REPO_ROOT / "terraform" / "modules" / "predict_lambda" / "variables.tf").read_text()
    block = variables[variables.index('variable "powertools_layer_version"') :]
    return int(re.search(r"default\s*=\s*(\d+)", block).group(1))


def test_the_pinned_release_is_installed_and_is_the_layers():
    release = pinned("aws-lambda-powertools")
    assert metadata.version("aws-lambda-powertools") == release
    assert LAYER_RELEASES[layer_version_default()] == release


def test_the_tracer_dependency_is_pinned_and_installed():
    assert metadata.version("aws-xray-sdk") == pinned("aws-xray-sdk")
