"""Results as JSON (machine-readable) and Markdown (the tables people read)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import aws_env

RESULTS_DIR = aws_env.REPO_ROOT / "bench" / "results"


def machine_info() -> dict[str, Any]:
    load_1m = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "load_average_1m_at_start": round(load_1m, 2) if load_1m is not None else None,
        "git_commit": _git_commit(),
    }


def _git_commit() -> str | None:
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=aws_env.REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return None
    return completed.stdout.strip() or None


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _yes_no(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


def _deep_tracing_cost(rows: list[dict[str, Any]]) -> tuple[float, float] | None:
    """(wall ms, CPU ms) that CASEROOM_DEEP_TRACING=true adds to cases_api's cold start, median vs median."""
    by_name = {row["name"]: row for row in rows}
    default, deep = by_name.get("cases_api"), by_name.get("cases_api + CASEROOM_DEEP_TRACING=true")
    if not default or not deep or None in (default["median_ms"], deep["median_ms"]):
        return None
    if None in (default["median_cpu_ms"], deep["median_cpu_ms"]):
        return None
    return deep["median_ms"] - default["median_ms"], deep["median_cpu_ms"] - default["median_cpu_ms"]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


# -- summary -------------------------------------------------------------------------------


def summary_rows(parts: dict[str, Any]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    cold = parts.get("cold_start")
    if cold:
        functions = [r for r in cold["rows"] if r["kind"] == "function"]
        for measure, ratio_key, passed_key in (
            ("median wall time (the target)", "ratio_to_floor", "passed"),
            ("median CPU time (noise check)", "cpu_ratio_to_floor", "passed_on_cpu_time"),
        ):
            worst = max(functions, key=lambda r: r[ratio_key] or float("inf"))
            each = ", ".join(f"{r['name']} {_ratio(r[ratio_key])}" for r in functions)
            rows.append(
                {
                    "target": f"cold start, {measure}: every function <= {cold['target_ratio']}x the floor",
                    "measured": f"worst {worst['name']} {_ratio(worst[ratio_key])} ({each})",
                    "verdict": "PASS" if cold[passed_key] else "FAIL",
                }
            )
    capacity = parts.get("capacity")
    if capacity:
        scaling = capacity["list_scaling"]
        listing = scaling["listings"]["list my cases"]
        rows.append(
            {
                "target": f"list my cases: read units with 10,000 vs 100 cases <= {scaling['target_ratio']}",
                "measured": f"{_num(listing['read_units_ratio'])} ({listing['small']['read_units']} -> "
                f"{listing['large']['read_units']} RRU)",
                "verdict": "PASS" if listing["passed"] else "FAIL",
            }
        )
        rows.append(
            {
                "target": "no Scan on any API operation",
                "measured": f"{capacity['scan_calls']} Scan calls",
                "verdict": "PASS" if capacity["no_scan"] else "FAIL",
            }
        )
    load = parts.get("load")
    if load:
        if "skipped" in load:
            measured, verdict = f"skipped: {load['skipped']}", "SKIPPED"
        else:
            errors = sum(op["errors"] for op in load["operations"].values())
            measured, verdict = (
                f"{errors} errors; see the load table (tracked for regressions)",
                ("PASS" if errors == 0 else "FAIL"),
            )
        rows.append(
            {
                "target": "load: create/get/list through the local runtime without errors",
                "measured": measured,
                "verdict": verdict,
            }
        )
    upload = parts.get("upload")
    if upload:
        rows.append(
            {
                "target": f"1 GB upload, client >= {upload['target_ratio']}x boto3 upload_file (same moto)",
                "measured": f"{_num(upload['ratio'])}x "
                f"({upload['client_mib_s']} vs {upload['boto3_mib_s']} MiB/s)",
                "verdict": "PASS" if upload["passed"] else "FAIL",
            }
        )
        if "multipart_lambda_cpu_spread" in upload:
            rows.append(
                {
                    "target": "Lambda CPU per multipart upload independent of size: largest / smallest "
                    f"<= {upload['cpu_spread_target']}",
                    "measured": f"{_num(upload['multipart_lambda_cpu_spread'])} (wall time: "
                    f"{_num(upload['multipart_lambda_ms_spread'])}, moto's complete included)",
                    "verdict": "PASS" if upload["cpu_spread_passed"] else "FAIL",
                }
            )
    workflow = parts.get("workflow")
    if workflow:
        throughput, latency = workflow["throughput"], workflow["latency"]
        rows.append(
            {
                "target": "workflow: events through publish -> bus -> rule -> consumer (tracked)",
                "measured": f"{_num(throughput['events_per_s'], 1)} events/s "
                f"({throughput['events']} events, {throughput['consumers_per_event']} consumers each)",
                "verdict": "INFO",
            }
        )
        for name, key in (
            ("webhook", "status_change_to_webhook"),
            ("WebSocket push", "status_change_to_websocket_push"),
        ):
            rows.append(
                {
                    "target": f"workflow: status change -> {name} latency (tracked)",
                    "measured": (
                        f"p50 {_num(latency[key]['p50_ms'], 0)} ms, p99 {_num(latency[key]['p99_ms'], 0)} ms"
                    ),
                    "verdict": "INFO",
                }
            )
    sandboxes = parts.get("sandboxes")
    if sandboxes:
        rows += _sandboxes_rows(sandboxes)
    return rows


def _sandboxes_rows(sandboxes: dict[str, Any]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []

    def failed(name: str, target: str) -> bool:
        phase = sandboxes.get(name, {"error": "not run"})
        if "error" in phase:
            rows.append({"target": target, "measured": f"phase failed: {phase['error']}", "verdict": "FAIL"})
            return True
        return False

    target = "sandboxes: 100 concurrent case creations, no 5xx"
    if not failed("concurrent_creations", target):
        creations = sandboxes["concurrent_creations"]
        rows.append(
            {
                "target": target,
                "measured": f"statuses {creations['statuses']} in {_num(creations['seconds'], 1)} s",
                "verdict": "PASS" if creations["server_errors"] == 0 else "FAIL",
            }
        )
    target = "sandboxes: 50 concurrent bookings of a block: no 5xx, 1 wins"
    if not failed("concurrent_bookings", target):
        bookings = sandboxes["concurrent_bookings"]
        rows.append(
            {
                "target": target,
                "measured": f"statuses {bookings['statuses']}, refusals {bookings['refusal_codes']}",
                "verdict": "PASS" if bookings["server_errors"] == 0 and bookings["winners"] == 1 else "FAIL",
            }
        )
    if not failed("latency", "sandboxes: status change -> signed webhook / WebSocket push, p99 < 1000 ms"):
        latency = sandboxes["latency"]
        for name, key in (
            ("signed webhook", "status_change_to_signed_webhook"),
            ("WebSocket push", "status_change_to_websocket_push"),
        ):
            value = latency[key]
            rows.append(
                {
                    "target": f"sandboxes: status change -> {name}, p99 < {value['target_p99_ms']:.0f} ms",
                    "measured": f"p50 {_num(value['p50_ms'], 0)} ms, p99 {_num(value['p99_ms'], 0)} ms",
                    "verdict": "PASS" if value["passed"] and not latency["bad_signatures"] else "FAIL",
                }
            )
    if not failed("throughput", "sandboxes: create/get/list rps, gateway vs in-process (tracked)"):
        for row in sandboxes["throughput"]["rows"]:
            if row["clients"] == 1:
                rows.append(
                    {
                        "target": f"sandboxes: {row['operation']} rps, gateway / in-process (tracked)",
                        "measured": ", ".join(
                            f"{r['clients']} clients {_ratio(r['gateway_rps_over_in_process'])}"
                            for r in sandboxes["throughput"]["rows"]
                            if r["operation"] == row["operation"]
                        ),
                        "verdict": "INFO",
                    }
                )
    queued = sandboxes.get("stop", {}).get("queuedEventsAtStop")
    rows.append(
        {
            "target": "sandboxes: Ctrl-C (stop) within 3 s",
            "measured": f"{_num(sandboxes['stop_seconds'], 2)} s"
            + (f" with {queued} rule events queued" if queued is not None else ""),
            "verdict": "PASS" if sandboxes["stop_seconds"] <= 3 else "FAIL",
        }
    )
    return rows


def _sandboxes_section(sandboxes: dict[str, Any]) -> list[str]:
    lines = [
        "## 6. Sandboxes: concurrency, notification latency, gateway throughput",
        "",
        f"{sandboxes['runtime']}. Clients are threads of the benchmark process.",
        "",
    ]
    if "error" in sandboxes.get("throughput", {"error": "not run"}):
        return [*lines, f"Throughput: {sandboxes.get('throughput', {}).get('error', 'not run')}"]
    rows = []
    for row in sandboxes["throughput"]["rows"]:
        gateway, direct = row["gateway"], row["in_process"]
        rows.append(
            [
                row["operation"],
                str(row["clients"]),
                _num(gateway["rps"], 1),
                _num(gateway["p50_ms"], 1),
                _num(gateway["p99_ms"], 1),
                str(gateway["errors"]),
                _num(direct["rps"], 1),
                _num(direct["p50_ms"], 1),
                _ratio(row["gateway_rps_over_in_process"]),
            ]
        )
    lines += _table(
        [
            "Operation",
            "Clients",
            "Gateway rps",
            "p50 ms",
            "p99 ms",
            "Errors",
            "In-process rps",
            "p50 ms",
            "Gateway / in-process",
        ],
        rows,
    )
    return lines


def _upload_section(upload: dict[str, Any]) -> list[str]:
    lines = [
        "## Uploads",
        "",
        f"1 GiB file, {upload['part_bytes'] // (1024 * 1024)} MiB parts, {upload['parallel']} in parallel. "
        f"boto3 upload_file: {upload['boto3_upload_file_s']} s ({upload['boto3_mib_s']} MiB/s); "
        f"caseroom client: {upload['client_upload_s']} s ({upload['client_mib_s']} MiB/s), of which "
        f"{upload['client_hashing_s']} s hash the file (whole + per part) before the first byte is sent.",
        "",
        "Lambda time per upload (files_api request/part URLs/complete + file_verifier). Wall time includes "
        "waiting on moto, which joins and hashes a multipart object in memory when it completes; CPU is "
        "the handler threads' own work.",
        "",
    ]
    lines += _table(
        ["Size", "Mode", "Status", "files_api ms", "file_verifier ms", "Total wall ms", "Total CPU ms"],
        [
            [
                f"{r['size_bytes'] / (1024 * 1024):.0f} MiB",
                r["mode"],
                r["status"],
                _num(r["files_api_ms"], 0),
                _num(r["file_verifier_ms"], 0),
                _num(r["total_ms"], 0),
                _num(r.get("total_cpu_ms"), 1),
            ]
            for r in upload["lambda_rows"]
        ],
    )
    return lines


# -- markdown ------------------------------------------------------------------------------


def _cold_start_section(cold: dict[str, Any]) -> list[str]:
    lines = [
        "## 1. Cold start",
        "",
        f"Fresh `python -c` process: import the handler and serve one request against moto, timed inside the "
        f"process from its first line to the end of the response. Median of {cold['runs_per_program']} runs, "
        f"round-robin, after one discarded warm-up run each. Floor = import boto3 + one DynamoDB client + "
        f"one GetItem ({_ms(cold['floor_median_ms'])} ms). Target: <= {cold['target_ratio']}x the floor.",
        "",
    ]
    rows = []
    for row in cold["rows"]:
        median_text = row["note"] or _ms(row["median_ms"])
        if row["errors"] and row["median_ms"] is None:
            median_text = f"error: {row['errors'][0]}"
        rows.append(
            [
                row["name"],
                median_text,
                _ratio(row["ratio_to_floor"]),
                row["verdict"] or "-",
                _ms(row["min_ms"]),
                _ms(row["median_cpu_ms"]),
                _ratio(row["cpu_ratio_to_floor"]),
                _yes_no(row["xray_sdk_imported"]),
                "-" if row["boto3_clients"] is None else str(row["boto3_clients"]),
                _ms(row["median_process_wall_ms"]),
            ]
        )
    header = [
        "Program",
        "Median ms",
        "vs floor",
        "Verdict",
        "Min ms",
        "CPU ms",
        "CPU vs floor",
    ]
    lines += _table([*header, "X-Ray SDK", "boto3 clients", "Process wall ms"], rows)
    lines += [
        "",
        "Median ms (the target) is wall time inside the process; CPU ms is the process's CPU time over the "
        "same span, steadier when neighbours load the machine. X-Ray SDK: whether `aws_xray_sdk` was "
        "imported; boto3 clients: how many the first request created (each loads its service model). "
        "Process wall = interpreter start to exit, seen from the parent (includes ~100 ms of interpreter "
        "teardown that Lambda never pays per request).",
    ]
    deep_cost = _deep_tracing_cost(cold["rows"])
    if deep_cost is not None:
        wall, cpu = deep_cost
        with_sdk = [r["name"] for r in cold["rows"] if r["kind"] == "function" and r["xray_sdk_imported"]]
        default_tracing = (
            f"but by default these functions import it: {', '.join(with_sdk)}"
            if with_sdk
            else "with the default (Lambda active tracing) no function imports the X-Ray SDK"
        )
        lines += [
            "",
            f"CASEROOM_DEEP_TRACING=true adds {wall:+.0f} ms wall / {cpu:+.0f} ms CPU to cases_api's "
            f"cold start (medians); {default_tracing}.",
        ]
    lines += [
        "",
        "Imports beyond the floor: modules each program imports that the floor does not, self import time "
        f"by package (per-module median of {cold['import_time_runs']} `python -X importtime` runs; "
        "`-X importtime` itself inflates times a little):",
        "",
    ]
    breakdown = [
        [
            name,
            f"{entry['total_ms']:.0f}",
            ", ".join(f"{package} {ms:.0f}" for package, ms in entry["top_packages_ms"].items()),
        ]
        for name, entry in cold["imports_beyond_floor"].items()
    ]
    lines += _table(["Program", "Extra import ms", "Largest packages (ms)"], breakdown)
    return lines


def _capacity_section(capacity: dict[str, Any]) -> list[str]:
    lines = [
        "## 2. DynamoDB calls and capacity per API operation",
        "",
        "Through the cases API handler against moto (in-process). Units computed from the items read and "
        "written by DynamoDB's on-demand rules (bench/dynamo_cost.py); moto's own ConsumedCapacity is a "
        "constant stub, shown for reference.",
        "",
    ]
    rows = []
    for name, op in capacity["operations"].items():
        calls = ", ".join(f"{call} x{count}" for call, count in op["calls"].items())
        rows.append(
            [
                name,
                calls,
                _num(op["read_units"], 1),
                str(op["table_write_units"]),
                str(op["index_write_units"]),
                str(op["items_read"]),
                _num(op["moto_reported_units"], 1),
            ]
        )
    lines += _table(
        ["Operation", "DynamoDB calls", "RRU", "WRU table", "WRU GSIs", "Items read", "moto CU"], rows
    )
    scaling = capacity["list_scaling"]
    lines += [
        "",
        f"Scan calls during the operations: {capacity['scan_calls']}.",
        "",
        f"### A page ({scaling['page_size']}) with 100 vs 10,000 cases in the table",
        "",
        f"The owner has 100 cases in both tables; the large table adds other clinicians' cases (bulk-loaded "
        f"in {scaling['bulk_load_seconds']} s). The lab queue's own partition grows from 100 to 10,000. "
        f"Target: read units ratio <= {scaling['target_ratio']}.",
        "",
    ]
    rows = []
    for name, listing in scaling["listings"].items():
        small, large = listing["small"], listing["large"]
        rows.append(
            [
                name,
                f"{small['table_items']} -> {large['table_items']}",
                f"{small['page_items']} / {large['page_items']}",
                f"{small['read_units']} -> {large['read_units']}",
                _num(listing["read_units_ratio"]),
                f"{small['moto_scanned_count']} -> {large['moto_scanned_count']}",
                f"{small['moto_wall_ms']:.0f} -> {large['moto_wall_ms']:.0f}",
                "PASS" if listing["passed"] else "FAIL",
            ]
        )
    lines += _table(
        ["Listing", "Table items", "Page items", "RRU", "Ratio", "Items scanned", "moto ms", "Verdict"], rows
    )
    lines += [
        "",
        "moto ms grows because moto evaluates a GSI query by iterating the whole table; DynamoDB reads "
        "only the index partition's page, which is what the read units measure.",
    ]
    return lines


def _load_section(load: dict[str, Any]) -> list[str]:
    lines = ["## 3. Load through the local runtime", ""]
    if "skipped" in load:
        return [*lines, f"Skipped: {load['skipped']}"]
    lines += [
        f"{load['clients']} keep-alive clients, {load['duration_s_per_operation']:.0f} s per operation, "
        f"against {load['runtime']}. Get cycles through the cases just created; list runs with "
        f"{load['cases_in_table_at_list']} cases in the clinician's list. The event backlog of the create "
        f"phase drained in {load['event_backlog_drained_after_s']} s before get/list started.",
        "",
    ]
    rows = [
        [
            name,
            str(op["requests"]),
            _num(op["rps"], 1),
            _num(op["p50_ms"], 1),
            _num(op["p99_ms"], 1),
            _num(op["max_ms"], 1),
            str(op["errors"]),
        ]
        for name, op in load["operations"].items()
    ]
    lines += _table(["Operation", "Requests", "Req/s", "p50 ms", "p99 ms", "max ms", "Errors"], rows)
    samples = [s for op in load["operations"].values() for s in op["error_samples"]]
    if samples:
        lines += ["", "Error samples: " + "; ".join(samples[:5])]
    return lines


def _workflow_section(workflow: dict[str, Any]) -> list[str]:
    throughput = workflow["throughput"]
    lines = [
        "## 4. Workflow: events and notification latency",
        "",
        f"Against the {workflow['runtime']}. {throughput['events']} FileAdded events written to the outbox, "
        f"relayed to the bus and matched by moto's rules to {throughput['consumers_per_event']} consumers "
        f"each (notifications, webhook sender posting to the receiver): {throughput['seconds']} s, "
        f"{throughput['events_per_s']} events/s, {throughput['deliveries_per_s']} consumer deliveries/s.",
        "",
    ]
    rows = [
        [name, str(v["samples"]), _num(v["p50_ms"], 1), _num(v["p99_ms"], 1), _num(v["max_ms"], 1)]
        for name, v in workflow["latency"].items()
    ]
    lines += _table(["From PUT /cases/{caseId}/status to", "Samples", "p50 ms", "p99 ms", "max ms"], rows)
    return lines


def to_markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        "# CaseRoom benchmark results",
        "",
        f"{machine['date']} - {machine['cpu_count']} CPUs, Python {machine['python']} "
        f"({machine['platform']}), "
        f"load average {machine['load_average_1m_at_start']} at start, commit {machine['git_commit']}, "
        f"run took {results['duration_s']:.0f} s.",
        "",
        "## Targets",
        "",
    ]
    lines += _table(
        ["Target", "Measured", "Verdict"],
        [[r["target"], r["measured"], r["verdict"]] for r in results["summary"]],
    )
    parts = results["parts"]
    if "cold_start" in parts:
        lines += ["", *_cold_start_section(parts["cold_start"])]
    if "capacity" in parts:
        lines += ["", *_capacity_section(parts["capacity"])]
    if "load" in parts:
        lines += ["", *_load_section(parts["load"])]
    if "upload" in parts:
        lines += ["", *_upload_section(parts["upload"])]
    if "workflow" in parts:
        lines += ["", *_workflow_section(parts["workflow"])]
    if "sandboxes" in parts:
        lines += ["", *_sandboxes_section(parts["sandboxes"])]
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any], stem: str) -> tuple[Path, Path]:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    json_path, markdown_path = RESULTS_DIR / f"{stem}.json", RESULTS_DIR / f"{stem}.md"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    markdown_path.write_text(to_markdown(results))
    return json_path, markdown_path


def echo(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
