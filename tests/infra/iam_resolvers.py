"""ARNs and request context of the resources an action touches, built from a planned resource
(iam_needs.Plan).

resolve(plan, resource, step, action, service, sar_type) gives [(arn, context)] for one Service Authorization
Reference resource type of the action, or [] when the planned resource does not reference one (optional
types).
"""

from __future__ import annotations

from collections.abc import Callable

OWN = {  # Terraform type => (service, SAR resource type) of the resource itself
    "aws_vpc": ("ec2", "vpc"),
    "aws_subnet": ("ec2", "subnet"),
    "aws_security_group": ("ec2", "security-group"),
    "aws_default_security_group": ("ec2", "security-group"),
    "aws_route_table": ("ec2", "route-table"),
    "aws_vpc_endpoint": ("ec2", "vpc-endpoint"),
    "aws_flow_log": ("ec2", "vpc-flow-log"),
    "aws_vpc_security_group_egress_rule": ("ec2", "security-group-rule"),
    "aws_vpc_security_group_ingress_rule": ("ec2", "security-group-rule"),
    "aws_instance": ("ec2", "instance"),
    "aws_launch_template": ("ec2", "launch-template"),
    "aws_iam_role": ("iam", "role"),
    "aws_iam_instance_profile": ("iam", "instance-profile"),
    "aws_iam_openid_connect_provider": ("iam", "oidc-provider"),
    "aws_iam_policy": ("iam", "policy"),
    "aws_kms_key": ("kms", "key"),
    "aws_kms_alias": ("kms", "alias"),
    "aws_lambda_function": ("lambda", "function"),
    "aws_cloudwatch_log_group": ("logs", "log-group"),
    "aws_cloudwatch_metric_alarm": ("cloudwatch", "alarm"),
    "aws_s3_object": ("s3", "object"),
    "aws_sagemaker_model": ("sagemaker", "model"),
    "aws_sagemaker_endpoint_configuration": ("sagemaker", "endpoint-config"),
    "aws_sagemaker_endpoint": ("sagemaker", "endpoint"),
    "aws_sagemaker_notebook_instance": ("sagemaker", "notebook-instance"),
    "aws_sagemaker_notebook_instance_lifecycle_configuration": (
        "sagemaker",
        "notebook-instance-lifecycle-config",
    ),
    "aws_appautoscaling_target": ("application-autoscaling", "ScalableTarget"),
    "aws_appautoscaling_policy": ("application-autoscaling", "ScalableTarget"),
    "aws_budgets_budget": ("budgets", "budget"),
}
CREATOR = {  # the action that creates the resource: there its own resource is new (aws:RequestTag)
    "aws_vpc": "ec2:CreateVpc",
    "aws_subnet": "ec2:CreateSubnet",
    "aws_security_group": "ec2:CreateSecurityGroup",
    "aws_route_table": "ec2:CreateRouteTable",
    "aws_vpc_endpoint": "ec2:CreateVpcEndpoint",
    "aws_flow_log": "ec2:CreateFlowLogs",
    "aws_vpc_security_group_egress_rule": "ec2:AuthorizeSecurityGroupEgress",
    "aws_vpc_security_group_ingress_rule": "ec2:AuthorizeSecurityGroupIngress",
    "aws_instance": "ec2:RunInstances",
    "aws_launch_template": "ec2:CreateLaunchTemplate",
    "aws_iam_role": "iam:CreateRole",
    "aws_iam_instance_profile": "iam:CreateInstanceProfile",
    "aws_iam_openid_connect_provider": "iam:CreateOpenIDConnectProvider",
    "aws_iam_policy": "iam:CreatePolicy",
    "aws_kms_key": "kms:CreateKey",
    "aws_lambda_function": "lambda:CreateFunction",
    "aws_cloudwatch_log_group": "logs:CreateLogGroup",
    "aws_cloudwatch_metric_alarm": "cloudwatch:PutMetricAlarm",
    "aws_sagemaker_model": "sagemaker:CreateModel",
    "aws_sagemaker_endpoint_configuration": "sagemaker:CreateEndpointConfig",
    "aws_sagemaker_endpoint": "sagemaker:CreateEndpoint",
    "aws_sagemaker_notebook_instance": "sagemaker:CreateNotebookInstance",
    "aws_sagemaker_notebook_instance_lifecycle_configuration": (
        "sagemaker:CreateNotebookInstanceLifecycleConfig"
    ),
    "aws_appautoscaling_target": "application-autoscaling:RegisterScalableTarget",
}
PASSED_TO = {  # the service a role is passed to (iam:PassedToService); absent where AWS documents none
    "aws_sagemaker_model": "sagemaker.amazonaws.com",
    "aws_sagemaker_notebook_instance": "sagemaker.amazonaws.com",
    "aws_lambda_function": "lambda.amazonaws.com",
    "aws_instance": "ec2.amazonaws.com",
}
# implicit.json: the service-linked role the first use of a resource creates with the caller's permissions
SERVICE_LINKED = {
    "aws_appautoscaling_target": (
        "sagemaker.application-autoscaling.amazonaws.com",
        "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
    ),
    "aws_instance": ("spot.amazonaws.com", "AWSServiceRoleForEC2Spot"),
}
VIA = {"aws_instance": "ec2", "aws_sagemaker_endpoint": "sagemaker", "aws_s3_object": "s3"}
TAGGING_VERBS = ("Tag", "Untag", "AddTags", "DeleteTags", "CreateTags")
_PLACEHOLDER = {
    "vpc": "vpc-planned",
    "subnet": "subnet-planned",
    "security-group": "sg-planned",
    "route-table": "rtb-planned",
    "vpc-endpoint": "vpce-planned",
    "vpc-flow-log": "fl-planned",
    "security-group-rule": "sgr-planned",
    "instance": "i-planned",
    "launch-template": "lt-planned",
    "network-interface": "eni-planned",
    "volume": "vol-planned",
    "spot-instances-request": "sir-planned",
}


class Unresolved(LookupError):
    """An action needs a resource this module cannot build an ARN for: add a resolver."""


def _verb(action: str) -> str:
    return action.split(":")[1]


def _is_tagging(action: str) -> bool:
    return _verb(action).startswith(TAGGING_VERBS)


def _is_untagging(action: str) -> bool:
    return _verb(action).startswith(("Untag", "DeleteTags"))


def _request_tags(tags: dict) -> dict:
    return (
        {**{f"aws:RequestTag/{k}": v for k, v in tags.items()}, "aws:TagKeys": sorted(tags)} if tags else {}
    )


def _resource_tags(tags: dict) -> dict:
    return {f"aws:ResourceTag/{k}": v for k, v in tags.items()}


def new_resource_context(resource: dict, step: str, action: str) -> dict:
    """Request tags when this action creates the resource (or tags it on creation)."""
    creating = step == "create" and (action == CREATOR.get(resource["type"]) or _is_tagging(action))
    return _request_tags(resource.get("tags_all") or {}) if creating else {}


def _own_context(resource: dict, step: str, action: str) -> dict:
    tags = dict(resource.get("tags_all") or {})
    if resource["type"] == "aws_default_security_group" and step == "create":
        # adopted untagged: tagged first (request tags, no CreateAction), then its rules revoked (tagged by
        # then)
        return _request_tags(tags) if _is_tagging(action) else _resource_tags(tags)
    context = new_resource_context(resource, step, action)
    if context:
        creator = CREATOR.get(resource["type"], "")
        if action == "ec2:CreateTags" and creator.startswith("ec2:"):
            context["ec2:CreateAction"] = _verb(creator)
        return context | _role_context(resource, resource)
    context = _resource_tags(tags)
    if step == "update" and _is_tagging(action) and tags:
        # an update retags the keys that changed: taken as one other than Name and Project (var.tags changed)
        changed = next(
            (k for k in (*sorted(tags), "Name") if k in tags and k not in ("Name", "Project")), "Project"
        )
        untag = _is_untagging(action)
        context |= {"aws:TagKeys": [changed]} if untag else _request_tags({changed: tags[changed]})
    return context | _role_context(resource, resource)


def _role_context(resource: dict, role: dict | None) -> dict:
    context = {}
    if role and role.get("permissions_boundary"):
        context["iam:PermissionsBoundary"] = role["permissions_boundary"]
    if resource.get("policy_arn"):
        context["iam:PolicyARN"] = resource["policy_arn"]
    return context


def _own_arn(plan, resource: dict) -> str:
    service, sar_type = OWN[resource["type"]]
    r = resource
    if service == "ec2":
        return plan.arn("ec2", f"{sar_type}/{r.get('id') or _PLACEHOLDER[sar_type]}")
    if service == "iam":
        if sar_type == "oidc-provider":
            return plan.arn("iam", f"oidc-provider/{r['url'].removeprefix('https://')}", region=False)
        return plan.arn("iam", f"{sar_type}{r.get('path') or '/'}{r['name']}", region=False)
    return {
        "key": lambda: plan.arn("kms", f"key/{r.get('key_id') or 'planned'}"),
        "alias": lambda: plan.arn("kms", r["name"]),
        "function": lambda: plan.arn("lambda", f"function:{r['function_name']}"),
        "log-group": lambda: plan.arn("logs", f"log-group:{r['name']}"),
        "alarm": lambda: plan.arn("cloudwatch", f"alarm:{r['alarm_name']}"),
        "object": lambda: f"arn:{plan.partition}:s3:::{r['bucket']}/{r['key']}",
        "ScalableTarget": lambda: plan.arn("application-autoscaling", "scalable-target/planned"),
        "budget": lambda: plan.arn("budgets", f"budget/{r['name']}", region=False),
    }.get(sar_type, lambda: plan.arn("sagemaker", f"{sar_type}/{_sagemaker_name(r)}"))()


def _sagemaker_name(resource: dict) -> str:
    return (resource.get("name") or f"{resource['name_prefix']}planned").lower()


def resolve(
    plan, resource: dict, step: str, action: str, service: str, sar_type: str
) -> list[tuple[str, dict]]:
    if OWN.get(resource["type"]) == (service, sar_type) and action not in (
        "iam:CreateServiceLinkedRole",
        "iam:PassRole",
    ):
        return own(plan, resource, step, action)
    cross = CROSS.get((service, sar_type))
    return cross(plan, resource, step, action) if cross else []


def own(plan, resource: dict, step: str, action: str) -> list[tuple[str, dict]]:
    """The resource itself. Also the fallback for a tagging action whose SAR entry omits the resource's type
    (sagemaker:AddTags lists no notebook-instance-lifecycle-config, which the provider tags nonetheless)."""
    if resource["type"] not in OWN:
        return []
    context = _own_context(resource, step, action)
    if resource["type"].startswith("aws_appautoscaling_"):
        context |= {
            "application-autoscaling:service-namespace": resource["service_namespace"],
            "application-autoscaling:scalable-dimension": resource["scalable_dimension"],
        }
    return [(_own_arn(plan, resource), context)]


def _ids(resource: dict, *attributes: str) -> list[str]:
    found = []
    for attribute in attributes:
        value = resource.get(attribute)
        found += value if isinstance(value, list) else [value] if value else []
    return found


def _ec2_existing(sar_type: str, tf_type: str, *attributes: str) -> Callable:
    def resolver(plan, resource, step, action):
        ids = _ids(resource, *attributes)
        if not ids and not any(a in resource for a in attributes):
            ids = [None] if _references(resource, attributes) else []
        return [
            (
                plan.arn("ec2", f"{sar_type}/{i or _PLACEHOLDER[sar_type]}"),
                _resource_tags(plan.tags_of(tf_type, i)),
            )
            for i in ids
        ]

    return resolver


# Which attributes of which types reference an EC2 resource (their value may be unknown at plan time).
_REFERENCES = {
    "vpc_id": {"aws_subnet", "aws_route_table", "aws_security_group", "aws_vpc_endpoint", "aws_flow_log",
               "aws_default_security_group"},
    "subnet_id": {"aws_instance", "aws_route_table_association"},
    "subnet_ids": {"aws_vpc_endpoint"},
    "route_table_id": {"aws_route_table_association"},
    "route_table_ids": {"aws_vpc_endpoint"},
    "security_group_id": {"aws_vpc_security_group_egress_rule", "aws_vpc_security_group_ingress_rule"},
    "vpc_security_group_ids": {"aws_instance"},
    "security_group_ids": {"aws_vpc_endpoint"},
}  # fmt: skip


def _references(resource: dict, attributes: tuple[str, ...]) -> bool:
    return any(resource["type"] in _REFERENCES.get(a, ()) for a in attributes)


# The calls that touch an instance's parts (the provider tags the instance and, through volume_tags, its
# volumes).
_INSTANCE_PART_ACTIONS = {
    "volume": {
        "ec2:RunInstances",
        "ec2:ModifyVolume",
        "ec2:ModifyInstanceAttribute",
        "ec2:CreateTags",
        "ec2:DeleteTags",
    },
    "network-interface": {"ec2:RunInstances", "ec2:ModifyNetworkInterfaceAttribute"},
    "spot-instances-request": {"ec2:RunInstances", "ec2:CancelSpotInstanceRequests"},
}


def _instance_part(sar_type: str) -> Callable:
    """Volumes, interfaces and spot requests of aws_instance: new in RunInstances, existing afterwards."""

    def resolver(plan, resource, step, action):
        if resource["type"] != "aws_instance" or action not in _INSTANCE_PART_ACTIONS[sar_type]:
            return []
        spot = bool(resource.get("instance_market_options"))
        if sar_type == "spot-instances-request" and action == "ec2:RunInstances" and not spot:
            return []
        tags = dict(resource.get("volume_tags") or {}) if sar_type == "volume" else {}
        new = action == "ec2:RunInstances"
        context = _request_tags(tags) if new else _resource_tags(tags)
        return [(plan.arn("ec2", f"{sar_type}/{_PLACEHOLDER[sar_type]}"), context)]

    return resolver


def _image(plan, resource, step, action):
    if not resource.get("ami") or action != "ec2:RunInstances":
        return []
    return [(plan.arn("ec2", f"image/{resource['ami']}", account=False), {"ec2:Owner": "amazon"})]


def _role(plan, resource, step, action):
    if action == "iam:CreateServiceLinkedRole":
        service, name = SERVICE_LINKED[resource["type"]]
        return [
            (
                plan.arn("iam", f"role/aws-service-role/{service}/{name}", region=False),
                {"iam:AWSServiceName": service},
            )
        ]
    name = resource.get("role") if resource["type"].startswith("aws_iam_") else None
    role = next((r for r in plan.of_type("aws_iam_role") if name and r.get("name") == name), None)
    if role is None and action == "iam:PassRole":
        role = _passed_role(plan, resource)
    if role is None:
        return []
    context = _role_context(resource, role) | _resource_tags(role.get("tags_all") or {})
    if action == "iam:PassRole" and resource["type"] in PASSED_TO:
        context["iam:PassedToService"] = PASSED_TO[resource["type"]]
    return [(plan.arn("iam", f"role{role.get('path') or '/'}{role['name']}", region=False), context)]


def _passed_role(plan, resource):
    if resource["type"] == "aws_instance":
        profile = plan.one("aws_iam_instance_profile", resource["module"])
        return next(r for r in plan.of_type("aws_iam_role") if r.get("name") == profile.get("role"))
    return plan.one("aws_iam_role", resource["module"])


def _key(plan, resource, step, action):
    if resource["type"] == "aws_kms_alias":
        key = plan.one("aws_kms_key", resource["module"])
    else:
        key = _referenced_key(plan, resource)
    if key is None:
        return []
    context = _resource_tags(key.get("tags_all") or {})
    if action == "kms:CreateGrant":
        context["kms:GrantIsForAWSResource"] = "true"
    if resource["type"] in VIA:
        context["kms:ViaService"] = f"{VIA[resource['type']]}.{plan.region}.amazonaws.com"
    return [(plan.arn("kms", f"key/{key.get('key_id') or 'planned'}"), context)]


def _referenced_key(plan, resource):
    blocks = [
        resource,
        *(resource.get("root_block_device") or []),
        *(resource.get("data_capture_config") or []),
    ]
    arns = [
        b.get(a) for b in blocks for a in ("kms_key_id", "kms_key_arn") if isinstance(b, dict) and b.get(a)
    ]
    keys = plan.of_type("aws_kms_key")
    return next((k for k in keys for arn in arns if k.get("arn") == arn), keys[0] if keys else None)


def _function(qualified: bool) -> Callable:
    def resolver(plan, resource, step, action):
        name = resource.get("function_name")
        if not name or resource["type"] == "aws_lambda_function":
            return []
        qualifier = resource.get("qualifier") or (resource.get("name") if qualified else None)
        if qualified and not qualifier:
            return []
        return [(plan.arn("lambda", f"function:{name}" + (f":{qualifier}" if qualifier else "")), {})]

    return resolver


def _layer(plan, resource, step, action):
    return [(layer, {}) for layer in resource.get("layers") or []]


def _endpoint_name(resource: dict) -> str:
    return resource["resource_id"].split("/")[1]


def _target_tracking_alarm(plan, resource, step, action):
    if not resource["type"].startswith("aws_appautoscaling_"):
        return []
    variant = resource["resource_id"].split("/")[3]
    name = f"TargetTracking-endpoint/{_endpoint_name(resource)}/variant/{variant}-AlarmHigh-planned"
    return [(plan.arn("cloudwatch", f"alarm:{name}"), {})]


def _sagemaker_endpoint(plan, resource, step, action):
    if resource["type"] == "terraform_data":  # the post-deploy check calls the module's endpoint
        endpoint = plan.one("aws_sagemaker_endpoint", resource["module"])
        return [(plan.arn("sagemaker", f"endpoint/{endpoint['name'].lower()}"), {})]
    if not resource["type"].startswith("aws_appautoscaling_"):
        return []
    return [(plan.arn("sagemaker", f"endpoint/{_endpoint_name(resource).lower()}"), {})]


def _artifact(plan, resource, step, action):
    """The published model.tar.gz the post-deploy check reads (HeadObject: s3:GetObject)."""
    if resource["type"] != "terraform_data":
        return []
    model = plan.one("aws_sagemaker_model", resource["module"])
    url = model["primary_container"][0]["model_data_url"]
    return [(f"arn:{plan.partition}:s3:::{url.removeprefix('s3://')}", {})]


def _sagemaker_config(plan, resource, step, action):
    if resource["type"] not in (
        "aws_sagemaker_endpoint",
        "aws_appautoscaling_target",
        "aws_appautoscaling_policy",
    ):
        return []
    config = plan.one("aws_sagemaker_endpoint_configuration", resource["module"])
    return [(plan.arn("sagemaker", f"endpoint-config/{_sagemaker_name(config)}"), {})]


def _bucket(plan, resource, step, action):
    if not resource["type"].startswith("aws_s3_"):
        return []
    bucket = resource.get("bucket") or plan.one("aws_s3_bucket", resource["module"])["bucket"]
    context = {"s3:prefix": resource["key"]} if resource.get("key") and "List" in action else {}
    return [(f"arn:{plan.partition}:s3:::{bucket}", context)]


def _hosted_zone(plan, resource, step, action):
    vpc = resource.get("vpc_id") or "vpc-planned"
    return [
        (
            f"arn:{plan.partition}:route53:::hostedzone/planned",
            {"route53:VPCs": f"VPCId={vpc},VPCRegion={plan.region}"},
        )
    ]


def _parameter(plan, resource, step, action):
    return [(plan.arn("ssm", f"parameter{resource['name']}", account=False), {})]


CROSS = {
    ("ec2", "vpc"): _ec2_existing("vpc", "aws_vpc", "vpc_id"),
    ("ec2", "subnet"): _ec2_existing("subnet", "aws_subnet", "subnet_id", "subnet_ids"),
    ("ec2", "route-table"): _ec2_existing(
        "route-table", "aws_route_table", "route_table_id", "route_table_ids"
    ),
    ("ec2", "security-group"): _ec2_existing(
        "security-group",
        "aws_security_group",
        "security_group_id",
        "vpc_security_group_ids",
        "security_group_ids",
    ),
    ("ec2", "image"): _image,
    ("ec2", "volume"): _instance_part("volume"),
    ("ec2", "network-interface"): _instance_part("network-interface"),
    ("ec2", "spot-instances-request"): _instance_part("spot-instances-request"),
    ("iam", "role"): _role,
    ("kms", "key"): _key,
    ("lambda", "function"): _function(qualified=False),
    ("lambda", "function alias"): _function(qualified=True),
    ("lambda", "layerVersion"): _layer,
    ("cloudwatch", "alarm"): _target_tracking_alarm,
    ("sagemaker", "endpoint"): _sagemaker_endpoint,
    ("sagemaker", "endpoint-config"): _sagemaker_config,
    ("s3", "bucket"): _bucket,
    ("s3", "object"): _artifact,
    ("route53", "hostedzone"): _hosted_zone,
    ("ssm", "parameter"): _parameter,
}
