"""Dev-only harness: Terraform offline, a shared provider cache, moto standing in for AWS, a staged stack."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PROVIDER_MIRROR = Path(os.environ.get("TF_PROVIDER_MIRROR", "/opt/tf-plugins"))
DEFAULT_PLUGIN_CACHE = Path.home() / ".cache" / "terraform-plugins"
LAMBDA_ZIP = Path("build/predict_lambda.zip")
USER_DATA_TEMPLATE = Path("ec2/user_data.sh.tftpl")
REGION = "eu-west-1"
# The network module's defaults: 10.42.0.0/16, /20 subnets in zones a and b (cidrsubnet(cidr, 4, index)).
GATE_VPC_CIDR = "10.42.0.0/16"
GATE_SUBNETS = ((f"{REGION}a", "10.42.0.0/20"), (f"{REGION}b", "10.42.16.0/20"))
# The root stack's training-jobs security group (terraform/main.tf, local.workloads.training): created in moto
# with the same name and description, so the import keeps it and the notebook policy, which names its id,
# is known at plan time.
TRAINING_GROUP_NAME = "{name}-training-jobs"
TRAINING_GROUP_DESCRIPTION = (
    "SageMaker training and tuning jobs: all traffic within the group, HTTPS out to VPC endpoints and S3"
)
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "",
}


class TerraformError(RuntimeError):
    """A terraform command failed; the message carries the tail of its output."""


def plugin_cache() -> Path:
    """The provider cache: TF_PLUGIN_CACHE_DIR when set (read each call), else ~/.cache/terraform-plugins."""
    return Path(os.environ.get("TF_PLUGIN_CACHE_DIR") or DEFAULT_PLUGIN_CACHE)


def cli_config(directory: Path, cache: Path | None = None) -> Path:
    """A CLI config: the AWS provider from the local mirror when there is one, always through one cache.

    The cache makes every `init` link the (large) provider binary instead of copying it. Terraform does not
    make the cache safe for concurrent installs ("mkdir .../linux_amd64: file exists" when two inits fill an
    empty cache at once), so `warm_plugin_cache` fills it once, under a file lock, before inits run side by
    side. Since Terraform 1.4 an `init` without a lock file entry ignores the cache and installs again, into
    the cache: the modules and examples commit no lock file, so without
    `plugin_cache_may_break_dependency_lock_file` each of their inits would re-install and race the others.
    The root stack and bootstrap commit their lock files, which Terraform still checks against the cache.
    """
    cache = cache or plugin_cache()
    cache.mkdir(parents=True, exist_ok=True)
    installation = (
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{PROVIDER_MIRROR}"\n  }}\n}}\n'
        if PROVIDER_MIRROR.is_dir()
        else ""
    )
    path = directory / "terraform.tfrc"
    path.write_text(
        f'{installation}plugin_cache_dir = "{cache}"\nplugin_cache_may_break_dependency_lock_file = true\n'
    )
    return path


def cache_dir_of(env: dict[str, str]) -> Path:
    """The plugin_cache_dir of the CLI config an environment from `terraform_env` names."""
    for line in Path(env["TF_CLI_CONFIG_FILE"]).read_text().splitlines():
        if line.startswith("plugin_cache_dir"):
            return Path(line.split("=", 1)[1].strip().strip('"'))
    raise TerraformError(f"{env['TF_CLI_CONFIG_FILE']} names no plugin_cache_dir")


def warm_plugin_cache(env: dict[str, str]) -> None:
    """Install the stack's provider into the plugin cache once, under an exclusive lock on the cache.

    One `init` of a scratch configuration with the root stack's provider requirements and lock file: it fills
    an empty cache (or just links from a warm one). Holding the lock, concurrent callers in this or another
    process wait instead of racing on the same directories; afterwards every `init` only reads the cache.
    """
    cache = cache_dir_of(env)
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".terraform-warm.lock", "w") as lock, tempfile.TemporaryDirectory() as scratch:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stack = REPO_ROOT / "terraform"
        (Path(scratch) / "versions.tf").write_text(
            (stack / "versions.tf").read_text().replace('backend "s3" {}', "")
        )
        if (stack / ".terraform.lock.hcl").exists():
            shutil.copy(stack / ".terraform.lock.hcl", Path(scratch) / ".terraform.lock.hcl")
        run(
            ["init", "-backend=false", "-input=false"],
            Path(scratch),
            {**env, "TF_DATA_DIR": f"{scratch}/.tf"},
        )


def terraform_env(config: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
    env.update(TF_CLI_CONFIG_FILE=str(config), TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1", **extra)
    return env


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 300) -> str:
    """Run `terraform ARGS` and return its output; TerraformError with the output tail when it fails."""
    result = subprocess.run(
        ["terraform", *args, "-no-color"], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise TerraformError(f"terraform {' '.join(args)} failed in {cwd}:\n{output[-4000:]}")
    return output


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server in this process on a port the OS picks; yields its URL (the provider's AWS_ENDPOINT_URL).

    Patches that change moto's classes (dev/offline_aws.py, tests/orchestration/fake_sagemaker.py) apply to it
    while they are active: it serves from this process's backends.
    """
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def stage_stack(repo_root: Path, destination: Path) -> None:
    """Copy what the root stack reads into DESTINATION and build the Lambda zip there.

    The tool-written *.auto.tfvars.json files are left out so the gates plan with their own fixed inputs.
    """
    ignore = shutil.ignore_patterns(
        ".terraform", "*.tfstate*", "tfplan*", "*.auto.tfvars.json", "__pycache__"
    )
    for part in ("terraform", "policies", "training", "src", "ec2"):
        if (repo_root / part).is_dir():
            shutil.copytree(repo_root / part, destination / part, ignore=ignore)
    _require_user_data(destination)
    _build_lambda_zip(repo_root, destination)
    (destination / "terraform" / "backend_override.tf").write_text('terraform {\n  backend "local" {}\n}\n')


def _require_user_data(destination: Path) -> None:
    if not (destination / USER_DATA_TEMPLATE).exists():
        raise FileNotFoundError(f"{USER_DATA_TEMPLATE} is missing: the EC2 trainer cannot be planned")


def _build_lambda_zip(repo_root: Path, destination: Path) -> None:
    """Build the deployment zip exactly as CI does, with the prediction API's own tool."""
    target = destination / LAMBDA_ZIP
    subprocess.run(
        [sys.executable, "-m", "dogbreed.packing.lambda_zip", "--output", str(target)],
        cwd=repo_root,
        check=True,
        capture_output=True,
        timeout=120,
    )


def plan_json(stack: Path, var_file: Path, env: dict[str, str] | None = None) -> dict:
    """Plan the staged root stack against moto and return `terraform show -json` of it.

    ENV defaults to a Terraform environment with a CLI config of the stage's own (`cli_config`).

    The project key, the VPC, its subnets and the training jobs' security group are created in moto first and
    imported by the plan, so their ARNs and ids are known: checkov then sees the KMS and subnet settings of
    every resource, and the notebook policy its network conditions, instead of "known after apply".
    (Importing is much faster than a targeted apply, which waits on propagation checks.)
    """
    name = json.loads(var_file.read_text()).get("name", "dogbreed")
    return _plan(stack / "terraform", var_file, env or terraform_env(cli_config(stack)), seed_name=name)


def plan_configuration_json(
    stack: Path,
    configuration: str,
    variables: dict,
    env: dict[str, str] | None = None,
    seed_name: str | None = None,
) -> dict:
    """Plan another configuration of the staged stack (terraform/bootstrap, an example) against moto.

    Most build their policies from names, so the policies are known without seeding. SEED_NAME seeds the key
    and network as for the root stack (plan_json), for a configuration with the same module addresses whose
    policies name subnets and security groups (examples/notebook_training: the notebook's job conditions).
    """
    root = stack / configuration
    var_file = root / "gate.tfvars.json"
    var_file.write_text(json.dumps(variables))
    return _plan(root, var_file, env or terraform_env(cli_config(stack)), seed_name=seed_name)


def _plan(root: Path, var_file: Path, env: dict[str, str], seed_name: str | None) -> dict:
    with moto_server() as endpoint:
        env = {**env, **FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": REGION}
        if seed_name is not None:
            (root / "gate_imports.tf").write_text(_seed_existing_resources(endpoint, seed_name))
        run(["init", "-input=false"], root, env)
        run(["plan", "-input=false", f"-var-file={var_file.resolve()}", "-out=tfplan"], root, env)
        return json.loads(_show(root, env))


def planned(plan: dict, resource_type: str) -> list[dict]:
    """The planned attributes of every resource of RESOURCE_TYPE in a `terraform show -json` plan."""
    changes = plan["resource_changes"]
    return [change["change"]["after"] for change in changes if change["type"] == resource_type]


def _seed_existing_resources(endpoint: str, name: str) -> str:
    """Create the key and the network the stack would create, in moto; return import blocks for them."""
    import boto3

    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    key_id = session.client("kms", endpoint_url=endpoint).create_key(
        KeyUsage="ENCRYPT_DECRYPT",
        KeySpec="SYMMETRIC_DEFAULT",
        Tags=[{"TagKey": "Project", "TagValue": name}],
    )["KeyMetadata"]["KeyId"]
    ec2 = session.client("ec2", endpoint_url=endpoint)
    vpc_id = ec2.create_vpc(CidrBlock=GATE_VPC_CIDR)["Vpc"]["VpcId"]
    imports = {"module.data_bucket.aws_kms_key.this": key_id, "module.network.aws_vpc.this": vpc_id}
    for index, (zone, cidr) in enumerate(GATE_SUBNETS):
        subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
        imports[f"module.network.aws_subnet.private[{index}]"] = subnet
    group = ec2.create_security_group(
        GroupName=TRAINING_GROUP_NAME.format(name=name), Description=TRAINING_GROUP_DESCRIPTION, VpcId=vpc_id
    )["GroupId"]
    # What the provider does to a group it creates: no default allow-all egress rule.
    ec2.revoke_security_group_egress(
        GroupId=group, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    imports['module.network.aws_security_group.workload["training"]'] = group
    return "".join(
        f'import {{\n  to = {address}\n  id = "{value}"\n}}\n\n' for address, value in imports.items()
    )


def _show(root: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        ["terraform", "show", "-json", "tfplan"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise TerraformError(f"terraform show failed:\n{result.stderr[-4000:]}")
    return result.stdout


def new_workdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
