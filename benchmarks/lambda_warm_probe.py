"""Warm requests against one handler, in its own interpreter, run by benchmarks/lambda_overhead.py.

Each handler gets a fresh process (PYTHONPATH: its function folder, then the repository root), so nothing one
handler loads or patches (Powertools' Tracer patches botocore) touches the other's numbers. Every event is
sent
once as a warm-up, then `rounds` times round-robin, so the machine's noise spreads evenly over the events.
Per event: wall time, this thread's CPU time and botocore's share (the log line's endpoint_ms).

    PYTHONPATH=FUNCTION_DIR:REPO_ROOT python -m benchmarks.lambda_warm_probe EVENTS_JSON ROUNDS RESULT_JSON
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time

POWERTOOLS_OBSERVABILITY = "dogbreed.predict_api.observability"


def output_capture(sink):
    """Where the loaded handler writes: the Powertools logger's stream and stdout, or stdout alone."""
    if POWERTOOLS_OBSERVABILITY in sys.modules:
        from dev.lambda_runtime import function_output

        return function_output(sink)
    return contextlib.redirect_stdout(sink)


def timed_call(handler, event: dict, context) -> tuple[float, float, dict]:
    """One invocation: wall time, this thread's CPU time (immune to being preempted by the machine's other
    tenants) and the handler's log record, whose output goes to a buffer (CloudWatch's pipe in Lambda)."""
    sink = io.StringIO()
    with output_capture(sink):
        started, cpu_started = time.perf_counter(), time.thread_time()
        response = handler.handler(event, context)
        elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
    if response["statusCode"] != 200:
        raise RuntimeError(f"handler answered {response['statusCode']}: {response['body'][:300]}")
    return elapsed, cpu, request_log(sink.getvalue())


def request_log(output: str) -> dict:
    """The request's log record (the one with its status) among the JSON lines a handler wrote."""
    for line in output.splitlines():
        record = json.loads(line)
        if "status" in record:
            return record
    raise RuntimeError(f"no request log line in {output[:300]!r}")


def warm_requests(handler, events: dict[str, dict], rounds: int) -> dict:
    from benchmarks.lambda_stub import CannedEndpoint, client_of
    from dev.lambda_events import FakeLambdaContext

    endpoint = CannedEndpoint(client_of(handler))
    context = FakeLambdaContext()
    samples = {name: {"total_s": [], "cpu_s": [], "botocore_s": []} for name in events}
    for event in events.values():  # warm-up: first use of each code path is not a warm request
        timed_call(handler, event, context)
    for _ in range(rounds):
        for name, event in events.items():
            elapsed, cpu, log = timed_call(handler, event, context)
            samples[name]["total_s"].append(elapsed)
            samples[name]["cpu_s"].append(cpu)
            samples[name]["botocore_s"].append(log["endpoint_ms"] / 1000.0)
    if endpoint.calls != (rounds + 1) * len(events):
        raise RuntimeError(f"expected every request to reach the canned endpoint, got {endpoint.calls}")
    return samples


def main(argv: list[str]) -> int:
    events_file, rounds, result_file = argv
    import handler

    with open(events_file) as file:
        events = json.load(file)
    samples = warm_requests(handler, events, int(rounds))
    with open(result_file, "w") as file:
        json.dump(samples, file)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
