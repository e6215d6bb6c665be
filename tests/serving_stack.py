"""Serving an artifact in the real serving stack for tests: one stack per artifact and settings per session.

    def test_x(serve_in_real_stack):
        stack = serve_in_real_stack(archive)             # ServingStack, network off, ready
        stack.invoke(jpeg, "image/jpeg").status

The stack is the SageMaker PyTorch container's (TorchServe + the toolkit, dogbreed.local_endpoint.stack), in
own network, PID and mount namespaces: only loopback, so a model whose code/requirements.txt needs an index
fails to start, while ``--no-index --find-links`` wheels shipped in code/ install. Start-up is about 10 s on 2
CPUs, hence the session cache (fixture ``serve_in_real_stack`` in tests/conftest.py). Defaults fit 2 shared
CPUs: one worker with one intra-op thread unless a test asks otherwise.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dogbreed.local_endpoint import ModelEnvironment, ServingStack

TEST_ENV = {"INFERENCE_THREADS": "1"}
# Run inside the stack's network namespace: the interfaces, and a TCP connect to a public address.
NAMESPACE_PROBE = (
    "import json, socket\n"
    "try:\n socket.create_connection(('192.0.2.1', 443), timeout=3); outcome = 'connected'\n"
    "except OSError as error:\n outcome = error.errno\n"
    "print(json.dumps({'interfaces': sorted(n for _, n in socket.if_nameindex()), 'connect': outcome}))"
)


class StackCache:
    """Started stacks keyed by (archive, workers, environment); stopped together at the end."""

    def __init__(self):
        self._stacks: dict[tuple, ServingStack] = {}

    def serve(self, archive: Path, workers: int = 1, **env: str) -> ServingStack:
        key = (str(Path(archive).resolve()), workers, tuple(sorted(env.items())))
        if key not in self._stacks:
            environment = ModelEnvironment(workers=workers, extra={**TEST_ENV, **env})
            self._stacks[key] = ServingStack(archive, environment=environment).start()
        return self._stacks[key]

    def stop_all(self) -> None:
        for stack in self._stacks.values():
            stack.stop()
        self._stacks.clear()


def inside_namespace(stack: ServingStack) -> dict:
    """NAMESPACE_PROBE's answer from inside the stack's network namespace (nsenter --net)."""
    result = subprocess.run(
        ["nsenter", "--target", str(stack.toolkit_pid()), "--net", sys.executable, "-c", NAMESPACE_PROBE],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(result.stdout)
