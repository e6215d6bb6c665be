"""Service Quotas before a job is sent: a new account often has 0 GPU training instances, on demand and spot.

SageMaker's training quotas (service code ``sagemaker``) are named ``<instance type> for training job
usage`` and ``<instance type> for spot training job usage``; on-demand and spot are separate. GetServiceQuota
needs the quota's code, which differs per quota, so the quota is found by name: ListServiceQuotas (applied
values), then ListAWSDefaultServiceQuotas, because "for some quotas, only the default values are available"
(botocore's service-quotas model, ListServiceQuotas). Too low a quota stops the launch in one line naming
the quota; a lookup that fails (no permission, no Service Quotas endpoint in a private network) is reported
in one line and the launch goes on: SageMaker itself then answers with ResourceLimitExceeded.
"""

from __future__ import annotations

import logging

from dogbreed.orchestration.errors import LauncherError

SERVICE_CODE = "sagemaker"
log = logging.getLogger("launch")


def quota_name(instance_type: str, spot: bool) -> str:
    return f"{instance_type} for {'spot ' if spot else ''}training job usage"


def find_quota(client, name: str) -> dict | None:
    """The quota called `name`: its applied value if Service Quotas has one, else AWS's default."""
    for operation in ("list_service_quotas", "list_aws_default_service_quotas"):
        for page in client.get_paginator(operation).paginate(ServiceCode=SERVICE_CODE):
            for quota in page.get("Quotas", []):
                if quota.get("QuotaName") == name:
                    return quota
    return None


def quota_client(boto_session, region: str):
    """Short timeouts and one attempt: from a private subnet without a Service Quotas endpoint, fail fast."""
    from botocore.config import Config

    config = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 1, "mode": "standard"})
    return boto_session.client("service-quotas", region_name=region, config=config)


def check_instance_quota(client, instance_type: str, needed: int, spot: bool, region: str) -> None:
    """LauncherError when the account may run fewer than `needed` such instances for training."""
    from botocore.exceptions import BotoCoreError, ClientError

    name = quota_name(instance_type, spot)
    try:
        quota = find_quota(client, name)
    except (BotoCoreError, ClientError) as error:
        log.warning("could not read the quota %r (%s); launching anyway", name, _reason(error))
        return
    if quota is None:
        log.warning("Service Quotas lists no quota %r in %s; launching anyway", name, region)
        return
    value = quota.get("Value", 0)
    if value < needed:
        raise LauncherError(
            f"the account's quota '{name}' in {region} is {value:g}, this launch needs {needed}: request an "
            f"increase (Service Quotas, service {SERVICE_CODE}, quota {quota.get('QuotaCode', '?')}) or "
            "pick another instance type"
        )


def _reason(error: Exception) -> str:
    response = getattr(error, "response", None)
    if response:  # a ClientError: the service's code, not the page some proxies answer with
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return f"{response.get('Error', {}).get('Code')} (HTTP {status})"
    return " ".join(str(error).split())[:200]
