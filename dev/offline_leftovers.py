"""Dev-only: what of a run's stack remains in the stand-in AWS (moto) after its teardown, by service."""

from __future__ import annotations

import boto3

ACCOUNT = "123456789012"


def remaining(endpoint: str, region: str, name: str) -> dict[str, list]:
    """Every resource of stack NAME still in moto at ENDPOINT; the key only unless pending deletion."""
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)

    def client(service: str):
        return session.client(service, endpoint_url=endpoint)

    sagemaker, s3 = client("sagemaker"), client("s3")
    found = {
        "buckets": [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(name)],
        "notebooks": sagemaker.list_notebook_instances(NameContains=name)["NotebookInstances"],
        "endpoint_configs": sagemaker.list_endpoint_configs(NameContains=name)["EndpointConfigs"],
        "endpoints": sagemaker.list_endpoints(NameContains=name)["Endpoints"],
        "models": sagemaker.list_models(NameContains=name)["Models"],
        "functions": [f["FunctionName"] for f in client("lambda").list_functions()["Functions"]],
        "roles": [
            r["RoleName"] for r in client("iam").list_roles()["Roles"] if r["RoleName"].startswith(name)
        ],
        "vpcs": client("ec2").describe_vpcs(Filters=[{"Name": "tag:Project", "Values": [name]}])["Vpcs"],
        "alarms": client("cloudwatch").describe_alarms(AlarmNamePrefix=name)["MetricAlarms"],
        "scalable_targets": client("application-autoscaling").describe_scalable_targets(
            ServiceNamespace="sagemaker"
        )["ScalableTargets"],
        "budgets": client("budgets").describe_budgets(AccountId=ACCOUNT).get("Budgets", []),
        "log_groups": [
            g["logGroupName"]
            for g in client("logs").describe_log_groups()["logGroups"]
            if name in g["logGroupName"]
        ],
        "keys": _live_keys(client("kms"), name),
    }
    found["log_groups"] = [group for group in found["log_groups"] if name in group]
    return {kind: items for kind, items in found.items() if items}


def _live_keys(kms, name: str) -> list[str]:
    live = []
    for key in kms.list_keys()["Keys"]:
        metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        tags = kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])
        if {"TagKey": "Project", "TagValue": name} in tags and metadata["KeyState"] != "PendingDeletion":
            live.append(metadata["Arn"])
    return live
