"""A run on the EC2 trainer starts only from `dogbreed-launch ec2-run`, never from Terraform.

Applied to moto (dev/offline_terraform.py), the example stack creates the launch template and no instance; a
run is started with the launcher, its instance terminates (the end of training, or a spot interruption), and
a plan with unchanged inputs then creates nothing: no instance comes back on the next `terraform apply`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request

import boto3
import pytest

from dev import offline_terraform as terraform
from dogbreed.orchestration import cli

pytestmark = [pytest.mark.slow, pytest.mark.terraform, pytest.mark.timeout(600)]

REGION = terraform.REGION
BUCKET = "dogbreed-demo-123456789012-eu-west-1"
ROLE = "arn:aws:iam::123456789012:role/dogbreed-demo-sagemaker-training"


def stage_example(destination):
    """What the example reads: the module, the policies, the user data template and the code it uploads."""
    for part in ("terraform/modules", "terraform/examples/ec2_trainer", "policies", "ec2", "training", "src"):
        shutil.copytree(
            terraform.REPO_ROOT / part,
            destination / part,
            ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "__pycache__"),
        )
    return destination / "terraform" / "examples" / "ec2_trainer"


def seed_account(endpoint: str) -> dict:
    """The bucket, key and network the example expects to exist."""
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    s3 = session.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    key = session.client("kms", endpoint_url=endpoint).create_key(
        Tags=[{"TagKey": "Project", "TagValue": "dogbreed-demo"}]
    )["KeyMetadata"]["Arn"]
    ec2 = session.client("ec2", endpoint_url=endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.0.0/20", AvailabilityZone=f"{REGION}a")
    group = ec2.create_security_group(GroupName="trainer", Description="EC2 trainer", VpcId=vpc)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]  # one of moto's AMIs
    return {
        "bucket_name": BUCKET,
        "kms_key_arn": key,
        "subnet_id": subnet["Subnet"]["SubnetId"],
        "security_group_ids": [group["GroupId"]],
        "ami_id": image,
    }


def plan(root, env, var_file) -> tuple[int, dict]:
    """`terraform plan -detailed-exitcode`: 0 no changes, 2 changes; and the plan as JSON."""
    result = subprocess.run(
        ["terraform", "plan", "-input=false", "-detailed-exitcode", f"-var-file={var_file}", "-out=tfplan",
         "-no-color"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode in (0, 2), result.stdout[-3000:] + result.stderr[-3000:]
    return result.returncode, json.loads(terraform._show(root, env))


def test_a_plan_after_the_trainer_terminated_creates_no_instance(tmp_path, tf_env, capsys, monkeypatch):
    root = stage_example(tmp_path / "stack")
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")  # AmazonSSMManagedInstanceCore is attached
    with terraform.moto_server() as endpoint:
        # moto's backends live in this process; a reset rebuilds them with the managed policies loaded
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).close()
        env = {**tf_env, **terraform.FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": REGION}
        var_file = tmp_path / "example.tfvars.json"
        var_file.write_text(json.dumps(seed_account(endpoint)))
        terraform.run(["init", "-input=false"], root, env)
        terraform.run(
            ["apply", "-input=false", "-auto-approve", f"-var-file={var_file}"], root, env, timeout=600
        )
        template = terraform.run(["output", "-raw", "launch_template_id"], root, env).strip()
        ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=endpoint, aws_access_key_id="testing",
                           aws_secret_access_key="testing")  # fmt: skip
        assert ec2.describe_instances()["Reservations"] == [], "the apply itself must start no instance"

        for name, value in {**terraform.FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}.items():
            monkeypatch.setenv(name, value or "testing")
        code = cli.main(["ec2-run", "--run-id", "run-7", "--launch-template", template, "--region", REGION,
                         "--bucket", BUCKET, "--role", ROLE, "--job-prefix", "dogbreed-demo"])  # fmt: skip
        started = json.loads(capsys.readouterr().out)
        assert code == 0 and started["run_id"] == "run-7" and started["resumes_from_checkpoint"] is False
        instance = ec2.describe_instances(InstanceIds=[started["instance_id"]])["Reservations"][0][
            "Instances"
        ][0]
        assert {"Key": "RunId", "Value": "run-7"} in instance["Tags"]
        assert cli.main(["ec2-run", "--run-id", "run-7", "--launch-template", template, "--region", REGION,
                         "--bucket", BUCKET, "--role", ROLE]) == 2  # fmt: skip
        assert "already on" in capsys.readouterr().err

        ec2.terminate_instances(InstanceIds=[started["instance_id"]])  # training over, or spot interrupted
        exit_code, planned = plan(root, env, var_file)

    created = [c["address"] for c in planned["resource_changes"] if "create" in c["change"]["actions"]]
    assert created == [] and exit_code == 0, planned["resource_changes"]
    assert not [c for c in planned["resource_changes"] if c["type"] == "aws_instance"]
