"""The network a packed model serves with: the fp32 torch module, or an ONNX Runtime session.

Ships in model.tar.gz (code/dogbreed/serving/runtime.py). `onnxruntime` is imported only when the artifact
holds an ONNX model (model_meta.json `serving.runtime`), so a torch-only artifact needs nothing the PyTorch
inference container lacks; an ONNX artifact brings onnxruntime as wheels in code/wheels/, which the
container's toolkit installs from code/requirements.txt (--no-index) before the model server starts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

ONNX_RUNTIME = "onnxruntime"
TORCH_RUNTIME = "torch"


def onnx_session(model: Path, threads: int):
    """A CPU session using `threads` intra-op threads, sequential, one inter-op thread: a model worker never
    uses more cores than inference_threads() gives it (ORT's default would take one per physical core)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


class OnnxNetwork:
    """Callable like the torch module predict_fn runs: an NCHW float tensor in, a logits tensor out."""

    channels_last = False  # ORT reads a contiguous NCHW buffer: converting to channels_last is a wasted copy

    def __init__(self, session, input_name: str):
        self.session = session
        self.input_name = input_name

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        array = np.ascontiguousarray(batch.detach().cpu().numpy(), dtype=np.float32)
        return torch.from_numpy(self.session.run(None, {self.input_name: array})[0])
