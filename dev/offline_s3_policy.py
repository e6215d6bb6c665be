"""Dev-only: moto's S3 evaluates a bucket policy's conditions the way AWS does, for the stack's conditions.

moto evaluates a bucket policy without its ``Condition`` blocks (moto/s3/models.py
``FakeBucket.get_permission`` -> moto/iam/access_control.py ``IAMPolicy``) and checks every multi-object
delete as ``s3:DeleteObject``. Against the stack's bucket policy (policies/s3_bucket_tls_only.json,
policies/s3_bucket_write_once.json) that denies what AWS allows: every object request (the TLS-only Deny),
every publish (the Deny of a PutObject without ``If-None-Match: *``) and the emptying of the bucket on
destroy. Here the bucket policy is decided by security/iam_eval.py (AWS's evaluation logic, conditions
included), with the request context AWS gives these requests:

- ``aws:SecureTransport`` is "true": boto3 and Terraform always reach S3 over HTTPS (the stand-in is plain
  HTTP);
- ``s3:if-none-match`` is the request's If-None-Match header, absent when the request has none;
- deleting a specific version (DeleteObject or DeleteObjects with a VersionId) is ``s3:DeleteObjectVersion``,
  not ``s3:DeleteObject`` (S3 API reference, DeleteObjects: "you must have s3:DeleteObjectVersion").

An explicit Deny denies, an Allow permits, neither leaves the decision to moto (its NEUTRAL). The request
context is per thread: ThreadedMotoServer serves each request on its own thread.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from typing import Any

from dev.moto_patches import patched

_REQUEST = threading.local()


def _context() -> dict[str, str]:
    context = {"aws:SecureTransport": "true"}
    if (header := getattr(_REQUEST, "if_none_match", None)) is not None:
        context["s3:if-none-match"] = header
    return context


def _get_permission(original):
    def get_permission(self, action: str, resource: str) -> Any:
        from moto.iam.access_control import PermissionResult

        from security.iam_eval import ALLOW, DENY, Request, evaluate

        if self.policy is None:
            return original(self, action, resource)
        if action == "s3:DeleteObject" and resource.split(":::", 1)[-1] in getattr(_REQUEST, "versioned", ()):
            action = "s3:DeleteObjectVersion"
        decision = evaluate([json.loads(self.policy)], Request(action, resource, _context()))
        if decision.effect == DENY:
            return PermissionResult.DENIED
        return PermissionResult.PERMITTED if decision.effect == ALLOW else PermissionResult.NEUTRAL

    return get_permission


def _key_response(original):
    def key_response(self, request: Any, full_url: str):
        _REQUEST.if_none_match = request.headers.get("If-None-Match")
        _REQUEST.versioned = set()
        if request.method == "DELETE" and "versionId=" in full_url:
            bucket = self.parse_bucket_name_from_url(request, full_url)
            _REQUEST.versioned = {f"{bucket}/{self.parse_key_name()}"}
        try:
            return original(self, request, full_url)
        finally:
            _REQUEST.if_none_match, _REQUEST.versioned = None, set()

    return key_response


def _delete_keys(original):
    def delete_keys(self, bucket_name: str, authenticated: bool = True):
        import xmltodict

        objects = xmltodict.parse(self.body, strip_whitespace=False)["Delete"].get("Object", [])
        objects = objects if isinstance(objects, list) else [objects]
        _REQUEST.versioned = {f"{bucket_name}/{o['Key']}" for o in objects if o.get("VersionId")}
        try:
            return original(self, bucket_name, authenticated)
        finally:
            _REQUEST.versioned = set()

    return delete_keys


@contextlib.contextmanager
def bucket_policy_conditions() -> Iterator[None]:
    """Install the rules of the module docstring into moto's S3; restore moto on exit."""
    from moto.s3.models import FakeBucket
    from moto.s3.responses import S3Response

    patches = [
        (FakeBucket, "get_permission", _get_permission),
        (S3Response, "_key_response", _key_response),
        (S3Response, "_bucket_response_delete_keys", _delete_keys),
    ]
    with patched(patches):
        yield
