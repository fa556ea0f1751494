"""Part 4, uploads: a 1 GB file through the local runtime with the `caseroom` client (multipart,
parallel parts) against a plain boto3 `upload_file` of the same file to the same moto server in
the same run (target: >= 0.8x its throughput), and the Lambda time one upload costs at several
file sizes (target: independent of the size above the multipart threshold).

Lambda time = the files_api invocations an upload makes (request, part URLs, complete) plus the
file_verifier invocation, read from the runtime's per-invocation log line ("invoked <function>
(<route or detail-type>): N ms wall, N ms CPU"). Wall time includes waiting on moto (which joins
and hashes a multipart object in memory on CompleteMultipartUpload); CPU time is the handler
thread's own work, the part CaseRoom's code controls.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import aws_env

MiB = 1024 * 1024
GiB = 1024 * MiB
BIG_FILE_BYTES = 1 * GiB
SIZES = (1 * MiB, 50 * MiB, 256 * MiB, BIG_FILE_BYTES)
PART_BYTES = 16 * MiB
PARALLEL = 4
TARGET_RATIO = 0.8
STARTUP_TIMEOUT_S = 90.0
_INVOKED = re.compile(r"invoked (files_api|file_verifier) \(([^)]*)\): ([\d.]+) ms wall, ([\d.]+) ms CPU")
# Lambda CPU for the largest multipart upload vs the smallest: the bytes never touch a function.
CPU_SPREAD_TARGET = 1.5


def _dicom_file(path: Path, size: int) -> None:
    """A DICOM-shaped file (preamble + DICM), the rest pseudo-random so nothing compresses it away."""
    if path.exists() and path.stat().st_size == size:
        return
    block = os.urandom(4 * MiB)
    with path.open("wb") as out:
        out.write(b"\x00" * 128 + b"DICM")
        written = 132
        while written < size:
            chunk = block[: min(len(block), size - written)]
            out.write(chunk)
            written += len(chunk)


def _start_runtime(log_path: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    ready_file = aws_env.WORK_DIR / "uploads-runtime.ready.json"
    ready_file.unlink(missing_ok=True)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("CASEROOM_", "AWS_"))}
    environment.update(PYTHONPATH=aws_env.python_path(), PYTHONUNBUFFERED="1", BENCH_RUNTIME_LOG_LEVEL="INFO")
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.runtime_host", str(ready_file)],
        stdin=subprocess.PIPE,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=environment,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if ready_file.exists():
            return process, json.loads(ready_file.read_text())
        if process.poll() is not None:
            raise RuntimeError(f"the runtime exited with {process.returncode}; see {log_path}")
        time.sleep(0.1)
    raise RuntimeError("the runtime did not start")


def _lambda_ms(log_text: str) -> dict[str, float]:
    """Upload invocations only: status polls (GET .../files/{fileId}) are the bench's, not the upload's."""
    totals = {
        "files_api_ms": 0.0,
        "file_verifier_ms": 0.0,
        "files_api_cpu_ms": 0.0,
        "file_verifier_cpu_ms": 0.0,
    }
    for function, trigger, wall, cpu in _INVOKED.findall(log_text):
        if function == "files_api" and "/uploads" not in trigger:
            continue
        totals[f"{function}_ms"] += float(wall)
        totals[f"{function}_cpu_ms"] += float(cpu)
    totals["total_ms"] = totals["files_api_ms"] + totals["file_verifier_ms"]
    totals["total_cpu_ms"] = totals["files_api_cpu_ms"] + totals["file_verifier_cpu_ms"]
    return totals


def _wait_settled(api: Any, case_id: str, file_id: str, timeout_s: float = 300.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = str(api.call("GET", f"/cases/{case_id}/files/{file_id}")["status"])
        if status != "pending":
            return status
        time.sleep(0.2)
    return "pending"


def run() -> dict[str, Any]:
    import boto3
    from boto3.s3.transfer import TransferConfig

    from client.api import Api
    from client.uploads import StateFile, Uploader, declare

    aws_env.WORK_DIR.mkdir(parents=True, exist_ok=True)
    log_path = aws_env.WORK_DIR / "uploads-runtime.log"
    process, urls = _start_runtime(log_path)
    try:
        api = Api(urls["baseUrl"])
        api.sign_in_local("clinician")
        case = api.call(
            "POST",
            "/cases",
            {
                "patientName": "Bench Patient",
                "rxDescription": "Guide",
                "teeth": ["36"],
                "caseType": "implant_guide",
            },
        )
        case_id = case["caseId"]
        uploader = Uploader(api=api, state=StateFile(aws_env.WORK_DIR / "upload-state"), parallel=PARALLEL)

        # 1. Throughput: boto3 upload_file vs the client, same 1 GB file, same moto server.
        big = aws_env.WORK_DIR / "upload-1g.dcm"
        _dicom_file(big, BIG_FILE_BYTES)
        s3 = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        ).client("s3", endpoint_url=urls["motoUrl"])
        started = time.perf_counter()
        s3.upload_file(
            str(big),
            "caseroom-files",
            "bench/boto3-upload-file",
            Config=TransferConfig(multipart_chunksize=PART_BYTES, max_concurrency=PARALLEL),
        )
        boto3_s = time.perf_counter() - started
        print(f"[bench] boto3 upload_file: {boto3_s:.1f} s", file=sys.stderr, flush=True)

        hash_started = time.perf_counter()
        declare(big, "cbct", PART_BYTES)
        hashing_s = time.perf_counter() - hash_started

        rows: list[dict[str, Any]] = []
        client_s = 0.0
        for size in SIZES:
            path = big if size == BIG_FILE_BYTES else aws_env.WORK_DIR / f"upload-{size // MiB}m.dcm"
            _dicom_file(path, size)
            offset = log_path.stat().st_size
            started = time.perf_counter()
            file_id = uploader.upload(case_id, path, "initial-documentation", "cbct", PART_BYTES)
            upload_s = time.perf_counter() - started
            print(f"[bench] client {size // MiB} MiB: {upload_s:.1f} s", file=sys.stderr, flush=True)
            status = _wait_settled(api, case_id, file_id)
            time.sleep(1.0)  # the dispatcher logs its delivery just after the handler returns
            with log_path.open("rb") as log:
                log.seek(offset)
                timings = _lambda_ms(log.read().decode(errors="replace"))
            if size == BIG_FILE_BYTES:
                client_s = upload_s
            rows.append(
                {
                    "size_bytes": size,
                    "mode": "multipart" if size > 100 * MiB else "post",
                    "status": status,
                    "client_upload_s": round(upload_s, 2),
                    **{k: round(v, 1) for k, v in timings.items()},
                }
            )
    finally:
        if process.stdin:
            process.stdin.close()
        process.wait(timeout=60)

    boto3_mib_s = BIG_FILE_BYTES / MiB / boto3_s
    client_mib_s = BIG_FILE_BYTES / MiB / client_s
    multipart_totals = [r["total_ms"] for r in rows if r["mode"] == "multipart"]
    multipart_cpu = [r["total_cpu_ms"] for r in rows if r["mode"] == "multipart"]
    cpu_spread = max(multipart_cpu) / max(min(multipart_cpu), 1.0)
    return {
        "file_bytes": BIG_FILE_BYTES,
        "part_bytes": PART_BYTES,
        "parallel": PARALLEL,
        "boto3_upload_file_s": round(boto3_s, 2),
        "boto3_mib_s": round(boto3_mib_s, 1),
        "client_upload_s": round(client_s, 2),
        "client_mib_s": round(client_mib_s, 1),
        "client_hashing_s": round(hashing_s, 2),
        "ratio": round(client_mib_s / boto3_mib_s, 2),
        "target_ratio": TARGET_RATIO,
        "passed": client_mib_s / boto3_mib_s >= TARGET_RATIO,
        "lambda_rows": rows,
        "multipart_lambda_ms_spread": round(max(multipart_totals) / max(min(multipart_totals), 1.0), 2),
        "multipart_lambda_cpu_spread": round(cpu_spread, 2),
        "cpu_spread_target": CPU_SPREAD_TARGET,
        "cpu_spread_passed": cpu_spread <= CPU_SPREAD_TARGET,
    }
