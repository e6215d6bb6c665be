"""Dev-only: a moto server that a `terraform apply` of the whole root stack gets through, plus simulated jobs.

moto stands in for AWS, but where the provider needs a behaviour moto lacks, the apply hangs (the provider
retries a 500 or waits for a state that never comes) or plans a replacement on every run. Each patch below
fills one such gap, at the boundary, with what the service does; none changes what a request sends:

- SageMaker tags of notebook lifecycle configurations: moto's ``_get_resource_from_arn`` has no entry for
  them, so ListTags (which the provider calls after CreateNotebookInstanceLifecycleConfig) fails with a 500.
- SageMaker notebook instances: moto drops ``PlatformIdentifier`` and ``InstanceMetadataServiceConfiguration``
  from DescribeNotebookInstance, so every later plan replaces the notebook (``platform_identifier`` forces
  replacement).
- SageMaker lifecycle configuration tags: moto drops the Tags of CreateNotebookInstanceLifecycleConfig, so
  every later plan adds the provider's default tags again.
- EC2 security group rules: moto's DescribeSecurityGroupRules reports the description of CIDR rules only, so
  every plan updates the stack's prefix-list and group-referencing rules, and moto's ModifySecurityGroupRules
  then refuses protocol -1 without ports (AWS takes it).
- S3 bucket policies: moto ignores their conditions, so the stack's TLS-only and write-once Denys refuse what
  AWS allows (dev/offline_s3_policy.py evaluates the stack's conditions as AWS does).
- S3 DeleteObjects by version id on a key whose versions include a delete marker: moto calls ``dispose()``
  on every version it drops and its FakeDeleteMarker has none (AttributeError, a 500 the provider retries
  while emptying a bucket with force_destroy). A delete marker holds no data, so there is nothing to dispose.
- Lambda layers: AWS publishes the Powertools layer from its own account in every Region; moto knows only
  layers published into it, and CreateFunction fails with "One or more LayerVersion does not exist".
- Application Auto Scaling and AWS Budgets tags: moto has no TagResource / ListTagsForResource /
  UntagResource for them, which the provider calls for every scalable target and budget.
- Lambda GetAccountSettings: moto has no route for it. The stand-in answers with AWS's default Regional
  concurrency quota of 1,000 ("Concurrent executions", Lambda quotas page) less what moto's functions reserve.

``simulated_sagemaker`` (tests/orchestration/fake_sagemaker.py) makes training and tuning jobs "run".
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from dev.moto_patches import patched

AWS_LAYER_PUBLISHERS = ("017000801446", "498634801083", "165087284144", "165093116878")


def _lifecycle_config_tags(original):
    def get_resource_from_arn(self, arn: str) -> Any:
        kind, _, name = arn.split(":")[-1].partition("/")
        if (
            kind == "notebook-instance-lifecycle-config"
            and name in self.notebook_instance_lifecycle_configurations
        ):
            config = self.notebook_instance_lifecycle_configurations[name]
            if not hasattr(config, "tags"):
                config.tags = []
            return config
        return original(self, arn)

    return get_resource_from_arn


def _lifecycle_config_create(original):
    def create_notebook_instance_lifecycle_config(self):
        result = original(self)
        name = self._get_param("NotebookInstanceLifecycleConfigName")
        config = self.sagemaker_backend.notebook_instance_lifecycle_configurations[name]
        config.tags = list(self._get_param("Tags") or [])
        return result

    return create_notebook_instance_lifecycle_config


def _rule_init(original):
    def __init__(self, *args, prefix_list_id: dict | None = None, **kwargs):
        if len(args) > 7:  # positional as moto passes it: (..., ip_range, source_group, prefix_list_id)
            args, prefix_list_id = args[:7], args[7]
        original(self, *args, prefix_list_id=prefix_list_id, **kwargs)
        self.prefix_list_description = (prefix_list_id or {}).get("Description")

    return __init__


def _rule_description(original):
    def description(self) -> str | None:
        return (
            self.ip_range.get("Description")
            or self.source_group.get("Description")
            or getattr(self, "prefix_list_description", None)
        )

    return property(description)


def _notebook_create(original):
    def create_notebook_instance(self):
        result = original(self)
        notebook = self.sagemaker_backend.get_notebook_instance(self._get_param("NotebookInstanceName"))
        notebook.platform_identifier = self._get_param("PlatformIdentifier")
        notebook.metadata_service = self._get_param("InstanceMetadataServiceConfiguration")
        return result

    return create_notebook_instance


def _notebook_to_dict(original):
    def to_dict(self) -> dict[str, Any]:
        described = original(self)
        if getattr(self, "platform_identifier", None):
            described["PlatformIdentifier"] = self.platform_identifier
        if getattr(self, "metadata_service", None):
            described["InstanceMetadataServiceConfiguration"] = self.metadata_service
        return described

    return to_dict


def _aws_published_layers(original):
    def get_layers_data(self, arns: list[str]) -> list[dict[str, Any]]:
        published = [arn for arn in arns if arn.split(":")[4] in AWS_LAYER_PUBLISHERS]
        own = (
            original(self, [arn for arn in arns if arn not in published])
            if len(published) < len(arns)
            else []
        )
        return own + [{"Arn": arn, "CodeSize": 0} for arn in published]

    return get_layers_data


def _dispose_nothing(self, garbage: bool = False) -> None:
    """A delete marker has no content to release."""


_TAGS: dict[str, dict[str, str]] = {}


def _autoscaling_tag_resource(self) -> str:
    arn = self._get_param("ResourceARN")
    _TAGS.setdefault(arn, {}).update(self._get_param("Tags") or {})
    return "{}"


def _autoscaling_untag_resource(self) -> str:
    tags = _TAGS.setdefault(self._get_param("ResourceARN"), {})
    for key in self._get_param("TagKeys") or []:
        tags.pop(key, None)
    return "{}"


def _autoscaling_list_tags(self) -> str:
    return json.dumps({"Tags": _TAGS.get(self._get_param("ResourceARN"), {})})


def _budgets_tag_resource(self) -> str:
    tags = {t["Key"]: t["Value"] for t in self._get_param("ResourceTags") or []}
    _TAGS.setdefault(self._get_param("ResourceARN"), {}).update(tags)
    return "{}"


def _budgets_untag_resource(self) -> str:
    tags = _TAGS.setdefault(self._get_param("ResourceARN"), {})
    for key in self._get_param("ResourceTagKeys") or []:
        tags.pop(key, None)
    return "{}"


def _budgets_list_tags(self) -> str:
    tags = _TAGS.get(self._get_param("ResourceARN"), {})
    return json.dumps({"ResourceTags": [{"Key": k, "Value": v} for k, v in tags.items()]})


def _budgets_create(original):
    def create_budget(self) -> str:
        answer = original(self)
        name = self._get_param("Budget")["BudgetName"]
        arn = f"arn:aws:budgets::{self._get_param('AccountId')}:budget/{name}"
        _TAGS[arn] = {t["Key"]: t["Value"] for t in self._get_param("ResourceTags") or []}
        return answer

    return create_budget


def _autoscaling_register(original):
    def register_scalable_target(self) -> str:
        answer = original(self)
        if tags := self._get_param("Tags"):
            _TAGS.setdefault(json.loads(answer)["ScalableTargetARN"], {}).update(tags)
        return answer

    return register_scalable_target


LAMBDA_CONCURRENCY_QUOTA = 1000
ACCOUNT_SETTINGS_PATH = r"{0}/(?P<api_version>[^/]+)/account-settings/?$"


def _lambda_account_settings(self) -> tuple[int, dict, str]:
    reserved = sum(
        int(function.reserved_concurrency or 0)
        for function in self.backend.list_functions()
        if getattr(function, "reserved_concurrency", None)
    )
    limits = {
        "TotalCodeSize": 80530636800,
        "CodeSizeUnzipped": 262144000,
        "CodeSizeZipped": 52428800,
        "ConcurrentExecutions": LAMBDA_CONCURRENCY_QUOTA,
        "UnreservedConcurrentExecutions": LAMBDA_CONCURRENCY_QUOTA - reserved,
    }
    return (
        200,
        {},
        json.dumps({"AccountLimit": limits, "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0}}),
    )


@contextlib.contextmanager
def moto_gaps_filled() -> Iterator[None]:
    """Apply every patch of the module docstring; restore moto on exit."""
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
    from moto.awslambda import urls as lambda_urls
    from moto.awslambda.models import LambdaFunction
    from moto.awslambda.responses import LambdaResponse
    from moto.budgets.responses import BudgetsResponse
    from moto.ec2.models.security_groups import SecurityGroupRule
    from moto.s3.models import FakeDeleteMarker
    from moto.sagemaker.models import FakeSagemakerNotebookInstance, SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    replaced = [
        (SageMakerModelBackend, "_get_resource_from_arn", _lifecycle_config_tags),
        (SageMakerResponse, "create_notebook_instance_lifecycle_config", _lifecycle_config_create),
        (SecurityGroupRule, "__init__", _rule_init),
        (SecurityGroupRule, "description", _rule_description),
        (SageMakerResponse, "create_notebook_instance", _notebook_create),
        (FakeSagemakerNotebookInstance, "to_dict", _notebook_to_dict),
        (LambdaFunction, "_get_layers_data", _aws_published_layers),
        (ApplicationAutoScalingResponse, "register_scalable_target", _autoscaling_register),
        (BudgetsResponse, "create_budget", _budgets_create),
    ]
    added = [
        (ApplicationAutoScalingResponse, "tag_resource", _autoscaling_tag_resource),
        (ApplicationAutoScalingResponse, "untag_resource", _autoscaling_untag_resource),
        (ApplicationAutoScalingResponse, "list_tags_for_resource", _autoscaling_list_tags),
        (LambdaResponse, "get_account_settings", _lambda_account_settings),
        (BudgetsResponse, "tag_resource", _budgets_tag_resource),
        (BudgetsResponse, "untag_resource", _budgets_untag_resource),
        (BudgetsResponse, "list_tags_for_resource", _budgets_list_tags),
        (FakeDeleteMarker, "dispose", _dispose_nothing),
    ]
    lambda_urls.url_paths[ACCOUNT_SETTINGS_PATH] = LambdaResponse.dispatch
    try:
        with patched(replaced, added):
            yield
    finally:
        lambda_urls.url_paths.pop(ACCOUNT_SETTINGS_PATH, None)
        _TAGS.clear()


@contextlib.contextmanager
def offline_aws() -> Iterator[str]:
    """A moto server in this process with the gaps filled and SageMaker jobs simulated; yields its URL."""
    from dev.offline_s3_policy import bucket_policy_conditions
    from dev.offline_terraform import moto_server
    from tests.orchestration.fake_sagemaker import simulated_sagemaker

    with moto_gaps_filled(), bucket_policy_conditions(), simulated_sagemaker(), moto_server() as endpoint:
        yield endpoint
