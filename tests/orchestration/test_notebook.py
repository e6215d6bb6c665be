"""training/notebooks/train_and_deploy.ipynb runs top to bottom against the moto server, unedited."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient
from orchestration_support import BUCKET, REPO_ROOT

NOTEBOOK = REPO_ROOT / "training" / "notebooks" / "train_and_deploy.ipynb"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture
def tiny_dog_images(tmp_path):
    root = tmp_path / "dogImages"
    subprocess.run(
        [sys.executable, "-m", "dogbreed.data.synthetic", "--output", str(root), "--classes", "2",
         "--train", "2", "--valid", "1", "--test", "1"],
        cwd=REPO_ROOT, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return root


def outputs_of(cell) -> str:
    return json.dumps(cell.get("outputs", []))


def test_notebook_runs_top_to_bottom(
    tmp_path, monkeypatch, terraform_outputs, tiny_dog_images, sagemaker, s3
):
    tfvars = tmp_path / "model.auto.tfvars.json"
    for name, value in {
        "DOGBREED_REPO": str(REPO_ROOT),
        "DOGBREED_TF_OUTPUTS": str(terraform_outputs),
        "DOGBREED_LOCAL_DATA": str(tiny_dog_images),
        "DOGBREED_MAX_JOBS": "3",
        "DOGBREED_MAX_PARALLEL_JOBS": "1",
        "DOGBREED_EPOCHS": "1",
        "DOGBREED_TFVARS": str(tfvars),
        "DOGBREED_DEPLOY": "0",
    }.items():
        monkeypatch.setenv(name, value)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        "commit it clean"
    )

    NotebookClient(
        notebook, kernel_name="python3", timeout=240, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()

    tuning = sagemaker.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
    assert len(tuning) == 1
    assert tuning[0]["ResourceLimits"]["MaxNumberOfTrainingJobs"] == 3
    best = sagemaker.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning[0]["HyperParameterTuningJobName"]
    )["BestTrainingJob"]
    distributed = [
        sagemaker.describe_training_job(TrainingJobName=j["TrainingJobName"])
        for j in sagemaker.list_training_jobs()["TrainingJobSummaries"]
        if not j["TrainingJobName"].startswith(tuning[0]["HyperParameterTuningJobName"])
    ]
    assert len(distributed) == 1
    job = distributed[0]
    assert job["ResourceConfig"]["InstanceCount"] == 2
    assert job["HyperParameters"] == {"epochs": "1", **best["TunedHyperParameters"]}
    recorded = json.loads(tfvars.read_text())  # publish's write-once copy of the final job's artifact
    source_bucket, _, source_key = job["ModelArtifacts"]["S3ModelArtifacts"][5:].partition("/")
    sha256 = hashlib.sha256(s3.get_object(Bucket=source_bucket, Key=source_key)["Body"].read()).hexdigest()
    assert recorded == {
        "model_data_url": f"s3://{BUCKET}/models/published/{sha256}/model.tar.gz",
        "model_sha256": sha256,
    }
    uploaded = s3.list_objects_v2(Bucket=BUCKET, Prefix="data/dogImages/")["KeyCount"]
    assert uploaded == sum(1 for p in tiny_dog_images.rglob("*") if p.is_file())

    results_cell = next(c for c in notebook.cells if "tuning_results(" in c.source)
    assert "text/html" in outputs_of(results_cell)  # the table
    assert "image/png" in outputs_of(results_cell)  # the plot
    assert (tmp_path / "tuning_results.png").stat().st_size > 0
    assert "terraform -chdir=" in outputs_of(notebook.cells[-2])
    assert "dogbreed-launch predict" in outputs_of(notebook.cells[-1])
