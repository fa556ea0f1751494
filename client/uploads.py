"""Uploading one file: declare it, send the bytes straight to S3 (one POST, or parallel parts),
and resume an interrupted multipart upload from a small JSON state file."""

from __future__ import annotations

import hashlib
import json
import math
import mimetypes
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from client.api import Api, ApiError, post_form, put_bytes

MiB = 1024 * 1024
MIN_PART_BYTES = 5 * MiB  # S3's minimum for every part but the last
DEFAULT_PART_BYTES = 16 * MiB
MAX_PARTS = 10_000
URL_BATCH = 100

KIND_BY_SUFFIX = {
    ".dcm": "cbct",
    ".dicom": "cbct",
    ".stl": "scan",
    ".ply": "scan",
    ".obj": "scan",
    ".jpg": "photo",
    ".jpeg": "photo",
    ".png": "photo",
    ".pdf": "pdf",
    ".mp4": "video",
    ".mov": "video",
}
TYPE_BY_SUFFIX = {
    ".dcm": "application/dicom",
    ".dicom": "application/dicom",
    ".stl": "model/stl",
    ".ply": "model/ply",
    ".obj": "model/obj",
    ".mov": "video/quicktime",
}


class Interrupted(Exception):
    """Stopped on purpose (stop_after_parts) or by a failure; the state file allows a resume."""


@dataclass
class Declared:
    path: Path
    size: int
    sha256: str
    part_size: int
    part_sha256: list[str]
    kind: str
    content_type: str


def plan_part_size(size: int, requested: int | None) -> int:
    if requested:
        return max(requested, MIN_PART_BYTES)
    return max(DEFAULT_PART_BYTES, math.ceil(size / MAX_PARTS / MiB) * MiB)


def declare(path: Path, kind: str | None, part_size: int | None) -> Declared:
    """One read of the file: its SHA-256 and each part's (the part URLs sign them in)."""
    size = path.stat().st_size
    part_bytes = plan_part_size(size, part_size)
    whole = hashlib.sha256()
    parts: list[str] = []
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(part_bytes), b""):
            whole.update(chunk)
            parts.append(hashlib.sha256(chunk).hexdigest())
    suffix = path.suffix.lower()
    content_type = (
        TYPE_BY_SUFFIX.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )
    return Declared(
        path=path,
        size=size,
        sha256=whole.hexdigest(),
        part_size=part_bytes,
        part_sha256=parts,
        kind=kind or KIND_BY_SUFFIX.get(suffix, "other"),
        content_type=content_type,
    )


class Progress:
    """Plain-text progress on one line (stderr), throttled to a few updates a second."""

    def __init__(self, label: str, total: int, out: Callable[[str], None]) -> None:
        self.label, self.total, self.done = label, max(total, 1), 0
        self._out, self._lock, self._started, self._last = out, threading.Lock(), time.monotonic(), 0.0

    def add(self, count: int) -> None:
        with self._lock:
            self.done += count
            now = time.monotonic()
            if now - self._last >= 0.25 or self.done >= self.total:
                self._last = now
                rate = self.done / max(now - self._started, 1e-6) / MiB
                bar = "#" * int(30 * self.done / self.total)
                self._out(
                    f"\r{self.label} [{bar:<30}] {100 * self.done // self.total:3d}% "
                    f"{self.done / MiB:.1f}/{self.total / MiB:.1f} MiB {rate:.1f} MiB/s"
                )


class StateFile:
    """{caseId, fileId, sha256, size, partSize}: enough to find the upload again after a crash."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, case_id: str, declared: Declared) -> Path:
        return self.folder / f"{case_id}-{declared.sha256[:32]}-{declared.size}.json"

    def load(self, case_id: str, declared: Declared) -> dict[str, Any] | None:
        path = self._path(case_id, declared)
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return state if isinstance(state, dict) and state.get("partSize") == declared.part_size else None

    def save(self, case_id: str, declared: Declared, file_id: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(case_id, declared)
        partial = path.with_suffix(".partial")
        partial.write_text(
            json.dumps(
                {
                    "caseId": case_id,
                    "fileId": file_id,
                    "sha256": declared.sha256,
                    "size": declared.size,
                    "partSize": declared.part_size,
                }
            )
        )
        partial.replace(path)

    def clear(self, case_id: str, declared: Declared) -> None:
        self._path(case_id, declared).unlink(missing_ok=True)


@dataclass
class Uploader:
    api: Api
    state: StateFile
    parallel: int = 4
    out: Callable[[str], None] = lambda _line: None
    stop_after_parts: int | None = None  # testing resume: stop after this many parts this run

    def upload(
        self, case_id: str, path: Path, gallery: str, kind: str | None = None, part_size: int | None = None
    ) -> str:
        declared = declare(path, kind, part_size)
        previous = self.state.load(case_id, declared)
        if previous is not None:
            resumed = self._resume(case_id, declared, str(previous["fileId"]))
            if resumed is not None:
                return resumed
        ticket = self.api.call(
            "POST",
            f"/cases/{case_id}/uploads",
            {
                "fileName": path.name,
                "kind": declared.kind,
                "sizeBytes": declared.size,
                "contentType": declared.content_type,
                "sha256": declared.sha256,
                "galleryId": gallery,
                "partSizeBytes": declared.part_size,
            },
        )
        file_id = str(ticket["fileId"])
        progress = Progress(path.name, declared.size, self.out)
        if ticket["mode"] == "post":
            post_form(
                ticket["post"]["url"],
                ticket["post"]["fields"],
                str(path),
                declared.size,
                declared.content_type,
            )
            progress.add(declared.size)
            return file_id
        self.state.save(case_id, declared, file_id)
        self._send_parts(case_id, file_id, declared, {}, progress)
        return file_id

    def _resume(self, case_id: str, declared: Declared, file_id: str) -> str | None:
        try:
            state = self.api.call("GET", f"/cases/{case_id}/uploads/{file_id}")
        except ApiError:
            return None
        if state["status"] != "pending" or state["completed"]:
            self.state.clear(case_id, declared)
            return file_id if state["status"] in ("available", "pending") else None
        received = {int(p["partNumber"]): str(p["etag"]) for p in state["receivedParts"]}
        progress = Progress(declared.path.name, declared.size, self.out)
        progress.add(sum(self._part_length(declared, n) for n in received))
        total = len(declared.part_sha256)
        self.out(f"\nresuming {declared.path.name}: {len(received)} of {total} parts already sent\n")
        self._send_parts(case_id, file_id, declared, received, progress)
        return file_id

    @staticmethod
    def _part_length(declared: Declared, number: int) -> int:
        return min(declared.part_size, declared.size - (number - 1) * declared.part_size)

    def _send_parts(
        self, case_id: str, file_id: str, declared: Declared, etags: dict[int, str], progress: Progress
    ) -> None:
        base = f"/cases/{case_id}/uploads/{file_id}"
        missing = [n for n in range(1, len(declared.part_sha256) + 1) if n not in etags]
        budget = self.stop_after_parts
        lock = threading.Lock()

        def send(number: int, url: str, headers: dict[str, str]) -> None:
            offset = (number - 1) * declared.part_size
            with declared.path.open("rb") as source:
                source.seek(offset)
                data = source.read(self._part_length(declared, number))
            etag = put_bytes(url, data, headers)
            with lock:
                etags[number] = etag
            progress.add(len(data))

        for start in range(0, len(missing), URL_BATCH):
            batch = missing[start : start + URL_BATCH]
            if budget is not None:
                batch = batch[: max(budget, 0)]
                budget -= len(batch)
            if not batch:
                break
            urls = self.api.call(
                "POST",
                f"{base}/part-urls",
                {"parts": [{"partNumber": n, "sha256": declared.part_sha256[n - 1]} for n in batch]},
            )
            with ThreadPoolExecutor(max_workers=self.parallel) as pool:
                for future in [
                    pool.submit(send, p["partNumber"], p["url"], p["headers"]) for p in urls["parts"]
                ]:
                    future.result()
        if len(etags) < len(declared.part_sha256):
            raise Interrupted(f"{len(etags)} of {len(declared.part_sha256)} parts sent; run again to resume")
        self.api.call(
            "POST",
            f"{base}/complete",
            {
                "parts": [
                    {"partNumber": n, "etag": etags[n], "sha256": declared.part_sha256[n - 1]}
                    for n in sorted(etags)
                ]
            },
        )
        self.state.clear(case_id, declared)


def files_under(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))


def default_state_folder() -> Path:
    return Path(os.environ.get("CASEROOM_STATE_DIR") or Path.home() / ".caseroom" / "uploads")
