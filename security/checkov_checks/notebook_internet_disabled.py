"""CKV_DOG_3: notebook direct_internet_access set explicitly to "Disabled".

CKV_AWS_122 passes an omitted attribute, but the provider's default is "Enabled".
"""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class NotebookDirectInternetExplicitlyDisabled(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name='Ensure SageMaker notebook direct_internet_access is explicitly "Disabled"',
            id="CKV_DOG_3",
            categories=[CheckCategories.NETWORKING],
            supported_resources=["aws_sagemaker_notebook_instance"],
        )

    def scan_resource_conf(self, conf):
        value = conf.get("direct_internet_access")
        value = value[0] if isinstance(value, list) and value else value
        return CheckResult.PASSED if value == "Disabled" else CheckResult.FAILED


check = NotebookDirectInternetExplicitlyDisabled()
