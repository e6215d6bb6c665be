"""Download the dogImages dataset (133 breeds, ~1 GB zip), extract it and optionally sync it to S3.

    dogbreed-download-data --output data
    dogbreed-download-data --output data --s3-uri s3://BUCKET/data/dogImages/ [--kms-key-id ARN]

The download streams to `<output>/dogImages.zip.part` with a progress bar and resumes from there with an
HTTP Range request when interrupted; the finished archive is checked (every member's CRC) before extraction,
and the extracted tree must have the dogImages layout. The S3 sync uploads only files that are missing or
differ in size.
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from dogbreed.data.dogimages import DataError, discover_classes

DOGIMAGES_URL = "https://s3-us-west-1.amazonaws.com/udacity-aind/dog-project/dogImages.zip"
CHUNK_BYTES = 1024 * 1024
TIMEOUT_S = 60
UPLOAD_THREADS = 16


class DownloadError(Exception):
    """Download, verification, extraction or upload failed; the message says which and where."""


def download(url: str, target: Path) -> Path:
    """Stream `url` to `target`, resuming a previous `<target>.part`; return `target`."""
    if target.exists():
        return target
    partial = target.with_name(target.name + ".part")
    offset = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            resumed = response.status == 206
            total = _total_size(response, offset if resumed else 0)
            with (
                open(partial, "ab" if resumed else "wb") as file,
                tqdm(
                    total=total, initial=offset if resumed else 0, unit="B", unit_scale=True, desc=target.name
                ) as progress,
            ):
                while chunk := response.read(CHUNK_BYTES):
                    file.write(chunk)
                    progress.update(len(chunk))
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # the partial file is already complete
            partial.replace(target)
            return target
        raise DownloadError(f"downloading {url} failed: HTTP {error.code} {error.reason}") from error
    except (urllib.error.URLError, OSError) as error:
        raise DownloadError(
            f"downloading {url} failed: {getattr(error, 'reason', error)}; rerun to resume"
        ) from error
    if total is not None and partial.stat().st_size != total:
        raise DownloadError(f"{partial} has {partial.stat().st_size} of {total} bytes; rerun to resume")
    partial.replace(target)
    return target


def _total_size(response, already_have: int) -> int | None:
    length = response.headers.get("Content-Length")
    return already_have + int(length) if length is not None else None


def verify_archive(archive: Path) -> None:
    """Every member's CRC must match; a corrupt archive is removed so the next run downloads it again."""
    try:
        with zipfile.ZipFile(archive) as zip_file:
            bad_member = zip_file.testzip()
    except zipfile.BadZipFile as error:
        archive.unlink()
        raise DownloadError(
            f"{archive} is not a valid zip archive (removed; rerun to download again)"
        ) from error
    if bad_member is not None:
        archive.unlink()
        raise DownloadError(f"{archive} is corrupt at {bad_member} (removed; rerun to download again)")


def extract(archive: Path, output: Path) -> Path:
    """Extract into `output` (refusing members that would land outside it); return the dogImages folder."""
    with zipfile.ZipFile(archive) as zip_file:
        for name in zip_file.namelist():
            path = PurePosixPath(name)
            if path.is_absolute() or ".." in path.parts:
                raise DownloadError(f"{archive} holds an unsafe path {name!r}; not extracting")
        zip_file.extractall(output)
    data_dir = output / "dogImages"
    try:
        classes = discover_classes(data_dir)
    except DataError as error:
        raise DownloadError(f"extracted archive has not the dogImages layout: {error}") from error
    print(f"extracted {len(classes)} breeds to {data_dir}")
    return data_dir


def sync_to_s3(data_dir: Path, s3_uri: str, s3_client, kms_key_id: str | None = None) -> int:
    """Upload the files under `data_dir` missing from `s3_uri` or differing in size; return how many."""
    bucket, prefix = _split_s3_uri(s3_uri)
    existing = _existing_sizes(s3_client, bucket, prefix)
    pending = [
        path
        for path in sorted(data_dir.rglob("*"))
        if path.is_file()
        and existing.get(prefix + path.relative_to(data_dir).as_posix()) != path.stat().st_size
    ]
    extra_args = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else None

    def upload(path: Path) -> None:
        key = prefix + path.relative_to(data_dir).as_posix()
        s3_client.upload_file(str(path), bucket, key, ExtraArgs=extra_args)

    with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        for _ in tqdm(
            pool.map(upload, pending), total=len(pending), unit="file", desc=f"s3://{bucket}/{prefix}"
        ):
            pass
    return len(pending)


def _split_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or len(uri) <= len("s3://"):
        raise DownloadError(f"--s3-uri must look like s3://bucket/prefix/, got {uri!r}")
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    return bucket, (prefix.rstrip("/") + "/") if prefix else ""


def _existing_sizes(s3_client, bucket: str, prefix: str) -> dict[str, int]:
    sizes = {}
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        sizes.update({item["Key"]: item["Size"] for item in page.get("Contents", [])})
    return sizes


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--output", type=Path, default=Path("data"), help="download folder (default: %(default)s)"
    )
    parser.add_argument("--url", default=DOGIMAGES_URL, help="archive URL (default: %(default)s)")
    parser.add_argument("--s3-uri", help="also sync the extracted dataset to this s3://bucket/prefix/")
    parser.add_argument(
        "--kms-key-id", help="KMS key for the uploads (default: the bucket's default encryption)"
    )
    parser.add_argument("--keep-archive", action="store_true", help="keep dogImages.zip after extracting")
    return parser


def main(args: argparse.Namespace | None = None) -> int:
    args = args if args is not None else get_args_parser().parse_args()
    try:
        if args.s3_uri:
            _split_s3_uri(args.s3_uri)  # fail before a 1 GB download, not after
        args.output.mkdir(parents=True, exist_ok=True)
        archive = download(args.url, args.output / "dogImages.zip")
        verify_archive(archive)
        data_dir = extract(archive, args.output)
        if not args.keep_archive:
            archive.unlink()
        if args.s3_uri:
            upload_dataset(data_dir, args.s3_uri, args.kms_key_id)
    except DownloadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def upload_dataset(data_dir: Path, s3_uri: str, kms_key_id: str | None) -> None:
    import boto3  # only the sync needs the AWS SDK
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        uploaded = sync_to_s3(data_dir, s3_uri, boto3.client("s3"), kms_key_id)
    except (BotoCoreError, ClientError) as error:
        raise DownloadError(f"syncing {data_dir} to {s3_uri} failed: {error}") from error
    print(f"uploaded {uploaded} file(s) to {s3_uri}")


if __name__ == "__main__":
    sys.exit(main())
