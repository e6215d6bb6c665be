"""Builds build/predict_lambda.zip: the entry module and exactly the dogbreed modules the Lambda imports.

    handler.py                      functions/predict/handler.py (the runtime loads `handler.handler`)
    dogbreed/...                    LAMBDA_MODULES: dogbreed.predict_api and what it imports (the contract)

Our code only: boto3 is in the Lambda Python runtime and Powertools comes from the AWS-managed layer
(terraform/modules/predict_lambda). The zip is byte-identical for the same sources, so Terraform's
``source_code_hash`` (filebase64sha256 of the zip) changes only when the code does: every entry gets the same
timestamp (1980-01-01, the zip epoch) and mode (0644), entries are sorted, and they are stored uncompressed so
the bytes do not depend on the machine's zlib version.

    dogbreed-build-lambda-zip [--source functions/predict] [--output build/predict_lambda.zip]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import sys
import zipfile
from pathlib import Path

import dogbreed
from dogbreed.utils.fileio import atomic_write
from dogbreed.utils.repo import BUILD_DIR, REPO_ROOT

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--
EXCLUDED_PARTS = {"__pycache__", ".pytest_cache"}
EXCLUDED_SUFFIXES = {".pyc", ".pyo"}
PACKAGE_DIR = Path(dogbreed.__file__).resolve().parent
FUNCTION_DIR = REPO_ROOT / "functions" / "predict"
# What dogbreed.predict_api.app imports from the package, and nothing more (test_build_lambda_zip.py imports
# the handler from the extracted zip in a fresh interpreter and compares).
LAMBDA_MODULES = (
    "__init__.py",
    "contract.py",
    "predict_api/__init__.py",
    "predict_api/app.py",
    "predict_api/endpoint.py",
    "predict_api/errors.py",
    "predict_api/image.py",
    "predict_api/observability.py",
    "predict_api/request.py",
    "predict_api/settings.py",
    "predict_api/url_fetch.py",
)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--source", type=Path, default=FUNCTION_DIR, help="folder whose files become the zip's root"
    )
    parser.add_argument("--output", type=Path, default=BUILD_DIR / "predict_lambda.zip", help="zip to write")
    return parser


def source_files(source: Path) -> list[Path]:
    """Files of the function folder, in a stable order (sorted by their path inside the zip)."""
    files = [
        path
        for path in source.rglob("*")
        if path.is_file() and not EXCLUDED_PARTS & set(path.parts) and path.suffix not in EXCLUDED_SUFFIXES
    ]
    return sorted(files, key=lambda path: path.relative_to(source).as_posix())


def zip_members(source: Path, package_dir: Path = PACKAGE_DIR) -> dict[str, bytes]:
    """Entry name -> bytes: the function folder's files at the root, LAMBDA_MODULES under dogbreed/."""
    files = source_files(source)
    if not files:
        raise FileNotFoundError(f"no files to package under {source}")
    members = {path.relative_to(source).as_posix(): path.read_bytes() for path in files}
    for module in LAMBDA_MODULES:
        members[f"dogbreed/{module}"] = (package_dir / module).read_bytes()
    return dict(sorted(members.items()))


def build_zip(source: Path, output: Path, package_dir: Path = PACKAGE_DIR) -> str:
    """Writes the zip and returns its base64 SHA-256 (the value Terraform's filebase64sha256 computes)."""
    members = zip_members(source, package_dir)
    with atomic_write(output) as file, zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            entry = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            entry.external_attr = FILE_MODE << 16
            entry.create_system = 3  # Unix, so the mode above is honoured on every build machine
            archive.writestr(entry, data)
    return base64.b64encode(hashlib.sha256(output.read_bytes()).digest()).decode()


def main(args: argparse.Namespace | None = None) -> int:
    args = args if args is not None else get_args_parser().parse_args()
    try:
        digest = build_zip(args.source, args.output)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{args.output} ({args.output.stat().st_size} bytes) base64 sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
