"""The SageMaker PyTorch inference container's serving stack, run on this machine for one ``model.tar.gz``.

What the PyTorch inference image runs for ``docker run IMAGE serve``: its entrypoint calls the
``sagemaker-pytorch-inference`` toolkit's ``serving.main()``, which writes ``/etc/sagemaker-ts.properties``,
puts ``/opt/ml/model/code`` on ``PYTHONPATH``, pip-installs ``code/requirements.txt`` if there is one and
starts TorchServe with ``--models model=/opt/ml/model``; TorchServe's Java frontend answers ``/ping`` and
``/invocations`` on port 8080 and starts Python workers whose handler is the toolkit's ``HandlerService``
(``model_fn`` once per worker, then ``input_fn`` -> ``predict_fn`` -> ``output_fn`` per request).

:class:`ServingStack` runs exactly that, unmodified but for the config file's path, from the serving venv
(``.venv-serving``, see ``scripts/setup.sh``), in an instance folder (:mod:`.instance`). With network
isolation (the default, as the endpoint's ``EnableNetworkIsolation``) it runs in fresh network, PID and mount
namespaces: inside there is only a loopback interface, ``/opt/ml/model`` is the extracted model, and the
container's own ports (8080; 8082 metrics, 7070/7071 gRPC) are used unchanged. The host reaches port 8080
through a unix socket relayed to ``http://127.0.0.1:<free port>`` (:attr:`ServingStack.url`). Without
isolation the stack binds free loopback ports through TorchServe's ``TS_*`` overrides; only one such stack per
machine then, since the toolkit refuses to start beside a second TorchServe process.

    with ServingStack("model.tar.gz", environment=ModelEnvironment(workers=1)) as stack:
        stack.invoke(jpeg, "image/jpeg").status   # 200
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dogbreed.local_endpoint import instance, netns
from dogbreed.local_endpoint.instance import Layout, StackError

MODEL_NAME = "model"  # the toolkit registers the one model as "model"
# The image's ENV lines (aws/deep-learning-containers pytorch/inference/docker/2.6/py3/Dockerfile.cpu).
IMAGE_ENV = {
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
    "PYTHONIOENCODING": "UTF-8",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "DLC_CONTAINER_TYPE": "inference",
    "MKL_THREADING_LAYER": "GNU",
    "SAGEMAKER_SERVING_MODULE": "sagemaker_pytorch_serving_container.serving:main",
}
# What TorchServe logs when a worker cannot load the model (model_fn raised) or dies (an import failed): it
# would retry with backoff for minutes while /ping stays 200, so a start fails at once instead.
WORKER_FAILURES = ("Failed to load model", "Backend worker process died")
WORKER_LOG = " MODEL_LOG - "  # the prefix of what the Python workers print


@dataclass(frozen=True)
class ModelEnvironment:
    """What a SageMaker Model's ``Environment`` would set for the container; unset fields are left out."""

    workers: int | None = None  # SAGEMAKER_MODEL_SERVER_WORKERS (default: one per CPU)
    default_accept: str | None = None  # SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT
    response_timeout_s: int | None = None  # SAGEMAKER_TS_RESPONSE_TIMEOUT (any SAGEMAKER_TS_* pins 1 worker)
    extra: Mapping[str, str] = field(default_factory=dict)  # anything else, e.g. INFERENCE_THREADS

    def to_env(self) -> dict[str, str]:
        names = {
            "workers": "SAGEMAKER_MODEL_SERVER_WORKERS",
            "default_accept": "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT",
            "response_timeout_s": "SAGEMAKER_TS_RESPONSE_TIMEOUT",
        }
        env = {name: str(getattr(self, key)) for key, name in names.items() if getattr(self, key) is not None}
        return {**env, **self.extra}


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self):
        return json.loads(self.body)


class ServingStack:
    """The container's serving stack for one model.tar.gz; a context manager, or ``start()`` / ``stop()``."""

    def __init__(
        self,
        model_archive: str | Path,
        *,
        python: str | Path | None = None,
        environment: ModelEnvironment | None = None,
        isolate_network: bool = True,
        startup_timeout_s: float = 180.0,
        stop_timeout_s: float = 30.0,
    ):
        self.model_archive = Path(model_archive)
        self.serving_python = instance.serving_python(python)
        self.environment = environment or ModelEnvironment()
        self.isolate_network = isolate_network
        self.startup_timeout_s = startup_timeout_s
        self.stop_timeout_s = stop_timeout_s  # SageMaker sends SIGKILL 30 s after SIGTERM
        self._layout: Layout | None = None
        self._process: subprocess.Popen | None = None
        self._log_file = None
        self._relay: netns.Relay | None = None
        self._url: str | None = None

    # --- lifecycle
    def start(self) -> ServingStack:
        """Extracts the archive, starts the stack and returns once every model worker is READY."""
        if not self.model_archive.is_file():
            raise FileNotFoundError(f"no model archive at {self.model_archive}")
        self._layout = Layout(Path(tempfile.mkdtemp(prefix="serving-stack-")))
        try:
            self._layout.create()
            instance.extract_model(self.model_archive, self._layout.model_dir)
            python = instance.make_overlay_venv(self.serving_python, self._layout.venv)
            self._launch(python)
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """SIGTERM as SageMaker does (the toolkit forwards it to TorchServe), SIGKILL after stop_timeout_s,
        then removes the instance folder. Idempotent."""
        if self._process is not None:
            _terminate(self._process, self.toolkit_pid(), self.stop_timeout_s)
            self._process = None
        if self._relay is not None:
            self._relay.close()
            self._relay = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self._layout is not None:
            for pid in instance.processes_under(self._layout.root):  # never leave a stray worker behind
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            shutil.rmtree(self._layout.root, ignore_errors=True)
        self._url = None

    def __enter__(self) -> ServingStack:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- what callers use
    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT, answering as the container's port 8080 (/ping, /invocations, /models)."""
        if self._url is None:
            raise StackError("the serving stack is not running")
        return self._url

    @property
    def root(self) -> Path:
        if self._layout is None:
            raise StackError("the serving stack is not running")
        return self._layout.root

    def request(self, method: str, path: str, body: bytes | None = None, headers=None, timeout=120.0):
        host, port = self.url.removeprefix("http://").rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=dict(headers or {}))
            answer = connection.getresponse()
            headers = {name.lower(): value for name, value in answer.getheaders()}
            return Response(answer.status, answer.reason, headers, answer.read())
        finally:
            connection.close()

    def invoke(self, body: bytes, content_type: str | None, accept: str | None = None) -> Response:
        """POST /invocations with the headers SageMaker passes on."""
        headers = {"Content-Type": content_type} if content_type is not None else {}
        headers |= {"Accept": accept} if accept is not None else {}
        return self.request("POST", "/invocations", body, headers)

    def workers(self) -> list[dict]:
        """TorchServe's management API (on port 8080 too): the model's workers and their status."""
        answer = self.request("GET", f"/models/{MODEL_NAME}", timeout=10)
        return answer.json()[0].get("workers", []) if answer.status == 200 else []

    def pids(self) -> list[int]:
        """Every process of this stack (launcher, toolkit, java, workers)."""
        return instance.processes_under(self.root)

    def toolkit_pid(self) -> int | None:
        """The toolkit's process: the launcher, or in the namespaces the PID 1 unshare forked (nsenter
        --target it to look inside)."""
        if self._process is None:
            return None
        return instance.first_child(self._process.pid) if self.isolate_network else self._process.pid

    def log_tail(self, lines: int = 60) -> str:
        if self._layout is None or not self._layout.log.exists():
            return ""
        return "\n".join(self._layout.log.read_text(errors="replace").splitlines()[-lines:])

    # --- internals
    def _launch(self, python: Path) -> None:
        layout = self._layout
        env = self._stack_env(python)
        boot = [str(python), "-P", netns.__file__, "boot", "--config", str(layout.ts_config)]
        if self.isolate_network:
            boot += ["--socket", str(layout.socket), "--isolated", "--bind-opt", str(layout.base_dir.parent)]
            boot = instance.unshare_prefix() + boot
        self._log_file = open(layout.log, "ab")  # noqa: SIM115 - lives as long as the stack
        self._process = subprocess.Popen(
            boot,
            cwd=layout.workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if self.isolate_network:
            self._relay = netns.Relay.tcp_to_unix(layout.socket)
            self._url = f"http://127.0.0.1:{self._relay.port}"
        else:
            self._url = f"http://127.0.0.1:{env['SAGEMAKER_BIND_TO_PORT']}"

    def _stack_env(self, python: Path) -> dict[str, str]:
        """A clean environment, as in the container: the image's ENV, the model's Environment, paths."""
        layout = self._layout
        env = {
            **IMAGE_ENV,
            # the toolkit runs "torchserve" from PATH: the overlay's, so workers get the overlay interpreter
            "PATH": f"{python.parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(layout.root / "home"),
            "TEMP": str(layout.tmp),  # TorchServe: -Djava.io.tmpdir (worker sockets, model symlinks)
            "TMPDIR": str(layout.tmp),  # Python: TorchServe's pid file, torch caches
            "PIP_CONFIG_FILE": os.devnull,  # pip as in the image: no mirror or find-links of this machine
        }
        java_home = instance.java_home(self.serving_python)
        if java_home:
            env["JAVA_HOME"] = java_home
        if not self.isolate_network:  # the host's loopback: free ports, never 0.0.0.0; /opt/ml relocated
            inference, metrics, grpc_inference, grpc_management = instance.free_ports(4)
            address = f"http://127.0.0.1:{inference}"
            env.update(
                SAGEMAKER_BASE_DIR=str(layout.base_dir),
                SAGEMAKER_BIND_TO_PORT=str(inference),
                TS_INFERENCE_ADDRESS=address,
                TS_MANAGEMENT_ADDRESS=address,
                TS_METRICS_ADDRESS=f"http://127.0.0.1:{metrics}",
                TS_GRPC_INFERENCE_PORT=str(grpc_inference),
                TS_GRPC_MANAGEMENT_PORT=str(grpc_management),
            )
        return env | self.environment.to_env()

    def _wait_until_ready(self) -> None:
        """/ping 200 is not enough (it answers Healthy while every worker is dead): wait until the
        management API lists at least minWorkers workers, all READY."""
        deadline, last = time.monotonic() + self.startup_timeout_s, "no answer"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise StackError(f"the stack exited with {self._process.returncode}:\n{self.log_tail()}")
            log = self._layout.log.read_text(errors="replace")
            if any(failure in log for failure in WORKER_FAILURES):
                raise StackError(f"the model failed to load:\n{_worker_output(log)}")
            try:
                ping = self.request("GET", "/ping", timeout=5)
                model = self.request("GET", f"/models/{MODEL_NAME}", timeout=5)
            except OSError as error:  # not listening yet
                last = f"{type(error).__name__}: {error}"
            else:
                last = f"ping {ping.status}, /models/{MODEL_NAME} {model.status}"
                if ping.status == 200 and model.status == 200:
                    description = model.json()[0]
                    statuses = [worker.get("status") for worker in description.get("workers", [])]
                    enough = len(statuses) >= max(1, description.get("minWorkers", 1))
                    if enough and set(statuses) == {"READY"}:
                        return
                    last = f"ping {ping.status}, workers {statuses}"
            time.sleep(0.25)
        raise StackError(f"not ready after {self.startup_timeout_s:.0f} s ({last}):\n{self.log_tail()}")


def _worker_output(log: str, lines: int = 40) -> str:
    """The last lines the model workers printed (their tracebacks), without TorchServe's prefixes."""
    output = [line.split(WORKER_LOG, 1)[1] for line in log.splitlines() if WORKER_LOG in line]
    return "\n".join(output[-lines:])


def _terminate(process: subprocess.Popen, toolkit_pid: int | None, timeout_s: float) -> None:
    """SIGTERM the toolkit's process, wait, then SIGKILL the launcher's process group."""
    if process.poll() is None and toolkit_pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(toolkit_pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout_s)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # unshare --kill-child takes the namespaces down with it
    process.wait()
