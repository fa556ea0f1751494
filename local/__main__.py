"""caseroom-local / python -m local

start (default)  run CaseRoom on 127.0.0.1 until Ctrl-C
invoke           run one handler once on an event file, against a fresh moto backend
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import traceback
from pathlib import Path
from types import FrameType

from local.data_dir import DEFAULT_DATA_DIR, DataDirError
from local.paths import ensure_import_paths

DEFAULT_MAX_SANDBOXES = 4  # local.sandboxes.DEFAULT_MAX_SANDBOXES (not imported before the paths are set)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="caseroom-local", description="CaseRoom's local runtime (DynamoDB Local + moto, no AWS)."
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    commands = parser.add_subparsers(dest="command")

    start = commands.add_parser("start", help="serve the HTTP + WebSocket APIs on 127.0.0.1 (default)")
    start.add_argument(
        "--port", type=int, default=8000, help="port to listen on; 0 picks a free one (default 8000)"
    )
    start.add_argument(
        "--seed",
        action="store_true",
        help="create a demo clinic through the API after start, if the data directory is empty",
    )
    start.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help=f"keep the data here across restarts (default {DEFAULT_DATA_DIR}/ in the working directory)",
    )
    start.add_argument("--fresh", action="store_true", help="empty the data directory first")
    start.add_argument(
        "--no-background",
        action="store_true",
        help="do not run the outbox relay and rule dispatcher loops (events stay queued; for debugging)",
    )
    start.add_argument(
        "--multipart-threshold-mb",
        type=int,
        default=100,
        help="uploads above this size (MiB) go multipart, smaller ones one presigned POST (default 100)",
    )
    start.add_argument(
        "--sandboxes",
        type=int,
        default=DEFAULT_MAX_SANDBOXES,
        help=f"sandbox processes per function (default {DEFAULT_MAX_SANDBOXES}); more invocations wait",
    )
    start.add_argument(
        "--verbose",
        action="store_true",
        help="also show the runtime's and the handlers' logs, Powertools metrics output and warnings",
    )
    start.add_argument(
        "--no-timeouts",
        action="store_true",
        help="never time out a handler (for stepping through in a debugger)",
    )

    invoke = commands.add_parser("invoke", help="run one function on an event file and print its result")
    invoke.add_argument("function", help="a function name from infra/manifest.py, e.g. cases_api")
    invoke.add_argument(
        "event_file", type=Path, help="a JSON event, e.g. events/samples/http_api_v2_get_case.json"
    )
    invoke.add_argument(
        "--handler-module", help="import lambda_handler from this module instead of functions.<name>.handler"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not any(arg in ("start", "invoke") for arg in args_list) and not {"-h", "--help"} & set(args_list):
        args_list.insert(_first_start_option(args_list), "start")
    args = build_parser().parse_args(args_list)
    verbose = args.command != "start" or args.verbose
    configure_logging(args.log_level, verbose=verbose)
    ensure_import_paths()
    if args.command == "invoke":
        return invoke_command(args.function, args.event_file, args.handler_module)
    return start_command(
        args.port,
        seed=args.seed,
        background=not args.no_background,
        timeouts=not args.no_timeouts,
        multipart_threshold_bytes=args.multipart_threshold_mb * 1024 * 1024,
        data_dir=args.data_dir,
        fresh=args.fresh,
        verbose=args.verbose,
        max_sandboxes=args.sandboxes,
    )


def configure_logging(level: str, *, verbose: bool) -> None:
    """The calm console by default: one line per request and per delivered event (the
    local.console logger), plus warnings and errors. --verbose shows every INFO line."""
    logging.basicConfig(
        level=getattr(logging, level) if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    console = logging.getLogger("local.console")
    console.propagate = False
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    console.addHandler(handler)
    console.setLevel(logging.INFO)
    if not verbose:
        import warnings

        warnings.simplefilter("ignore")
        # A throttle or timeout already shows as its request's line; say why only when asked.
        for name in ("local.gateway", "local.sandboxes"):
            logging.getLogger(name).setLevel(logging.ERROR)
    logging.getLogger("botocore").setLevel(logging.WARNING)  # "Found credentials" on every client


def _first_start_option(args: list[str]) -> int:
    """Where `start` goes when omitted: after the global options (`--log-level X`)."""
    index = 0
    while index < len(args) and args[index].startswith("--log-level"):
        index += 1 if "=" in args[index] else 2
    return index


def start_command(
    port: int,
    *,
    seed: bool,
    background: bool,
    timeouts: bool,
    multipart_threshold_bytes: int = 100 * 1024 * 1024,
    data_dir: Path = DEFAULT_DATA_DIR,
    fresh: bool = False,
    verbose: bool = False,
    max_sandboxes: int = DEFAULT_MAX_SANDBOXES,
) -> int:
    from local.runtime import LocalRuntime  # imported after the paths are set up
    from local.sandboxes import SandboxSettings
    from local.seed import seed_demo_clinic

    stop_requested = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    runtime = LocalRuntime(
        background=background,
        enforce_timeouts=timeouts,
        multipart_threshold_bytes=multipart_threshold_bytes,
        data_dir=data_dir,
        fresh=fresh,
        sandboxes=SandboxSettings(max_sandboxes=max_sandboxes, verbose=verbose, enforce_timeouts=timeouts),
    )
    try:
        runtime.start(port)
    except DataDirError as exc:
        print(f"Cannot use the data directory: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(
            f"Cannot listen on 127.0.0.1:{port} ({exc.strerror}). Use --port 0 for a free port.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        _print_banner(runtime.base_url, runtime.ws_url, runtime.backend.endpoint_url, background)
        store = runtime.store
        if store is not None:
            kept = (
                "empty, new"
                if runtime.started_empty
                else f"kept from the last run: {_describe(store.restored)}"
            )
            print(f"  Data          {store.data.root} ({kept}); --fresh starts empty", flush=True)
            print(f"  DynamoDB      {store.dynamodb.endpoint_url} (DynamoDB Local)", flush=True)
        if seed and not runtime.started_empty:
            print("Demo clinic not seeded: the data directory holds earlier data.", flush=True)
        elif seed:
            seed_demo_clinic(
                runtime.base_url,
                runtime.sign_in,
                say=lambda line: print(line, flush=True),
                cancelled=stop_requested.is_set,
            )
        if not stop_requested.is_set():
            print("Ready.", flush=True)
        while not stop_requested.wait(0.5):
            pass
        print("Stopping...", flush=True)
    finally:
        runtime.stop()
    print("Stopped.", flush=True)
    return EXIT_OK


def _describe(restored: dict[str, int]) -> str:
    parts = [f"{count} {name}" for name, count in restored.items() if count]
    return ", ".join(parts) if parts else "the table"


def _print_banner(base_url: str, ws_url: str, moto_url: str, background: bool) -> None:
    sign_in = (
        f"curl -s -X POST {base_url}/_local/sign-in -H 'content-type: application/json'"
        """ -d '{"user":"clinician"}'"""
    )
    # The API base URL is the first URL printed: scripts take the first http://127.0.0.1:<port>.
    lines = [
        "CaseRoom local runtime (stage local)",
        f"  API base URL  {base_url}",
        f"  WebSocket     {ws_url}?ticket=<ticket>  (POST {base_url}/realtime/tickets, single use, 60 s)",
        f"  Web app       {base_url}/  (sign in as any seeded user)",
        f"  Swagger UI    {base_url}/docs",
        f"  OpenAPI       {base_url}/openapi.json",
        f"  Sign in       {sign_in}",
        f"  Users         {base_url}/_local/users  (clinician, clinician2, lab, patient)",
        f"  Mailbox       {base_url}/_local/mailbox",
        f'  Clock         POST {base_url}/_local/clock  {{"advanceSeconds": 3600}}',
        f"  AWS (moto)    {moto_url}  (S3, EventBridge, SQS, SES, Scheduler)",
    ]
    if not background:
        lines.append("  Events        background delivery OFF (--no-background): outbox events stay queued")
    print("\n".join(lines), flush=True)


def invoke_command(function_name: str, event_file: Path, handler_module: str | None = None) -> int:
    from infra import manifest
    from local.aws_backend import AwsBackend
    from local.functions import FunctionRegistry

    names = [fn.name for fn in manifest.FUNCTIONS]
    if function_name not in names:
        print(f"Unknown function {function_name!r}; the manifest has: {', '.join(names)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        event = json.loads(event_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"Cannot read the event file {event_file}: {exc}", file=sys.stderr)
        return EXIT_USAGE

    backend = AwsBackend()
    backend.start()
    try:
        overrides = {function_name: handler_module} if handler_module else {}
        result = FunctionRegistry(overrides).invoke(function_name, event)
    except Exception:  # noqa: BLE001 - reported like Lambda reports a failed invocation
        traceback.print_exc()
        return EXIT_FAILED
    finally:
        backend.stop()
    print(json.dumps(result, indent=2, default=str), flush=True)
    return EXIT_OK


def run_and_exit(argv: list[str] | None = None) -> None:
    """main(), then exit at once: LocalRuntime.stop() has stopped and flushed all that matters,
    and a thread still waiting on a backend that is gone must not hold the exit (Ctrl-C stops
    the runtime within 3 s, whatever was queued)."""
    code = main(argv)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run_and_exit()
