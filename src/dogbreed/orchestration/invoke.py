"""After `terraform apply`: call the deployed prediction Lambda with an image, as a user of the API would."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from dogbreed.orchestration.errors import LauncherError
from dogbreed.orchestration.settings import DEFAULT_TERRAFORM_DIR, TerraformOutputs


def function_name_from_stack(
    terraform_dir: Path = DEFAULT_TERRAFORM_DIR, outputs_file: Path | None = None
) -> str:
    outputs = TerraformOutputs.load(terraform_dir, outputs_file)
    name = outputs.get("function_name")
    if not name:
        raise LauncherError(
            f"no function_name in `{outputs.origin}`: publish a model, then `terraform apply` the root stack"
        )
    return name


def predict(session, function_name: str, image: Path, top_k: int = 3) -> dict[str, Any]:
    """Invoke the prediction Lambda directly with one image (its JSON request form); returns its answer."""
    image = Path(image)
    if not image.is_file():
        raise LauncherError(f"{image} is not a file")
    request = {"image": base64.b64encode(image.read_bytes()).decode("ascii"), "top_k": top_k}
    client = session.boto_session.client("lambda")
    response = client.invoke(FunctionName=function_name, Payload=json.dumps(request).encode())
    envelope = json.loads(response["Payload"].read() or b"{}")
    if response.get("FunctionError") or "statusCode" not in envelope:
        raise LauncherError(f"{function_name} failed: {envelope.get('errorMessage', 'no response envelope')}")
    body = json.loads(envelope.get("body") or "{}")
    if envelope["statusCode"] != 200:
        error = body.get("error", {})
        raise LauncherError(
            f"{function_name} answered {envelope['statusCode']}: {error.get('message', body)}"
        )
    return body
