"""dogbreed-build-notebook-bundle: what the notebook instance installs its launcher kernel from, offline.

Run it on a machine with internet (and the repository), then the notebook's lifecycle configuration
(terraform/modules/notebook: install_kernel.sh) installs it on every start, through the S3 gateway endpoint:

    <output>/wheels/*.whl            requirements/launcher.txt, for the notebook's CPython and Linux
    <output>/wheels/MANIFEST.json    the Python version and platforms they were chosen for, the lock's hash
    <output>/dogbreed-mlops.tar.gz   the repository's code: pyproject.toml, requirements/, src/, training/

uploaded (SSE-KMS, the stack's key) to s3://<bucket>/code/notebook/ unless --no-upload. The wheels come from
`pip download --only-binary=:all: --python-version X.Y --implementation cp --platform ...` (pip's documented
way to pick wheels for another machine); --find-links/--no-index make pip read a local folder, not PyPI.

    dogbreed-build-notebook-bundle --python-version 3.11            # glibc 2.26 platforms: Amazon Linux 2
    dogbreed-build-notebook-bundle --python-version 3.11 --glibc 2.34   # Amazon Linux 2023

Run it as an operator (the root stack's operator_policy_json, the role named in code_writer_role_arns): the
bucket policy lets only those roles and the CI apply role write code/, and the notebook role, which runs the
bundle, may only read it (docs/infra.md, "Operators").
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Sequence
from pathlib import Path

from dogbreed.utils.fileio import write_json_atomically
from dogbreed.utils.repo import BUILD_DIR, REPO_ROOT

LOCK = REPO_ROOT / "requirements" / "launcher.txt"
CODE_ARCHIVE = "dogbreed-mlops.tar.gz"
WHEELS = "wheels"
MANIFEST = "MANIFEST.json"
S3_PREFIX = "code/notebook/"  # terraform/modules/notebook: code_s3_prefix
CODE_PARTS = ("pyproject.toml", "requirements/launcher.txt", "src/dogbreed", "training")
EXCLUDED = re.compile(r"(^|/)(__pycache__|\.ipynb_checkpoints)(/|$)|\.py[co]$")


def manylinux_platforms(glibc: str, arch: str = "x86_64") -> list[str]:
    """Every manylinux tag a glibc `glibc` machine runs, newest first (pip does not expand manylinux_2_X)."""
    major, minor = (int(part) for part in glibc.split("."))
    if major != 2 or minor < 17:
        raise SystemExit(f"--glibc {glibc}: manylinux wheels need glibc 2.17 or newer")
    return [f"manylinux_2_{m}_{arch}" for m in range(minor, 16, -1)] + [f"manylinux2014_{arch}"]


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dogbreed-build-notebook-bundle",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--python-version", required=True, help="X.Y of the kernel's Python (the lifecycle log names it)"
    )
    parser.add_argument("--glibc", default="2.26", help="glibc of the notebook platform (AL2: 2.26)")
    parser.add_argument("--platform", action="append", help="wheel platform tags (default: from --glibc)")
    parser.add_argument("--output", type=Path, default=BUILD_DIR / "notebook", help="bundle folder")
    parser.add_argument("--find-links", type=Path, help="take the wheels from this folder (with --no-index)")
    parser.add_argument("--no-index", action="store_true", help="do not contact PyPI")
    parser.add_argument("--s3-uri", help=f"upload destination (default: s3://<stack bucket>/{S3_PREFIX})")
    parser.add_argument("--kms-key", help="KMS key ARN for the upload (default: output kms_key_arn)")
    parser.add_argument("--terraform-outputs", type=Path, help="saved `terraform output -json`")
    parser.add_argument("--no-upload", action="store_true", help="build the folder only")
    return parser


def download_wheels(args: argparse.Namespace, wheels: Path) -> list[str]:
    platforms = args.platform or manylinux_platforms(args.glibc)
    command = [
        *(sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--dest", str(wheels)),
        *("--python-version", args.python_version, "--implementation", "cp", "-r", str(LOCK)),
    ]
    command += [flag for platform in platforms for flag in ("--platform", platform)]
    if args.find_links:
        command += ["--find-links", str(args.find_links)]
    if args.no_index:
        command.append("--no-index")
    subprocess.run(command, check=True)
    return platforms


def code_files() -> dict[str, Path]:
    files = {}
    for part in CODE_PARTS:
        root = REPO_ROOT / part
        for path in [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()):
            name = path.relative_to(REPO_ROOT).as_posix()
            if not EXCLUDED.search(name):
                files[name] = path
    return dict(sorted(files.items()))


def code_archive() -> bytes:
    """The code as a reproducible tar.gz (same files, same bytes), like the training source tarball."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for name, path in code_files().items():
            info = tar.gettarinfo(str(path), arcname=name)
            info.mtime, info.uid, info.gid, info.uname, info.gname, info.mode = 0, 0, 0, "", "", 0o644
            with path.open("rb") as file:
                tar.addfile(info, file)
    return buffer.getvalue()


def build(args: argparse.Namespace) -> Path:
    output = args.output
    wheels = output / WHEELS
    shutil.rmtree(wheels, ignore_errors=True)
    wheels.mkdir(parents=True)
    platforms = download_wheels(args, wheels)
    write_json_atomically(
        wheels / MANIFEST,
        {
            "python_version": args.python_version,
            "platforms": platforms,
            "requirements_sha256": hashlib.sha256(LOCK.read_bytes()).hexdigest(),
        },
    )
    (output / CODE_ARCHIVE).write_bytes(code_archive())
    return output


def upload(output: Path, s3_uri: str, kms_key: str | None, region: str | None) -> list[str]:
    import boto3

    from dogbreed.orchestration.s3 import split_s3_uri

    bucket, prefix = split_s3_uri(s3_uri)
    s3 = boto3.client("s3", region_name=region)
    extra = {"ServerSideEncryption": "aws:kms", **({"SSEKMSKeyId": kms_key} if kms_key else {})}
    keys = []
    for path in sorted(p for p in output.rglob("*") if p.is_file()):
        key = f"{prefix.rstrip('/')}/{path.relative_to(output).as_posix()}".lstrip("/")
        s3.upload_file(str(path), bucket, key, ExtraArgs=extra)
        keys.append(key)
    return keys


def main(argv: Sequence[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    if not re.fullmatch(r"3\.\d+", args.python_version):
        raise SystemExit(f"--python-version {args.python_version!r}: give X.Y, e.g. 3.11")
    output = build(args)
    result = {"bundle": str(output), "wheels": len(list((output / WHEELS).glob("*.whl")))}
    if not args.no_upload:
        from dogbreed.orchestration.settings import TerraformOutputs

        outputs = TerraformOutputs.load(outputs_file=args.terraform_outputs)
        s3_uri = args.s3_uri or f"s3://{outputs.get('data_bucket_name')}/{S3_PREFIX}"
        kms_key = args.kms_key or outputs.get("kms_key_arn")
        result["uploaded"] = len(upload(output, s3_uri, kms_key, outputs.get("region")))
        result["s3_uri"] = s3_uri
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
