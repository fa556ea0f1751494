"""`python -m bench [all|cold-start|capacity|load|workflow]`: runs the benchmarks, prints the tables and
writes bench/results/latest.{json,md} (a single part writes bench/results/<part>.{json,md})."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

# The Lambda layer is an import root of its own (as /opt/python is in Lambda); make the harness
# runnable from a plain checkout, without an editable install.
_REPO_ROOT = Path(__file__).resolve().parent.parent
for _root in (_REPO_ROOT / "layers" / "caseroom" / "python", _REPO_ROOT):
    if str(_root) not in sys.path:
        sys.path.insert(0, str(_root))

PARTS = ("cold-start", "capacity", "load", "workflow", "sandboxes")
# Run on demand only (`python -m bench upload`): it writes and sends a 1 GB file.
ON_DEMAND_PARTS = ("upload",)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("part", nargs="?", default="all", choices=("all", *PARTS, *ON_DEMAND_PARTS))
    parser.add_argument("--runs", type=int, help="cold start: runs per program (default 11, at least 7)")
    parser.add_argument(
        "--duration", type=float, help="load: seconds per operation (default 10); sandboxes: per cell (5)"
    )
    return parser.parse_args(argv)


def _run_part(part: str, args: argparse.Namespace) -> dict[str, Any]:
    # Imported here: each part pulls in heavy modules (moto, aiohttp) only when it runs.
    if part == "cold-start":
        from bench import cold_start

        runs = args.runs if args.runs is not None else cold_start.DEFAULT_RUNS
        if runs < 7:
            raise SystemExit("--runs must be >= 7 (the issue asks for a median of at least 7 runs)")
        return cold_start.run(runs)
    if part == "upload":
        from bench import uploads

        return uploads.run()
    if part == "capacity":
        from bench import capacity

        return capacity.run()
    if part == "workflow":
        from bench import workflow

        return workflow.run()
    if part == "sandboxes":
        from bench import sandboxes

        return sandboxes.run(args.duration if args.duration is not None else sandboxes.DEFAULT_DURATION_S)
    from bench import load

    return load.run(args.duration if args.duration is not None else load.DEFAULT_DURATION_S)


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    from bench import report

    selected = PARTS if args.part == "all" else (args.part,)
    started = time.perf_counter()
    machine = report.machine_info()
    parts: dict[str, Any] = {}
    for part in selected:
        print(f"[bench] {part} ...", file=sys.stderr, flush=True)
        part_started = time.perf_counter()
        parts[part.replace("-", "_")] = _run_part(part, args)
        part_seconds = time.perf_counter() - part_started
        print(f"[bench] {part} done in {part_seconds:.0f} s", file=sys.stderr, flush=True)
    results: dict[str, Any] = {
        "machine": machine,
        "duration_s": round(time.perf_counter() - started, 1),
        "parts": parts,
        "summary": report.summary_rows(parts),
    }
    json_path, markdown_path = report.write(results, "latest" if args.part == "all" else args.part)
    report.echo(report.to_markdown(results))
    print(
        f"[bench] wrote {json_path.relative_to(_REPO_ROOT)} and {markdown_path.relative_to(_REPO_ROOT)}",
        file=sys.stderr,
    )
    failed = [row for row in results["summary"] if row["verdict"] == "FAIL"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
