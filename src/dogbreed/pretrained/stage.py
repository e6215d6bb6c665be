"""dogbreed-stage-weights: torchvision's pretrained weights into the project bucket, once, verified.

Run it where there is internet (a laptop, a CI job), never on a training machine:

    dogbreed-stage-weights --arch resnet50                  # download torchvision's DEFAULT weights, upload
    dogbreed-stage-weights --arch resnet50 --file resnet50-11ad3fa6.pth   # stage a copy you already have
    dogbreed-stage-weights --arch resnet18 --url https://mirror.example/resnet18-f37072fd.pth

Every file is checked against the SHA-256 prefix in its name (torch.hub's HASH_REGEX rule: the download
itself goes through torch.hub.download_url_to_file with that prefix, as check_hash=True does, and the file is
hashed again before upload), must load into `--arch`, and lands at s3://<bucket>/weights/<arch>/<file name>,
encrypted with the stack's KMS key. Bucket and key come from flags or the root stack's `terraform output`.

Whoever runs it writes weights/: it needs s3:PutObject on weights/* and the key (an administrator or the
deploy credentials); no role of the stack may write there, the training roles only read it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from dogbreed.pretrained import files
from dogbreed.utils.repo import BUILD_DIR


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=files.STAGE_TOOL,
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--arch", required=True, help="torchvision model name, as train.py's --arch")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--file", type=Path, help="a weights file you already have (<name>-<sha256>.pth)")
    source.add_argument("--url", help="download from here instead of torchvision's URL for --arch")
    parser.add_argument("--download-dir", type=Path, default=BUILD_DIR / "weights", help="where downloads go")
    parser.add_argument("--s3-uri", help="destination prefix (default: s3://<stack bucket>/weights/)")
    parser.add_argument("--kms-key", help="KMS key ARN for the upload (default: output kms_key_arn)")
    parser.add_argument("--region", help="AWS region (default: output region)")
    parser.add_argument("--terraform-dir", type=Path, help="root stack directory (default: terraform/)")
    parser.add_argument("--terraform-outputs", type=Path, help="saved `terraform output -json`")
    parser.add_argument("--no-upload", action="store_true", help="download and verify only")
    return parser


def obtain(args: argparse.Namespace) -> Path:
    """The verified weights file: the one given, or a download checked against its name's hash."""
    if args.file is not None:
        if not args.file.is_file():
            raise files.WeightsError(f"{args.file} does not exist")
        return files.verify(args.file)
    url = args.url or files.default_weights(args.arch).url
    name = files.file_name_of(url)
    target = args.download_dir / name
    if not target.is_file():
        from torch.hub import download_url_to_file

        args.download_dir.mkdir(parents=True, exist_ok=True)
        try:
            download_url_to_file(
                url, str(target), hash_prefix=files.hash_prefix(name), progress=sys.stderr.isatty()
            )
        except (OSError, RuntimeError) as error:  # unreachable, or "invalid hash value"
            raise files.WeightsError(f"download of {url} failed: {str(error).splitlines()[0]}") from error
    return files.verify(target)


def check_loads(path: Path, arch: str) -> None:
    """The file must be a state dict of `arch` (training loads it the same way, dogbreed.model)."""
    from dogbreed.model import PretrainedWeightsUnavailable, build_model

    try:
        build_model(arch, num_classes=2, pretrained=True, weights_path=path)
    except PretrainedWeightsUnavailable as error:
        raise files.WeightsError(str(error)) from error


def destination(args: argparse.Namespace, name: str) -> tuple[str, str, str | None, str | None]:
    """(bucket, key, KMS key ARN, region) of the upload: flags first, then the root stack's outputs."""
    from dogbreed.orchestration.s3 import split_s3_uri
    from dogbreed.orchestration.settings import DEFAULT_TERRAFORM_DIR, TerraformOutputs

    outputs = None
    if not (args.s3_uri and args.kms_key and args.region):
        outputs = TerraformOutputs.load(args.terraform_dir or DEFAULT_TERRAFORM_DIR, args.terraform_outputs)
    s3_uri = args.s3_uri
    if not s3_uri:
        bucket = outputs.get("data_bucket_name")
        if not bucket:
            raise files.WeightsError(f"no bucket: pass --s3-uri or apply the root stack ({outputs.origin})")
        s3_uri = f"s3://{bucket}/{files.S3_PREFIX}/"
    bucket, prefix = split_s3_uri(s3_uri)
    key = f"{prefix.strip('/')}/{args.arch}/{name}".lstrip("/")
    kms_key = args.kms_key or (outputs.get("kms_key_arn") if outputs else None)
    region = args.region or (outputs.get("region") if outputs else None)
    return bucket, key, kms_key, region


def upload(path: Path, bucket: str, key: str, kms_key: str | None, region: str | None) -> str:
    import boto3

    extra = {"ServerSideEncryption": "aws:kms", **({"SSEKMSKeyId": kms_key} if kms_key else {})}
    boto3.client("s3", region_name=region).upload_file(str(path), bucket, key, ExtraArgs=extra)
    return f"s3://{bucket}/{key}"


def main(argv: Sequence[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    try:
        path = obtain(args)
        check_loads(path, args.arch)
        result = {"arch": args.arch, "file": str(path), "sha256": files.sha256_of(path)}
        if not args.no_upload:
            result["s3_uri"] = upload(path, *destination(args, path.name))
    except files.WeightsError as error:
        print(f"{files.STAGE_TOOL}: error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
