"""CLI: dogbreed-local-endpoint --model model.tar.gz --endpoint-name NAME --port 8080"""

from __future__ import annotations

import argparse
import signal
import sys
import tarfile
import threading

from dogbreed.local_endpoint.endpoint import LocalEndpoint


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dogbreed-local-endpoint",
        description="Serve a model.tar.gz like a SageMaker PyTorch endpoint (container + InvokeEndpoint).",
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
    parser.add_argument("--variant-name", default="AllTraffic", help="production variant reported to callers")
    parser.add_argument("--region", default="us-east-1", help="region used in error messages and ARNs")
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request")
    return parser


def main(args: argparse.Namespace | None = None) -> int:
    args = args if args is not None else get_args_parser().parse_args()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    endpoint = LocalEndpoint(
        args.model,
        endpoint_name=args.endpoint_name,
        host=args.host,
        port=args.port,
        max_concurrency=args.max_concurrency,
        variant_name=args.variant_name,
        region=args.region,
        verbose=args.verbose,
    )
    try:
        endpoint.start()
    except (OSError, tarfile.TarError) as error:
        print(f"error: cannot serve {args.model}: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # model_fn failed: say so in one line, as the container's log would
        print(f"error: the model failed to load: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    with endpoint:
        print(f"endpoint {args.endpoint_name} ready at {endpoint.url}", flush=True)
        print(f"  export AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME={endpoint.url}", flush=True)
        stop.wait()
    print("endpoint stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
