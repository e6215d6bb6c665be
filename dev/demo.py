"""The main job, offline: data -> brief CPU fine-tuning -> model.tar.gz -> local endpoint -> Lambda handler.

    make demo                                                        # synthetic dataset, ~1 min on 2 cores
    python -m dev.demo --data-dir data/dogImages --per-class 6       # a small slice of the real dataset

Steps: (1) a small dataset (generated, or a per-class slice of a dogImages folder, linked not copied);
(2) training/train.py with --no-pretrained (no downloads) packs model.tar.gz; (3) the local endpoint serves
it in the SageMaker PyTorch container's own serving stack (TorchServe + the SageMaker inference toolkit,
from .venv-serving, in a network namespace with only loopback) behind the InvokeEndpoint REST call that
boto3 speaks; a local https image host
(throwaway CA) serves the images for URL requests; (4) the Lambda handler runs in-process, its boto3 client
redirected by AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME, and gets every image in every event form (Function URL JSON,
binary and base64 JSON bodies; direct invocations with the image and with its URL); (5) the top-5 per image
and the latencies are printed, results, the handler's log lines and its EMF metrics written to <workdir>,
and everything is stopped.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tqdm import tqdm

from dev.image_host import LocalImageHost
from dev.lambda_events import FakeLambdaContext, events_for
from dev.lambda_runtime import function_output, import_lambda_handler, split_output
from dogbreed.local_endpoint import LocalEndpoint
from dogbreed.local_endpoint.instance import python_version, serving_python
from dogbreed.utils.repo import REPO_ROOT

ENDPOINT_NAME = "dogbreed-demo"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
SPLITS = ("train", "valid", "test")


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Offline end-to-end demo: train briefly, serve locally, call the Lambda handler.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--data-dir", type=Path, help="a real dogImages folder; default: generate a dataset")
    parser.add_argument("--per-class", type=int, default=6, help="with --data-dir: train images per breed")
    parser.add_argument("--classes", type=int, default=5, help="generated dataset: number of breeds")
    parser.add_argument(
        "--workdir", type=Path, default=REPO_ROOT / ".demo", help="scratch folder (recreated)"
    )
    parser.add_argument("--arch", default="resnet18", help="torchvision architecture to fine-tune")
    parser.add_argument("--epochs", type=int, default=6, help="training epochs")
    parser.add_argument("--crop-size", type=int, default=64, help="training/eval crop in pixels")
    parser.add_argument("--images", type=int, default=3, help="test images sent through the Lambda")
    parser.add_argument("--repeats", type=int, default=5, help="calls per image and event form (latency)")
    return parser


def step(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def run(command: list[str]) -> None:
    """Runs a step's subprocess, its output streaming through (training prints its own progress)."""
    subprocess.run(command, check=True, cwd=REPO_ROOT)


# --- (1) data
def generated_dataset(root: Path, classes: int) -> Path:
    run(
        [
            sys.executable,
            "-m",
            "dogbreed.data.synthetic",
            "--output",
            str(root),
            "--classes",
            str(classes),
            "--train",
            "24",
            "--valid",
            "8",
            "--test",
            "8",
        ]
    )
    return root


def dogimages_slice(source: Path, root: Path, per_class: int) -> Path:
    """Links the first images of every breed (per split) so a CPU demo trains on real photos in minutes."""
    counts = {"train": per_class, "valid": max(1, per_class // 3), "test": max(1, per_class // 3)}
    for split in SPLITS:
        split_dir = source / split
        breeds = sorted(p for p in split_dir.iterdir() if p.is_dir()) if split_dir.is_dir() else []
        if not breeds:
            raise SystemExit(f"error: {source / split} has no breed folders (expected the dogImages layout)")
        for breed in tqdm(breeds, desc=f"linking {split}", unit="breed"):
            target = root / split / breed.name
            target.mkdir(parents=True)
            images = sorted(p for p in breed.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            for image in images[: counts[split]]:
                (target / image.name).symlink_to(image.resolve())
    return root


# --- (2) training
def train(data: Path, workdir: Path, args: argparse.Namespace) -> Path:
    flags = {
        "--data-dir": data,
        "--model-dir": workdir / "model",
        "--output-dir": workdir / "output",
        "--checkpoint-dir": workdir / "checkpoints",
        "--arch": args.arch,
        "--epochs": args.epochs,
        "--batch-size": 16,
        "--crop-size": args.crop_size,
        "--num-workers": 0,
        "--patience": 0,
        # the local serving stack's Python (not the container's 3.12): the wheels it ships must install there
        "--serving-python": python_version(serving_python()),
    }
    run(
        [
            sys.executable,
            "training/train.py",
            "--no-pretrained",
            *(str(x) for kv in flags.items() for x in kv),
        ]
    )
    return workdir / "model" / "model.tar.gz"


# --- (3)-(4) serve and call
def configure_lambda_env(endpoint: LocalEndpoint, host: LocalImageHost) -> None:
    """The function's environment as Terraform sets it, plus the local redirects and throwaway credentials."""
    os.environ.update(
        {
            "ENDPOINT_NAME": ENDPOINT_NAME,
            "TOP_K": "5",
            "ALLOWED_URL_HOSTS": host.netloc,
            "URL_FETCH_CA_BUNDLE": str(host.ca_bundle),
            "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": endpoint.url,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            # the local endpoint checks a SigV4 signature is present; never send real credentials to it
            "AWS_ACCESS_KEY_ID": "demo",
            "AWS_SECRET_ACCESS_KEY": "demo",
        }
    )
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)


def event_forms(image: Path, url: str) -> dict[str, dict]:
    content_type = "image/png" if image.suffix.lower() == ".png" else "image/jpeg"
    return events_for(image.read_bytes(), content_type) | {"direct-url": {"url": url}}


def call_every_form(
    handler, images: list[Path], host: LocalImageHost, repeats: int, workdir: Path
) -> list[dict]:
    """Every image in every event form, `repeats` times; what the handler writes (its JSON log lines and EMF
    metrics, stdout in Lambda) goes to lambda_logs.jsonl and lambda_metrics.jsonl in `workdir`."""
    results = []
    total = len(images) * len(event_forms(images[0], "")) * repeats
    output = io.StringIO()
    with tqdm(total=total, desc="Lambda calls", unit="call") as progress:
        for image in images:
            url = host.add(f"/{image.parent.name}/{image.name}", image.read_bytes())
            for form, event in event_forms(image, url).items():
                for _ in range(repeats):
                    started = time.perf_counter()
                    with function_output(output):
                        response = handler.handler(event, FakeLambdaContext())
                    latency_ms = (time.perf_counter() - started) * 1000
                    results.append(
                        {
                            "image": f"{image.parent.name}/{image.name}",
                            "form": form,
                            "status": response["statusCode"],
                            "latency_ms": round(latency_ms, 2),
                            "body": json.loads(response["body"]),
                        }
                    )
                    progress.update()
    logs, metrics = split_output(output.getvalue())
    for name, records in (("lambda_logs.jsonl", logs), ("lambda_metrics.jsonl", metrics)):
        (workdir / name).write_text("".join(json.dumps(record) + "\n" for record in records))
    return results


# --- (5) report
def print_training(metrics_file: Path) -> None:
    metrics = json.loads(metrics_file.read_text())
    print(
        f"trained {metrics['arch']} on {metrics['num_classes']} breeds: best epoch {metrics['best_epoch']}, "
        f"test accuracy {metrics['test_accuracy']:.2f} on {metrics['test_samples']} images "
        f"(chance {1 / metrics['num_classes']:.2f}). Generated images, not dogs: this shows the model learns "
        "and the request path works, not how well it would know real breeds."
    )
    serving = metrics["serving"]
    print(f"serving: {serving['runtime']} {serving['precision']} ({serving['reason']})")


def print_report(results: list[dict]) -> None:
    failures = [r for r in results if r["status"] != 200]
    for image in dict.fromkeys(r["image"] for r in results):
        answers = [r for r in results if r["image"] == image and r["status"] == 200]
        if not answers:
            continue
        distinct = {json.dumps(r["body"]["predictions"]) for r in answers}
        print(
            f"\n{image}  (true breed: {image.split('/')[0]}; "
            f"{'same answer in every form' if len(distinct) == 1 else 'ANSWERS DIFFER BETWEEN FORMS'})"
        )
        for rank, p in enumerate(answers[0]["body"]["predictions"], 1):
            print(f"  {rank}. {p['label']:<32} index {p['index']:>3}  p={p['probability']:.4f}")
    print("\nlatency per Lambda call (in-process handler -> boto3 -> InvokeEndpoint front -> TorchServe), ms")
    print(f"  {'event form':<24}{'calls':>6}{'p50':>9}{'max':>9}")
    for form in dict.fromkeys(r["form"] for r in results):
        latencies = [r["latency_ms"] for r in results if r["form"] == form]
        print(f"  {form:<24}{len(latencies):>6}{statistics.median(latencies):>9.1f}{max(latencies):>9.1f}")
    if failures:
        print(f"\n{len(failures)} call(s) failed, e.g. {failures[0]['form']}: {failures[0]['body']}")


def main(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    if args.data_dir:
        step(f"1/5 slicing {args.data_dir} ({args.per_class} training images per breed, linked)")
        data = dogimages_slice(args.data_dir, args.workdir / "data", args.per_class)
    else:
        step(f"1/5 generating a synthetic dataset ({args.classes} breeds)")
        data = generated_dataset(args.workdir / "data", args.classes)
    step(f"2/5 fine-tuning {args.arch} on CPU for {args.epochs} epoch(s), no pretrained weights")
    archive = train(data, args.workdir, args)
    step("3/5 starting the local endpoint (TorchServe + the SageMaker toolkit, no network), an image host")
    images = sorted(p for p in (data / "test").rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    images = images[:: max(1, len(images) // args.images)][: args.images]
    with LocalEndpoint(archive, endpoint_name=ENDPOINT_NAME) as endpoint, LocalImageHost() as host:
        print(f"endpoint {ENDPOINT_NAME} at {endpoint.url} (container port 8080 at {endpoint.stack.url});")
        print(f"images at https://{host.netloc}")
        configure_lambda_env(endpoint, host)
        handler = import_lambda_handler()  # after the environment is set: it is read once, at cold start

        step(f"4/5 calling the Lambda handler: {len(images)} image(s) x every event form x {args.repeats}")
        results = call_every_form(handler, images, host, args.repeats, args.workdir)
    step("5/5 results (endpoint and image host stopped)")
    print_training(args.workdir / "output" / "metrics.json")
    print_report(results)
    (args.workdir / "demo_results.json").write_text(json.dumps(results, indent=1))
    ok = all(r["status"] == 200 for r in results)
    print(
        f"\n{'demo finished' if ok else 'demo FAILED'} in {time.perf_counter() - started:.0f} s; "
        f"results (demo_results.json), handler logs and metrics (lambda_logs.jsonl, lambda_metrics.jsonl) "
        f"in {args.workdir}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(get_args_parser().parse_args()))
