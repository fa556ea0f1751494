"""Soak and restart: the durable local runtime under hours-like use, and how fast it comes back.

    python -m bench.soak [--cases 2000] [--clients 2]   -> bench/results/soak.{json,md,svg}

`python -m local --data-dir <tmp>` runs as a real process, as a developer starts it. Client
threads drive it over HTTP as a clinic and a lab would, case after case:
open a case, upload a photo (presigned POST straight to moto's S3, verified by file_verifier),
the lab moves it to Received and Ready to Plan, publishes a planning block, the clinician books
it, reads the case and the notification feed. A webhook endpoint on 127.0.0.1 receives every
status change, and the notifications function sends its emails: the whole event path runs.

Every SAMPLE_S the harness adds up the resident memory (VmRSS) of the runtime process and all
its descendants (DynamoDB Local's Java, any worker processes). Targets (issue 11): after
warm-up the last quarter of the run grows by < 5% (measured: mean RSS of the last tenth over the
mean of the tenth before the last quarter started), and the peak stays under 3 GB. The plot
(bench/results/soak.svg) is written by hand, with no plotting library.

Restart: the runtime is stopped (Ctrl-C) with all the soak's cases in its data directory and
started again; the time from process start until it answers `GET /cases` is reported.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.stats import median, percentile

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CASES = 2000
CLIENTS = 2
SAMPLE_S = 5.0
DEFAULT_IDLE_S = 420.0  # after the drive: longer than the sandboxes' idle limit (300 s) + a reaper pass
LIMIT_BYTES = 3 * 1024**3
GROWTH_LIMIT = 0.05
STARTUP_TIMEOUT_S = 180.0
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16  # 4 KiB
RX = {"patientName": "Soak Patient", "rxDescription": "Zirconia crown", "teeth": ["11"], "caseType": "crown"}


# -- the runtime process ---------------------------------------------------------------------


def _environment() -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("CASEROOM_", "AWS_"))}
    environment["PYTHONUNBUFFERED"] = "1"
    return environment


def start_runtime(data_dir: Path, log_path: Path) -> tuple[subprocess.Popen[bytes], str, float]:
    """Starts `python -m local`; returns the process, its API URL and seconds until it answered."""
    started = time.perf_counter()
    offset = log_path.stat().st_size if log_path.exists() else 0  # a restart appends to the log
    log = log_path.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "--log-level", "WARNING", "--port", "0", "--data-dir", str(data_dir)],
        cwd=REPO_ROOT,
        env=_environment(),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    base_url = ""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the runtime exited ({process.returncode}); see {log_path}")
        with log_path.open("rb") as stream:
            stream.seek(offset)
            text = stream.read().decode(errors="replace")
        if not base_url and "API base URL" in text:
            base_url = text.split("API base URL", 1)[1].split()[0]
        if base_url and _answers(base_url):
            return process, base_url, time.perf_counter() - started
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"the runtime did not answer within {STARTUP_TIMEOUT_S} s; see {log_path}")


def _answers(base_url: str) -> bool:
    """GET /cases answers (401 without a token): gateway, function and table are serving."""
    try:
        with urllib.request.urlopen(base_url + "/cases", timeout=5):
            return True
    except urllib.error.HTTPError as error:
        return error.code == 401
    except OSError:
        return False


def _printed(log_path: Path, label: str) -> str:
    """The URL the runtime's banner prints after `label` (the last start's)."""
    text = log_path.read_text(errors="replace")
    return text.rsplit(label, 1)[1].split()[0]


def stop_runtime(process: subprocess.Popen[bytes]) -> float:
    started = time.perf_counter()
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return time.perf_counter() - started


def tree_rss(pid: int) -> dict[str, int]:
    """Resident bytes of a process and all its descendants, by command name."""
    return tree(pid)[0]


def tree(pid: int) -> tuple[dict[str, int], dict[str, int]]:
    """Resident bytes and process counts of a process and all its descendants, by command name."""
    found: dict[str, int] = {}
    counts: dict[str, int] = {}
    pending = [pid]
    while pending:
        current = pending.pop()
        proc = Path(f"/proc/{current}")
        try:
            status = (proc / "status").read_text()
            for task in (proc / "task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
        name = next(line.split()[1] for line in status.splitlines() if line.startswith("Name:"))
        rss = next(
            (int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0
        )
        found[name] = found.get(name, 0) + rss
        counts[name] = counts.get(name, 0) + 1
    return found, counts


def queued_events(data_dir: Path) -> int:
    """Rule events matched but not yet delivered: the data directory holds one file per event
    until its handler succeeded (dead-letter queues not counted)."""
    events = data_dir / "events"
    if not events.is_dir():
        return 0
    return sum(
        len(list(queue.glob("*.json")))
        for queue in events.iterdir()
        if queue.is_dir() and not queue.name.endswith("-dlq")
    )


# -- the clinic ------------------------------------------------------------------------------


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    cases: int = 0
    requests: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    webhooks: int = 0

    def request(self, ms: float) -> None:
        with self.lock:
            self.requests += 1
            if len(self.latencies_ms) < 200_000:
                self.latencies_ms.append(ms)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors[what] = self.errors.get(what, 0) + 1


class Client:
    def __init__(self, base_url: str, token: str, tally: Tally) -> None:
        self.base_url, self.token, self.tally = base_url, token, tally

    def call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"authorization": f"Bearer {self.token}", "content-type": "application/json"}
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            error.read()
            self.tally.error(f"{method} {path.split('/')[1]} {error.code}")
            raise
        finally:
            self.tally.request((time.perf_counter() - started) * 1000)
        return json.loads(raw) if raw else None


def sign_in(base_url: str, user: str) -> str:
    request = urllib.request.Request(
        base_url + "/_local/sign-in",
        data=json.dumps({"user": user}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.loads(response.read())["idToken"])


def _post_form(url: str, fields: dict[str, str], data: bytes) -> None:
    boundary = "soak" + hashlib.sha256(data).hexdigest()[:16]
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.png"\r\n'
        "Content-Type: image/png\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        url,
        data=b"".join(parts),
        method="POST",
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()


def one_case(ana: Client, lab: Client, index: int) -> None:
    case = ana.call("POST", "/cases", RX)
    case_id = case["caseId"]
    photo = PNG + index.to_bytes(4, "big")
    ticket = ana.call(
        "POST",
        f"/cases/{case_id}/uploads",
        {
            "fileName": "smile.png",
            "kind": "photo",
            "sizeBytes": len(photo),
            "contentType": "image/png",
            "sha256": hashlib.sha256(photo).hexdigest(),
        },
    )
    _post_form(ticket["post"]["url"], ticket["post"]["fields"], photo)
    version = case["version"]
    for status in ("Received", "Ready to Plan"):
        version = lab.call("PUT", f"/cases/{case_id}/status", {"status": status, "version": version})[
            "version"
        ]
    # One block per case, an hour apart, ten a day, from tomorrow on: they never overlap.
    day = datetime.now(UTC).date() + timedelta(days=1 + index // 10)
    block = lab.call(
        "POST",
        "/lab/planning/blocks",
        {
            "start": f"{day.isoformat()}T{8 + index % 10:02d}:00",
            "durationMinutes": 45,
            "timezone": "UTC",
            "meetingUrl": "https://meet.lab.example/soak",
        },
    )
    ana.call("POST", f"/cases/{case_id}/planning", {"blockId": block["blockId"]})
    ana.call("GET", f"/cases/{case_id}")
    ana.call("GET", "/me/notifications?limit=20")


def _webhook_receiver(tally: Tally) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            with tally.lock:
                tally.webhooks += 1
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# -- the run ---------------------------------------------------------------------------------


def run(
    cases: int = DEFAULT_CASES,
    clients: int = CLIENTS,
    idle_s: float = DEFAULT_IDLE_S,
    max_drive_s: float = float("inf"),
) -> dict[str, Any]:
    """max_drive_s: no new case starts after this many seconds (a shared machine's time box);
    the results then say how many of the cases were driven."""
    load_at_start = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="caseroom-soak-"))
    data_dir, log_path = work / "data", work / "runtime.log"
    tally = Tally()
    receiver = _webhook_receiver(tally)
    process, base_url, first_start_s = start_runtime(data_dir, log_path)
    samples: list[dict[str, Any]] = []
    started = time.perf_counter()
    stop_sampling = threading.Event()

    def sample() -> None:
        while True:
            rss, processes = tree(process.pid)
            samples.append(
                {
                    "t": round(time.perf_counter() - started, 1),
                    "cases": tally.cases,
                    "rss": rss,
                    "processes": processes,
                    "total": sum(rss.values()),
                    "queuedEvents": queued_events(data_dir),
                }
            )
            if stop_sampling.wait(SAMPLE_S):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        ana = Client(base_url, sign_in(base_url, "clinician"), tally)
        lab = Client(base_url, sign_in(base_url, "lab"), tally)
        ana.call(
            "POST",
            "/webhooks",
            {"url": f"http://127.0.0.1:{receiver.server_port}/hooks", "eventTypes": ["CaseStatusChanged"]},
        )
        counter = iter(range(cases))
        counter_lock = threading.Lock()

        def drive() -> None:
            while True:
                with counter_lock:
                    index = next(counter, None)
                if index is None or time.perf_counter() - started > max_drive_s:
                    return
                if index % 500 == 0:  # tokens live an hour: sign in again now and then
                    ana.token, lab.token = sign_in(base_url, "clinician"), sign_in(base_url, "lab")
                try:
                    one_case(ana, lab, index)
                except (urllib.error.URLError, OSError, KeyError):
                    tally.error("case abandoned")
                with tally.lock:
                    tally.cases += 1
                if tally.cases % 100 == 0:
                    print(f"  {tally.cases} cases, {samples[-1]['total'] / 2**20:.0f} MiB", flush=True)

        threads = [threading.Thread(target=drive) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        drive_s = time.perf_counter() - started
        # Idle, still sampled: the backlog drains, then idle sandboxes are reaped (after
        # local.sandboxes.DEFAULT_IDLE_S, checked every 30 s), as Lambda recycles idle ones.
        time.sleep(idle_s)
    finally:
        stop_sampling.set()
        sampler.join()
        queued_at_stop = queued_events(data_dir)
        stop_s = stop_runtime(process)
    # Restart with every case in the data directory: time until it serves again.
    receiver.shutdown()
    try:
        restarted = restart(data_dir, log_path)
        restart_s, after_restart = restarted["restartToServingSeconds"], restarted["rssAfterRestart"]
    except RuntimeError as error:  # keep the soak's samples even if the restart fails
        print(f"restart failed: {error}", flush=True)
        restart_s, after_restart = float("nan"), {}
    results = _results(
        cases,
        clients,
        samples,
        tally,
        drive_s,
        first_start_s,
        restart_s,
        stop_s,
        after_restart,
        data_dir,
        work,
    )
    results["restart"]["queuedEventsAtStop"] = queued_at_stop
    results["conditions"] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpus": os.cpu_count(),
        "loadAverageAtStart": [round(x, 1) for x in load_at_start],
        "loadAverageAtEnd": [round(x, 1) for x in os.getloadavg()],
    }
    results["restart"]["eventsRestored"] = restarted_events(log_path)
    return results


def restarted_events(log_path: Path) -> str:
    """What the restart's banner said it kept (cases' table, files, timers, events, emails)."""
    try:
        return log_path.read_text(errors="replace").rsplit("  Data ", 1)[1].splitlines()[0].strip()
    except IndexError:
        return ""


def restart(data_dir: Path, log_path: Path) -> dict[str, Any]:
    """Starts the runtime on an existing data directory; seconds until `GET /cases` answers."""
    process, _, restart_s = start_runtime(data_dir, log_path)
    try:
        banner = log_path.read_text(errors="replace").rsplit("  Data ", 1)[1].splitlines()[0].strip()
        return {
            "restartToServingSeconds": round(restart_s, 2),
            "rssAfterRestart": tree_rss(process.pid),
            "banner": banner,
        }
    finally:
        stop_runtime(process)


def _mean(values: list[int]) -> float:
    return sum(values) / len(values) if values else 0.0


def _results(
    cases: int,
    clients: int,
    samples: list[dict[str, Any]],
    tally: Tally,
    drive_s: float,
    first_start_s: float,
    restart_s: float,
    stop_s: float,
    after_restart: dict[str, int],
    data_dir: Path,
    work: Path,
) -> dict[str, Any]:
    # The targets are about the drive (2,000 cases of use); the idle phase after it is reported
    # separately (backlog drained, sandboxes reaped).
    drive_samples = [sample for sample in samples if sample["t"] <= drive_s] or samples
    idle_samples = [sample for sample in samples if sample["t"] > drive_s]
    totals = [int(sample["total"]) for sample in drive_samples]
    tenth = max(1, len(totals) // 10)
    quarter_start = (len(totals) * 3) // 4
    before_last_quarter = _mean(totals[max(0, quarter_start - tenth) : quarter_start])
    last_tenth = _mean(totals[-tenth:])
    growth = (last_tenth - before_last_quarter) / before_last_quarter if before_last_quarter else 0.0
    peak = max([int(sample["total"]) for sample in samples] or [0])

    def sandboxes(sample: dict[str, Any]) -> int:
        return max(0, int(sample.get("processes", {}).get("python", 1)) - 1)  # less the runtime itself

    idle = {
        "seconds": round(idle_samples[-1]["t"] - drive_s, 1) if idle_samples else 0,
        "sandboxesAtEndOfDrive": sandboxes(drive_samples[-1]) if drive_samples else None,
        "sandboxesMaxDuringIdle": max((sandboxes(s) for s in idle_samples), default=None),
        "sandboxesAtEnd": sandboxes(idle_samples[-1]) if idle_samples else None,
        "rssAtEndBytes": int(idle_samples[-1]["total"]) if idle_samples else None,
        "queuedEventsAtEndOfDrive": drive_samples[-1].get("queuedEvents") if drive_samples else None,
        "backlogDrainedAfterSeconds": next(
            (round(s["t"] - drive_s, 1) for s in idle_samples if s.get("queuedEvents") == 0), None
        ),
    }
    data_bytes = sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file())
    return {
        "cases": cases,
        "casesDriven": tally.cases,
        "clients": clients,
        "requests": tally.requests,
        "errors": tally.errors,
        "webhooksReceived": tally.webhooks,
        "driveSeconds": round(drive_s, 1),
        "casesPerSecond": round(tally.cases / drive_s, 2) if drive_s else 0,
        "latencyMs": {
            "p50": round(median(tally.latencies_ms), 1) if tally.latencies_ms else None,
            "p99": round(percentile(tally.latencies_ms, 0.99), 1) if tally.latencies_ms else None,
        },
        "rss": {
            "peakBytes": peak,
            "beforeLastQuarterBytes": round(before_last_quarter),
            "lastTenthBytes": round(last_tenth),
            "lastQuarterGrowth": round(growth, 4),
            "byProcessAtEnd": samples[-1]["rss"] if samples else {},
            "afterRestartBytes": sum(after_restart.values()),
        },
        "targets": {
            "lastQuarterGrowthUnder5Percent": growth < GROWTH_LIMIT,
            "peakUnder3GB": peak < LIMIT_BYTES,
            "no5xx": not any(key.endswith((" 500", " 502", " 503", " 504")) for key in tally.errors),
        },
        "restart": {
            "firstStartSeconds": round(first_start_s, 2),
            "stopSeconds": round(stop_s, 2),
            "restartToServingSeconds": round(restart_s, 2),
            "casesInDataDir": tally.cases,
            "dataDirBytes": data_bytes,
        },
        "queuedEventsAtEnd": samples[-1].get("queuedEvents") if samples else None,
        "idle": idle,
        "samples": samples,
        "workDir": str(work),
    }


def svg(results: dict[str, Any], width: int = 760, height: int = 360) -> str:
    """Resident memory over time (total and per process), as a plain SVG line chart."""
    samples = results["samples"]
    left, right, top, bottom = 70, 20, 40, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    t_max = max((s["t"] for s in samples), default=1) or 1
    names = sorted({name for s in samples for name in s["rss"]})
    y_max = max((s["total"] for s in samples), default=1) * 1.1 or 1
    y_max = max(y_max, 256 * 2**20)

    def point(t: float, value: float) -> str:
        return f"{left + plot_w * t / t_max:.1f},{top + plot_h * (1 - value / y_max):.1f}"

    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="22" font-size="14">Local runtime resident memory, '
        f"{results['casesDriven']} cases ({results['driveSeconds']:.0f} s)</text>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="black"/>',
    ]
    for i in range(5):
        value = y_max * i / 4
        y = top + plot_h * (1 - i / 4)
        lines.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{value / 2**20:.0f} MiB</text>')
        lines.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ddd"/>')
    for i in range(5):
        t = t_max * i / 4
        x = left + plot_w * i / 4
        lines.append(f'<text x="{x:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{t:.0f} s</text>')
    series = [("total", lambda s: s["total"])] + [(n, lambda s, n=n: s["rss"].get(n, 0)) for n in names]
    for index, (name, value_of) in enumerate(series):
        colour = colours[index % len(colours)]
        path = " ".join(point(s["t"], value_of(s)) for s in samples)
        lines.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{path}"/>')
        lines.append(f'<text x="{left + 10 + 110 * index}" y="{height - 12}" fill="{colour}">{name}</text>')
    lines.append("</svg>")
    return "\n".join(lines) + "\n"


def markdown(results: dict[str, Any]) -> str:
    rss, restart, targets = results["rss"], results["restart"], results["targets"]
    idle = results["idle"]
    conditions = results.get("conditions", {})
    mib = 2**20

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    by_process = ", ".join(
        f"{name} {value / mib:.0f} MiB" for name, value in sorted(rss["byProcessAtEnd"].items())
    )
    return "\n".join(
        [
            "## Soak and restart (`python -m bench.soak`)",
            "",
            f"{conditions.get('date', '')}, {conditions.get('cpus', '?')} CPUs shared with other work: "
            f"load average (1/5/15 min) {conditions.get('loadAverageAtStart')} at start, "
            f"{conditions.get('loadAverageAtEnd')} at the end.",
            "",
            f"{results['casesDriven']} of {results['cases']} cases, {results['clients']} client threads, "
            f"{results['requests']} API requests in {results['driveSeconds']:.0f} s "
            f"({results['casesPerSecond']} cases/s; request p50 {results['latencyMs']['p50']} ms, "
            f"p99 {results['latencyMs']['p99']} ms); {results['webhooksReceived']} signed webhooks received "
            f"during the run; rule events queued but not yet delivered at the end: "
            f"{results.get('queuedEventsAtEnd', 'not sampled')}. "
            f"Errors: {results['errors'] or 'none'}.",
            "",
            "| Measure | Value | Target |",
            "|---|---|---|",
            f"| Peak resident memory, runtime + all descendants | {rss['peakBytes'] / mib:.0f} MiB | "
            f"< 3 GB: {verdict(targets['peakUnder3GB'])} |",
            f"| Growth over the last quarter (mean of last tenth vs the tenth before the last quarter) | "
            f"{rss['lastQuarterGrowth'] * 100:+.1f}% | "
            f"< 5%: {verdict(targets['lastQuarterGrowthUnder5Percent'])} |",
            f"| Resident memory at the end, by process | {by_process} | |",
            f"| 5xx answers | {'none' if targets['no5xx'] else 'some'} | none: {verdict(targets['no5xx'])} |",
            f"| First start (empty data dir) to serving | {restart['firstStartSeconds']} s | |",
            f"| Idle after the drive: backlog of {idle['queuedEventsAtEndOfDrive']} events drained after | "
            f"{idle['backlogDrainedAfterSeconds']} s | |",
            f"| Sandbox processes: end of drive / most while idle / after {idle['seconds']:.0f} s idle | "
            f"{idle['sandboxesAtEndOfDrive']} / {idle['sandboxesMaxDuringIdle']} / "
            f"{idle['sandboxesAtEnd']} | "
            "reaped after 5 min idle |",
            f"| Resident memory after the idle phase | {(idle['rssAtEndBytes'] or 0) / mib:.0f} MiB | |",
            f"| Ctrl-C to stopped ({restart.get('queuedEventsAtStop', '?')} events queued) | "
            f"{restart['stopSeconds']} s | < 3 s: {verdict(restart['stopSeconds'] < 3)} |",
            f"| Restart with {restart['casesInDataDir']} cases to serving `GET /cases` | "
            f"{restart['restartToServingSeconds']} s | |",
            f"| What the restart kept (its banner) | {restart.get('eventsRestored', '')} | |",
            f"| Data directory size | {restart['dataDirBytes'] / mib:.1f} MiB | |",
            "",
            "![resident memory](soak.svg)",
            "",
        ]
    )


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.soak")
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument(
        "--idle", type=float, default=DEFAULT_IDLE_S, help="seconds sampled idle after the drive"
    )
    parser.add_argument(
        "--max-drive-s", type=float, default=float("inf"), help="start no new case after this many seconds"
    )
    parser.add_argument(
        "--restart-only", type=Path, metavar="DATA_DIR", help="only time a restart on this data directory"
    )
    args = parser.parse_args(argv)
    if args.restart_only:
        restarted = restart(args.restart_only, args.restart_only.parent / "restart.log")
        print(json.dumps(restarted, indent=1))
        return 0
    results = run(args.cases, args.clients, args.idle, args.max_drive_s)
    out = REPO_ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "soak.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / "soak.svg").write_text(svg(results))
    (out / "soak.md").write_text(markdown(results))
    print(markdown(results))
    return 0 if all(results["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
