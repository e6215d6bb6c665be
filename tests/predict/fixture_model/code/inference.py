"""A tiny stand-in model for protocol tests: deterministic scores, no torch, and a record of the hooks it ran.

The local endpoint must host any model.tar.gz; this one makes the container protocol observable. The response
carries a "trace" of the hooks in the order the toolkit called them and what they were given, and what
`offline_wheel` (installed by the toolkit from code/requirements.txt, --no-index from a wheel that
tests/predict/conftest.py packs into code/wheels/) says.
"""

import json
import os
import time

from sagemaker_inference import errors

SUPPORTED_CONTENT_TYPES = ("image/jpeg", "image/png", "application/json")


def model_fn(model_dir):
    """Loads the class names; counts loads so a test can see model_fn ran once."""
    import offline_wheel  # only there if code/requirements.txt was installed at start

    with open(os.path.join(model_dir, "model_meta.json")) as f:
        meta = json.load(f)
    return {"classes": meta["class_names"], "loads": 1, "wheel": offline_wheel.VALUE}


def input_fn(request_body, content_type):
    """Raw JPEG/PNG bytes, or JSON {"sleep": seconds} / {"fail": true}; anything else is a client error."""
    if content_type not in SUPPORTED_CONTENT_TYPES:
        raise errors.GenericInferenceToolkitError(415, f"Unsupported content type {content_type}")
    kind = type(request_body).__name__
    if content_type == "application/json":
        request = json.loads(request_body)
        if request.get("fail"):
            raise RuntimeError("the model broke on purpose")
        time.sleep(float(request.get("sleep", 0)))
        return {"data": b"", "trace": [f"input_fn:{content_type}:{kind}"]}
    return {"data": bytes(request_body), "trace": [f"input_fn:{content_type}:{kind}"]}


def predict_fn(data, model):
    """Scores each class from the bytes, deterministically."""
    total = sum(data["data"]) + 1
    scores = [((total * (i + 7)) % 97) + 1 for i in range(len(model["classes"]))]
    norm = sum(scores)
    probabilities = [s / norm for s in scores]
    return {"probabilities": probabilities, "model": model, "trace": data["trace"] + ["predict_fn"]}


def output_fn(prediction, accept):
    """JSON only, as the real hooks: top predictions sorted by probability, plus the hook trace."""
    if accept != "application/json":
        raise errors.GenericInferenceToolkitError(406, f"Unsupported accept {accept}")
    classes = prediction["model"]["classes"]
    ranked = sorted(enumerate(prediction["probabilities"]), key=lambda p: p[1], reverse=True)[:5]
    body = {
        "predictions": [{"label": classes[i], "index": i, "probability": p} for i, p in ranked],
        "trace": prediction["trace"] + [f"output_fn:{accept}"],
        "model_loads": prediction["model"]["loads"],
        "wheel": prediction["model"]["wheel"],
    }
    return json.dumps(body), accept
