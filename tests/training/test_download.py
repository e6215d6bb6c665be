"""dogbreed-download-data against a local HTTP server (with and without Range support) and moto S3."""

from __future__ import annotations

import re
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from dogbreed.data import download as tool
from tests.training.helpers import make_dataset


def zip_dataset(tmp_path: Path) -> bytes:
    root = make_dataset(tmp_path / "source" / "dogImages")
    archive = tmp_path / "served.zip"
    with zipfile.ZipFile(archive, "w") as zip_file:
        for path in sorted(root.rglob("*")):
            zip_file.write(path, path.relative_to(root.parent).as_posix())
    return archive.read_bytes()


class ArchiveServer:
    """Serves one payload at /dogImages.zip on 127.0.0.1; honours `Range: bytes=N-` when `ranges` is set."""

    def __init__(self, payload: bytes, ranges: bool = True):
        self.payload, self.ranges, self.requests = payload, ranges, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                server.requests.append(self.headers.get("Range"))
                if self.path != "/dogImages.zip":
                    self.send_error(404)
                    return
                match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
                start = int(match.group(1)) if match and server.ranges else 0
                if start >= len(server.payload) and start:
                    self.send_error(416)
                    return
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(server.payload) - start))
                self.end_headers()
                self.wfile.write(server.payload[start:])

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/dogImages.zip"

    def __enter__(self) -> ArchiveServer:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def payload(tmp_path_factory) -> bytes:
    return zip_dataset(tmp_path_factory.mktemp("archive"))


def run_tool(*argv: str) -> int:
    return tool.main(tool.get_args_parser().parse_args(list(argv)))


def test_downloads_verifies_and_extracts(tmp_path, payload):
    with ArchiveServer(payload) as server:
        assert run_tool("--output", str(tmp_path), "--url", server.url) == 0
    assert server.requests == [None]
    assert sorted(path.name for path in (tmp_path / "dogImages").iterdir()) == ["test", "train", "valid"]
    assert not (tmp_path / "dogImages.zip").exists(), "archive removed unless --keep-archive"


def test_interrupted_download_resumes_with_a_range_request(tmp_path, payload):
    (tmp_path / "dogImages.zip.part").write_bytes(payload[:1000])
    with ArchiveServer(payload) as server:
        assert run_tool("--output", str(tmp_path), "--url", server.url, "--keep-archive") == 0
    assert server.requests == ["bytes=1000-"]
    assert (tmp_path / "dogImages.zip").read_bytes() == payload


def test_server_without_range_support_restarts_from_zero(tmp_path, payload):
    (tmp_path / "dogImages.zip.part").write_bytes(b"stale bytes from another attempt")
    with ArchiveServer(payload, ranges=False) as server:
        assert run_tool("--output", str(tmp_path), "--url", server.url, "--keep-archive") == 0
    assert (tmp_path / "dogImages.zip").read_bytes() == payload


def test_corrupt_archive_is_refused_and_removed(tmp_path, payload, capsys):
    corrupt = bytearray(payload)
    corrupt[len(corrupt) // 3] ^= 0xFF  # inside some member's compressed data
    with ArchiveServer(bytes(corrupt)) as server:
        assert run_tool("--output", str(tmp_path), "--url", server.url) == 2
    assert "corrupt" in capsys.readouterr().err
    assert not (tmp_path / "dogImages.zip").exists() and not (tmp_path / "dogImages").exists()


def test_http_errors_are_one_line(tmp_path, payload, capsys):
    with ArchiveServer(payload) as server:
        assert run_tool("--output", str(tmp_path), "--url", server.url.replace(".zip", ".tar")) == 2
    assert (
        capsys.readouterr().err.strip() == f"error: downloading {server.url.replace('.zip', '.tar')} failed: "
        "HTTP 404 Not Found"
    )


def test_bad_s3_uri_fails_before_downloading(tmp_path, capsys):
    assert (
        run_tool("--output", str(tmp_path), "--url", "http://127.0.0.1:9/never", "--s3-uri", "bucket/x") == 2
    )
    assert "--s3-uri must look like s3://bucket/prefix/" in capsys.readouterr().err


@mock_aws
def test_s3_sync_uploads_only_what_is_missing_or_changed(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket="data", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    data_dir = make_dataset(tmp_path / "dogImages")
    files = sorted(path.relative_to(data_dir).as_posix() for path in data_dir.rglob("*") if path.is_file())

    assert tool.sync_to_s3(data_dir, "s3://data/datasets/dogImages", s3) == len(files)
    keys = sorted(item["Key"] for item in s3.list_objects_v2(Bucket="data")["Contents"])
    assert keys == sorted(f"datasets/dogImages/{name}" for name in files)

    assert tool.sync_to_s3(data_dir, "s3://data/datasets/dogImages/", s3) == 0
    (data_dir / files[0]).write_bytes(b"changed")
    assert tool.sync_to_s3(data_dir, "s3://data/datasets/dogImages/", s3) == 1
    assert s3.get_object(Bucket="data", Key=f"datasets/dogImages/{files[0]}")["Body"].read() == b"changed"


@mock_aws
def test_s3_sync_can_encrypt_with_a_kms_key(tmp_path):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="data")
    key_id = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    data_dir = make_dataset(tmp_path / "dogImages")
    tool.sync_to_s3(data_dir, "s3://data/", s3, kms_key_id=key_id)
    first_key = s3.list_objects_v2(Bucket="data")["Contents"][0]["Key"]
    head = s3.head_object(Bucket="data", Key=first_key)
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key_id
