"""Stop this SageMaker notebook instance when no Jupyter kernel has been active for IDLE_MINUTES.

Installed and run every 5 minutes by cron from the lifecycle configuration (on_start.sh.tftpl):
    stop_when_idle.py IDLE_MINUTES
Runs on the instance's system Python (3.7 on Amazon Linux 2): standard library only.
"""

import argparse
import datetime
import json
import os
import ssl
import subprocess
import urllib.request

KERNELS_URL = "https://localhost:8443/api/kernels"
METADATA_FILE = "/opt/ml/metadata/resource-metadata.json"
UTC = datetime.timezone.utc  # noqa: UP017 (datetime.UTC needs Python 3.11; the instance has 3.7)


def parse_time(text):
    """Jupyter's ISO 8601 timestamps end in Z, which fromisoformat() of Python < 3.11 rejects."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def last_activity(kernels, started, now):
    """When the instance was last in use: now if a kernel is busy, else the latest kernel activity,
    never earlier than `started` (a freshly started instance is not idle)."""
    if any(kernel["execution_state"] == "busy" for kernel in kernels):
        return now
    return max([started] + [parse_time(kernel["last_activity"]) for kernel in kernels])


def is_idle(kernels, started, now, idle_minutes):
    return now - last_activity(kernels, started, now) > datetime.timedelta(minutes=idle_minutes)


def fetch_kernels(url):
    # Jupyter on the instance serves a self-signed certificate, and only on localhost.
    context = ssl._create_unverified_context()
    with urllib.request.urlopen(url, context=context, timeout=10) as response:
        return json.load(response)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("idle_minutes", type=int)
    args = parser.parse_args()
    with open(METADATA_FILE) as metadata:
        name = json.load(metadata)["ResourceName"]
    # on_start rewrites this file at every start, so its age is the time since the instance started.
    started = datetime.datetime.fromtimestamp(os.path.getmtime(__file__), UTC)
    if is_idle(fetch_kernels(KERNELS_URL), started, datetime.datetime.now(UTC), args.idle_minutes):
        subprocess.run(
            ["aws", "sagemaker", "stop-notebook-instance", "--notebook-instance-name", name], check=True
        )


if __name__ == "__main__":
    main()
