"""requirements/launcher.txt: closed (every requirement of every pin is pinned, and satisfied), in step with
requirements/dev.txt, and enough for the launcher without torch."""

from __future__ import annotations

import importlib.metadata as metadata
import subprocess
import sys

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from dogbreed.utils.repo import REPO_ROOT
from tests.notebook.local_index import pins

LOCK = REPO_ROOT / "requirements" / "launcher.txt"
DEV = REPO_ROOT / "requirements" / "dev.txt"


def test_the_lock_pins_what_requirements_dev_pins():
    lock, dev = pins(LOCK), pins(DEV)
    assert {name: lock[name] for name in lock.keys() & dev.keys()} == {
        n: dev[n] for n in lock.keys() & dev.keys()
    }
    assert {"sagemaker-core", "sagemaker-train", "boto3", "ipykernel"} <= lock.keys()
    assert "torch" not in lock and "torchvision" not in lock


def test_the_lock_is_closed_for_cpython_311_on_linux():
    """Every dependency of every pinned distribution, with the extras asked for, is pinned and fits."""
    lock = pins(LOCK)
    environment = {**default_environment(), "python_version": "3.11", "sys_platform": "linux"}
    extras = {name: {""} for name in lock}  # the extras some pin asks of each distribution
    missing, changed = [], True
    while changed:  # requirements with extras widen what a distribution must bring; iterate to a fixpoint
        changed, missing = False, []
        for name, version in lock.items():
            distribution = metadata.distribution(name)
            assert distribution.version == version, name
            for text in distribution.requires or []:
                requirement = Requirement(text)
                marker = requirement.marker
                if marker and not any(marker.evaluate({**environment, "extra": e}) for e in extras[name]):
                    continue
                needed = canonicalize_name(requirement.name)
                pinned = lock.get(needed)
                if pinned is None or not requirement.specifier.contains(pinned, prereleases=True):
                    missing.append(f"{name} needs {requirement}, the lock has {pinned}")
                elif not requirement.extras <= extras[needed]:
                    extras[needed] |= requirement.extras
                    changed = True
    assert missing == []


def test_the_launcher_runs_without_torch():
    """Importing the launcher and checking hyperparameters with train.py's parser loads no torch."""
    probe = (
        "import sys\n"
        "class NoTorch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'torchvision'):\n"
        "            raise ImportError(f'{name} is not in the launcher kernel')\n"
        "sys.meta_path.insert(0, NoTorch())\n"
        "from dogbreed.orchestration import cli, commands, dry_run, jobs, sdk\n"
        "from dogbreed.orchestration.hyperparameters import weights_source\n"
        "print(weights_source({'epochs': '3', 'arch': 'resnet18'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "arch='resnet18'" in result.stdout
