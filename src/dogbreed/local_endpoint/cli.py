"""CLI: dogbreed-local-endpoint --model model.tar.gz --endpoint-name NAME --port 8080"""

from __future__ import annotations

import argparse
import signal
import sys
import tarfile
import threading

from dogbreed.local_endpoint.endpoint import LocalEndpoint
from dogbreed.local_endpoint.instance import StackError
from dogbreed.local_endpoint.stack import ModelEnvironment


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dogbreed-local-endpoint",
        description="Serve a model.tar.gz in the SageMaker PyTorch container's serving stack (TorchServe + "
        "the inference toolkit, network isolated) behind the InvokeEndpoint REST call.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="path to model.tar.gz")
    parser.add_argument("--endpoint-name", required=True, help="the EndpointName InvokeEndpoint accepts")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=8080, help="port to bind (0 picks a free one)")
    parser.add_argument(
        "--max-concurrency",
        type=int,
        default=8,
        help="concurrent InvokeEndpoint calls above which the endpoint throttles",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="SAGEMAKER_MODEL_SERVER_WORKERS (default: one per CPU)"
    )
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="more model environment variables"
    )
    parser.add_argument(
        "--host-network",
        action="store_true",
        help="no network namespace (where unshare is not allowed): the stack shares the host's loopback",
    )
    parser.add_argument("--serving-python", help="the serving venv's python (default: .venv-serving)")
    parser.add_argument("--variant-name", default="AllTraffic", help="production variant reported to callers")
    parser.add_argument("--region", default="us-east-1", help="region used in error messages and ARNs")
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request")
    return parser


def main(args: argparse.Namespace | None = None) -> int:
    args = args if args is not None else get_args_parser().parse_args()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    extra = dict(item.split("=", 1) for item in args.env if "=" in item)
    try:
        endpoint = LocalEndpoint(
            args.model,
            endpoint_name=args.endpoint_name,
            environment=ModelEnvironment(workers=args.workers, extra=extra),
            isolate_network=not args.host_network,
            serving_python=args.serving_python,
            host=args.host,
            port=args.port,
            max_concurrency=args.max_concurrency,
            variant_name=args.variant_name,
            region=args.region,
            verbose=args.verbose,
        ).start()
    except (OSError, tarfile.TarError) as error:
        print(f"error: cannot serve {args.model}: {error}", file=sys.stderr)
        return 2
    except StackError as error:  # the model failed to load, or the stack did not start
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        print(f"endpoint {args.endpoint_name} ready at {endpoint.url}", flush=True)
        print(f"  export AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME={endpoint.url}", flush=True)
        print(f"  container (port 8080): {endpoint.stack.url}", flush=True)
        stop.wait()
    finally:
        endpoint.stop()
    print("endpoint stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
