"""The cost model, line by line, for the default settings and for a user's tfvars (serverless, no budget)."""

from __future__ import annotations

import json
import math

import pytest

from dogbreed.bill import cli
from dogbreed.bill.model import always_on, at_volume, per_thousand
from dogbreed.bill.prices import HOURS_PER_MONTH, SECONDS_PER_MONTH, PriceTable
from dogbreed.bill.settings import read_settings
from dogbreed.bill.usage import usage_from_benchmarks

pytestmark = pytest.mark.terraform

SERVERLESS = {
    "endpoint": {
        "serverless": {
            "memory_size_in_mb": 2048,
            "max_concurrency": 5,
            "provisioned_concurrency": 1,
            "acknowledge_no_network_isolation": True,
        },
        "data_capture_sampling_percentage": 0,
    },
    "predict_api": {"provisioned_concurrency": 0},
    "budget": {"create": False},
}


@pytest.fixture(scope="module")
def prices():
    return PriceTable.load()


@pytest.fixture(scope="module")
def serverless_facts(tmp_path_factory):
    tfvars = tmp_path_factory.mktemp("bill") / "serverless.tfvars.json"
    tfvars.write_text(json.dumps(SERVERLESS))
    return read_settings([tfvars])


def usd(items, prefix: str) -> float:
    (item,) = [item for item in items if item.what.startswith(prefix)]
    return item.usd


def test_the_defaults_always_on_items_are_their_quantities_times_their_prices(default_facts, prices):
    items = always_on(default_facts, prices)
    endpoint_az_hour = prices.service("vpc_interface_endpoint_az_hour").usd
    interface = default_facts.interface_endpoints * default_facts.availability_zones * HOURS_PER_MONTH
    assert usd(items, "interface VPC endpoints") == pytest.approx(interface * endpoint_az_hour)
    assert usd(items, "endpoint instances") == pytest.approx(2 * HOURS_PER_MONTH * 0.204)  # ml.c5.xlarge
    lambda_gb_s = 2 * 512 / 1024 * SECONDS_PER_MONTH  # provisioned concurrency 2 x 512 MB
    assert usd(items, "Lambda provisioned concurrency") == pytest.approx(
        lambda_gb_s * prices.service("lambda_arm_provisioned_gb_second").usd
    )
    assert usd(items, "CloudWatch alarms (5)") == pytest.approx(5 * 0.10)
    assert usd(items, "KMS customer managed key") == pytest.approx(1.0)


def test_per_prediction_items_scale_with_the_measured_usage(default_facts, prices):
    usage = usage_from_benchmarks()
    items = per_thousand(default_facts, prices, usage)
    duration_gb_s = 1000 * 512 / 1024 * usage.lambda_ms / 1000
    assert usd(items, "Lambda duration") == pytest.approx(
        duration_gb_s * prices.service("lambda_arm_provisioned_duration_gb_second").usd
    )
    assert usd(items, "X-Ray traces") == pytest.approx(5.00 / 1000)
    assert usd(items, "SageMaker data processed") == pytest.approx(
        1000 * usage.request_bytes / 1024**3 * 0.016
    )


def test_instances_scale_with_the_load_within_the_capacities(default_facts, prices):
    usage = usage_from_benchmarks()
    target = default_facts.endpoint.target_invocations_per_minute
    heavy = int(target * 3.5 * HOURS_PER_MONTH * 60)  # 3.5 instances' worth at the scaling target
    assert at_volume(default_facts, prices, usage, 10_000).instances == 2  # min_capacity
    assert at_volume(default_facts, prices, usage, heavy).instances == min(4, math.ceil(3.5))
    assert at_volume(default_facts, prices, usage, heavy * 10).over_capacity


def test_a_serverless_tfvars_bills_no_instance_and_its_provisioned_concurrency(serverless_facts, prices):
    items = always_on(serverless_facts, prices)
    names = [item.what for item in items]
    assert serverless_facts.endpoint.serverless and serverless_facts.budget is None
    assert not any(
        name.startswith(("endpoint instances", "Lambda provisioned", "AWS Budgets")) for name in names
    )
    assert usd(items, "serverless provisioned concurrency") == pytest.approx(
        1 * 2048 / 1024 * SECONDS_PER_MONTH * prices.service("sagemaker_serverless_provisioned_gb_second").usd
    )
    assert usd(items, "CloudWatch alarms (3)") == pytest.approx(0.30)  # 5xx, latency, at-max-concurrency
    usage = usage_from_benchmarks()
    assert usd(
        per_thousand(serverless_facts, prices, usage), "serverless inference duration"
    ) == pytest.approx(
        1000 * 2 * usage.endpoint_ms / 1000 * prices.service("sagemaker_serverless_gb_second").usd
    )


def test_the_json_output_prices_a_users_tfvars(tmp_path, capsys):
    tfvars = tmp_path / "serverless.tfvars.json"
    tfvars.write_text(json.dumps(SERVERLESS))
    assert cli.main(["--var-file", str(tfvars), "--format", "json", "--volume", "20000"]) == 0
    bill = json.loads(capsys.readouterr().out)
    assert bill["serverless"] is True and bill["budget"] is None and str(tfvars) in bill["settings"]
    assert bill["always_on_monthly_usd"] == pytest.approx(
        sum(item["usd"] for item in bill["always_on"]), abs=1e-3
    )
    assert all(item["price"]["source"].startswith("https://aws.amazon.com/") for item in bill["always_on"])
    assert [row["predictions_per_month"] for row in bill["volumes"]] == [20000]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--var-file", "no/such.tfvars"], "does not exist"),
        (["--write-doc", "docs/bill.md", "--volume", "5"], "--write-doc documents the default settings"),
    ],
)
def test_bad_inputs_are_refused_in_one_line(argv, message, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("flag, value", [("--endpoint-ms", "-5"), ("--volume", "1.5"), ("--image-kb", "abc")])
def test_non_positive_or_malformed_numbers_are_usage_errors(flag, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([flag, value])
    assert exit_info.value.code == 2 and flag in capsys.readouterr().err


def test_benchmark_results_without_what_the_bill_reads_are_a_usage_error(tmp_path):
    from dogbreed.bill.usage import UsageError

    for name in ("endpoint_capacity.json", "lambda_overhead.json", "inference_latency.json"):
        (tmp_path / name).write_text(json.dumps({"name": name, "summary": [], "details": {}}))
    with pytest.raises(UsageError, match="no metric starting with"):
        usage_from_benchmarks(tmp_path)
    with pytest.raises(UsageError, match="is missing"):
        usage_from_benchmarks(tmp_path / "nowhere")
