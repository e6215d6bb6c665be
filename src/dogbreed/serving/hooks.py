"""SageMaker inference hooks for the dog-breed classifier, re-exported by `code/inference.py` in model.tar.gz.

Requests
    image/jpeg, image/png, application/x-image   the raw JPEG or PNG bytes (top_k = 5)
    application/json                              {"image": "<base64 JPEG/PNG>", "top_k": 3}
Response (application/json)
    {"predictions": [{"label": "Labrador_retriever", "index": 95, "probability": 0.91}, ...]}
    top_k entries (capped at the number of classes), sorted by probability, descending.

Bad requests raise `InferenceError` subclasses; the SageMaker inference toolkit's Transformer turns them into
their HTTP status with the short message (anything else would become a 500):
    400 empty body, malformed JSON (not UTF-8, nested too deeply, not JSON) or base64, unknown JSON keys,
        top_k not an integer >= 1 (also a number of thousands of digits), not a JPEG/PNG image, truncated or
        corrupt image data
    406 an Accept header that does not allow application/json
    413 a body over MAX_BODY_BYTES; an image over MAX_IMAGE_PIXELS, or whose decoding would take more than
        MAX_DECODE_BYTES of pixel memory (read from its header, before decoding: a 77 KB grey+alpha PNG of
        40 MP needs about 800 MB to become RGB)
    415 a Content-Type other than the four above (text/csv included, whatever its bytes)

Every body reaches input_fn as bytes: the toolkit would otherwise decode exact `application/json` and
`text/csv` bodies as UTF-8 itself, before any hook (Transformer.transform), and a body that is not UTF-8
would be its 500 (see _receive_bodies_as_bytes).

Nothing here touches the network: weights come from the artifact, never from a download.

The network is what the artifact's model_meta.json `serving` entry names, decided at pack time by the
accuracy gate (dogbreed.packing.serving_build): an ONNX Runtime session of model.int8.onnx (int8) or
model.onnx (fp32), onnxruntime installed from the artifact's code/wheels/ at container start; or model.pt in
fp32 torch (channels_last), when the entry says so or is absent (older artifacts), on a GPU, or when
INFERENCE_RUNTIME=torch is set (a switch back to model.pt without repacking).

CPU serving: each model worker uses INFERENCE_THREADS intra-op threads, by default the CPUs divided by the
toolkit's SAGEMAKER_MODEL_SERVER_WORKERS (one worker per CPU unless set), so workers never oversubscribe the
cores. benchmarks/inference_latency.py and benchmarks/serving_runtimes.py measure these choices.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image

from dogbreed import contract
from dogbreed.model import build_model
from dogbreed.preprocessing import Preprocessing, decode_bytes, to_upright_rgb
from dogbreed.serving.runtime import ONNX_RUNTIME, TORCH_RUNTIME, OnnxNetwork, onnx_session
from dogbreed.utils.cpus import usable_cpus

try:
    from sagemaker_inference import content_types as _toolkit_content_types
    from sagemaker_inference.errors import GenericInferenceToolkitError as _ToolkitError
except ImportError:  # serving without the toolkit (e.g. unit use): same attributes, same meaning
    _toolkit_content_types = None

    class _ToolkitError(Exception):
        def __init__(self, status_code: int, message: str | None = None, phrase: str | None = None):
            self.status_code = status_code
            self.message = message or "Invalid Request"
            self.phrase = phrase or self.message
            super().__init__(status_code, self.message, self.phrase)


log = logging.getLogger(__name__)


def _receive_bodies_as_bytes() -> None:
    """Makes the toolkit hand every body to input_fn undecoded.

    sagemaker_inference's Transformer.transform decodes bodies whose Content-Type is exactly one of
    content_types.UTF8_TYPES (application/json, text/csv) with `.decode("utf-8")` before calling any hook,
    outside the error handling that maps our InferenceErrors: a non-UTF-8 body was a 500 with a traceback. It
    reads the list at call time, so emptying it in this worker process (the container hosts this one model)
    leaves the decoding to input_fn, which answers 400 or 415. Verified in the real serving stack
    (tests/predict/test_real_stack.py).
    """
    if _toolkit_content_types is not None:
        _toolkit_content_types.UTF8_TYPES.clear()


_receive_bodies_as_bytes()

JSON = contract.JSON_CONTENT_TYPE
RAW_IMAGE_TYPES = contract.RAW_IMAGE_CONTENT_TYPES
SUPPORTED_CONTENT_TYPES = RAW_IMAGE_TYPES | {JSON}
ACCEPTABLE = frozenset({JSON, "application/*", "*/*"})
ALLOWED_IMAGE_FORMATS = ("JPEG", "PNG")  # only these decoders ever see request bytes
JSON_KEYS = contract.MODEL_REQUEST_FIELDS
DEFAULT_TOP_K = contract.DEFAULT_TOP_K
SUPPORTED_META_VERSION = 1  # packing.artifact.META_FORMAT_VERSION (not imported: packing is not shipped)
MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # 40 MP: above any phone photo, far below what would exhaust the container
# Pixel memory one request may take to become RGB (preprocessing.decode_bytes): a 12 MP RGBA PNG needs 240 MB,
# a JPEG of any allowed size a few MB (decoded at a reduced DCT scale); two workers stay within 1 GB.
MAX_DECODE_BYTES = 256 * 1024 * 1024
THREADS_ENV = "INFERENCE_THREADS"
RUNTIME_ENV = "INFERENCE_RUNTIME"  # "torch": serve model.pt whatever the artifact's serving entry says
WORKERS_ENV = "SAGEMAKER_MODEL_SERVER_WORKERS"


class InferenceError(_ToolkitError):
    """A request the endpoint refuses; `status_code` is the HTTP status, `message` is safe to show callers."""

    status = 400

    def __init__(self, message: str):
        super().__init__(self.status, message)


class BadRequest(InferenceError):
    status = 400


class NotAcceptable(InferenceError):
    status = 406


class PayloadTooLarge(InferenceError):
    status = 413


class UnsupportedMediaType(InferenceError):
    status = 415


@dataclass
class LoadedModel:
    network: Callable[[torch.Tensor], torch.Tensor]  # a torch module, or an OnnxNetwork
    class_names: list[str]
    preprocessing: Preprocessing
    device: torch.device
    runtime: str = TORCH_RUNTIME
    transform: Callable[[Image.Image], torch.Tensor] = field(init=False)

    def __post_init__(self):
        self.transform = self.preprocessing.eval_transform()


@dataclass(frozen=True)
class ImageRequest:
    image: Image.Image  # opened and size-checked; decoded in predict_fn
    top_k: int


def model_fn(model_dir: str) -> LoadedModel:
    """Load the classifier from `model_dir` (the extracted model.tar.gz): model_meta.json, then the network
    its `serving` entry names (an ONNX model, or model.pt)."""
    root = Path(model_dir)
    meta = json.loads((root / "model_meta.json").read_text())
    if meta.get("format_version") != SUPPORTED_META_VERSION:
        raise RuntimeError(
            f"model_meta.json format_version {meta.get('format_version')!r} is not "
            f"{SUPPORTED_META_VERSION}; repack the model with this inference.py"
        )
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(inference_threads())  # the transforms' torch ops too
    serving = meta.get("serving") or {}
    runtime = serving.get("runtime", TORCH_RUNTIME)
    if runtime == ONNX_RUNTIME and device.type == "cpu" and os.environ.get(RUNTIME_ENV) != TORCH_RUNTIME:
        network = OnnxNetwork(onnx_session(_artifact_file(root, serving["file"]), torch.get_num_threads()),
                              serving.get("input", "images"))  # fmt: skip
    else:
        runtime = TORCH_RUNTIME
        network = build_model(meta["arch"], contract.class_count(meta), pretrained=False)
        network.load_state_dict(torch.load(root / "model.pt", map_location=device, weights_only=True))
        network.to(device, memory_format=torch.channels_last).eval()
    log.info(
        "loaded %s with %d classes on %s: %s %s (%d threads)",
        meta["arch"],
        meta["num_classes"],
        device,
        runtime,
        serving.get("precision", "fp32") if runtime == ONNX_RUNTIME else "fp32",
        torch.get_num_threads(),
    )
    return LoadedModel(
        network, list(meta["class_names"]), Preprocessing.from_dict(meta["preprocessing"]), device, runtime
    )


def _artifact_file(root: Path, name: str) -> Path:
    if Path(name).name != name:
        raise RuntimeError(f"model_meta.json serving file {name!r} is not a file name in the artifact")
    return root / name


def inference_threads() -> int:
    """Intra-op threads for this worker: INFERENCE_THREADS if set, else usable CPUs // serving workers.

    Workers that each use every core fight over them; on a busy machine a forward pass then gets many
    times slower, not faster.
    """
    explicit = os.environ.get(THREADS_ENV)
    if explicit is not None:
        return _positive_int(THREADS_ENV, explicit)
    cpus = usable_cpus()
    workers = _positive_int(WORKERS_ENV, os.environ.get(WORKERS_ENV) or str(cpus))
    return max(1, cpus // workers)


def _positive_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return number


def input_fn(request_body: bytes | str, content_type: str | None) -> ImageRequest:
    """Validate the request and open (not yet decode) its image.

    The toolkit hands bodies over as `bytearray` (TorchServe's) once _receive_bodies_as_bytes ran; `str` is
    accepted too.
    """
    media_type = _media_type(content_type)
    if media_type not in SUPPORTED_CONTENT_TYPES:
        supported = ", ".join(sorted(SUPPORTED_CONTENT_TYPES))
        raise UnsupportedMediaType(f"unsupported Content-Type {content_type!r}; use one of {supported}")
    if not request_body:
        raise BadRequest("empty request body")
    if len(request_body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"request body over {MAX_BODY_BYTES // (1024 * 1024)} MiB")
    if media_type == JSON:
        image_bytes, top_k = _parse_json_request(request_body)
    else:
        image_bytes, top_k = _as_bytes(request_body), DEFAULT_TOP_K
    return ImageRequest(_open_image(image_bytes), top_k)


def predict_fn(request: ImageRequest, model: LoadedModel) -> list[dict]:
    """Decode and preprocess the image, run the classifier, return the top-k classes by probability."""
    image = _decode(request.image, model.preprocessing.resize)
    batch = model.transform(image).unsqueeze(0)
    if model.runtime == TORCH_RUNTIME:
        batch = batch.to(model.device, memory_format=torch.channels_last)
    with torch.inference_mode():
        probabilities = torch.softmax(model.network(batch).float(), dim=1)[0]
    top = probabilities.topk(min(request.top_k, len(model.class_names)))
    return [
        {"label": model.class_names[index], "index": index, "probability": round(probability, 6)}
        for probability, index in zip(top.values.tolist(), top.indices.tolist(), strict=True)
    ]


def output_fn(prediction: list[dict], accept: str | None) -> tuple[str, str]:
    """Serialise the predictions as JSON; any Accept that allows application/json is fine."""
    if accept and not {_media_type(part) for part in accept.split(",")} & ACCEPTABLE:
        raise NotAcceptable(f"cannot produce {accept!r}; responses are {JSON}")
    return json.dumps({"predictions": prediction}), JSON


def _media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("latin-1", errors="replace") if isinstance(body, str) else bytes(body)


def _parse_json_request(body: bytes | str) -> tuple[bytes, int]:
    try:
        document = contract.parse_json(body)
    except contract.InvalidJson as error:
        raise BadRequest("malformed JSON body") from error
    if not isinstance(document, dict) or not isinstance(document.get("image"), str):
        raise BadRequest('JSON body must be an object with a base64 string "image"')
    unknown = sorted(set(document) - JSON_KEYS)
    if unknown:
        raise BadRequest(f"unknown JSON key(s) {', '.join(unknown)}; allowed: image, top_k")
    top_k = document.get("top_k", DEFAULT_TOP_K)
    if not contract.is_count(top_k) or top_k < 1:
        raise BadRequest("top_k must be an integer >= 1")
    try:
        return base64.b64decode(document["image"], validate=True), top_k
    except (binascii.Error, ValueError) as error:
        raise BadRequest('"image" is not valid base64') from error


def _open_image(data: bytes) -> Image.Image:
    if not data:
        raise BadRequest("empty image")
    try:
        image = Image.open(io.BytesIO(data), formats=ALLOWED_IMAGE_FORMATS)
    except Image.DecompressionBombError as error:
        raise PayloadTooLarge("image dimensions too large") from error
    except (
        Exception
    ) as error:  # Pillow raises many types for hostile headers; all mean "not an image we read"
        raise BadRequest("body is not a JPEG or PNG image") from error
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise PayloadTooLarge(
            f"image of {width}x{height} pixels is over the {MAX_IMAGE_PIXELS:,} pixel limit"
        )
    return image


def _decode(image: Image.Image, min_side: int) -> Image.Image:
    """The upright RGB image, unless decoding it would take more than MAX_DECODE_BYTES."""
    needed = decode_bytes(image, min_side=min_side)
    if needed > MAX_DECODE_BYTES:
        raise PayloadTooLarge(
            f"a {image.mode} image of {image.size[0]}x{image.size[1]} pixels needs {needed // 2**20} MiB to "
            f"decode, over the {MAX_DECODE_BYTES // 2**20} MiB limit"
        )
    try:
        return to_upright_rgb(image, min_side=min_side)
    except (
        Exception
    ) as error:  # truncated/corrupt data surfaces here, as OSError, SyntaxError, ValueError, ...
        raise BadRequest("image data is truncated or corrupt") from error
