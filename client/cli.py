"""`caseroom`: upload a file or a folder to a case, download a gallery.

    caseroom --user clinician upload 7KQ2-M9XD-4RTA ./CBCT_folder --kind cbct
    caseroom --user clinician download 7KQ2-M9XD-4RTA initial-documentation --out ./files
    caseroom --api https://api.example --token "$ID_TOKEN" upload ...   (a deployed stack)

Against the local runtime, --user signs in with its dev sign-in (clinician, clinician2, lab).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from client.api import Api, ApiError, download_to
from client.uploads import Interrupted, StateFile, Uploader, default_state_folder, files_under

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="caseroom", description="CaseRoom command-line client")
    parser.add_argument("--api", default=os.environ.get("CASEROOM_API", "http://127.0.0.1:8000"))
    parser.add_argument(
        "--token", default=os.environ.get("CASEROOM_TOKEN"), help="an ID token (deployed stack)"
    )
    parser.add_argument("--user", help="local runtime only: sign in as this seeded user")
    commands = parser.add_subparsers(dest="command", required=True)

    upload = commands.add_parser("upload", help="upload a file or every file of a folder")
    upload.add_argument("case_id")
    upload.add_argument("path", type=Path)
    upload.add_argument("--kind", choices=["photo", "cbct", "scan", "xray", "video", "pdf", "other"])
    upload.add_argument("--gallery", default="initial-documentation")
    upload.add_argument("--part-size-mb", type=int, help="multipart part size (>= 5)")
    upload.add_argument("--parallel", type=int, default=4, help="parts in flight at once")
    upload.add_argument("--state-dir", type=Path, default=None, help="where resume state is kept")
    upload.add_argument("--wait", action="store_true", help="wait for verification and print the outcome")
    upload.add_argument("--stop-after-parts", type=int, help=argparse.SUPPRESS)  # resume tests

    download = commands.add_parser("download", help="download every available file of a gallery")
    download.add_argument("case_id")
    download.add_argument("gallery")
    download.add_argument("--out", type=Path, default=Path())
    return parser


def _say(line: str) -> None:
    sys.stderr.write(line)
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    api = Api(args.api, args.token)
    try:
        if not args.token and args.user:
            api.sign_in_local(args.user)
        if args.command == "upload":
            return _upload(api, args)
        return _download(api, args)
    except Interrupted as stopped:
        _say(f"\ninterrupted: {stopped}\n")
        return EXIT_INTERRUPTED
    except ApiError as error:
        _say(f"\nfailed: {error}\n")
        return EXIT_FAILED


def _upload(api: Api, args: argparse.Namespace) -> int:
    uploader = Uploader(
        api=api,
        state=StateFile(args.state_dir or default_state_folder()),
        parallel=args.parallel,
        out=_say,
        stop_after_parts=args.stop_after_parts,
    )
    part_size = args.part_size_mb * 1024 * 1024 if args.part_size_mb else None
    failed = 0
    for path in files_under(args.path):
        file_id = uploader.upload(args.case_id, path, args.gallery, args.kind, part_size)
        status = _wait(api, args.case_id, file_id) if args.wait else "pending"
        _say("\n")
        print(f"{file_id}\t{status}\t{path}", flush=True)
        failed += status == "quarantined"
    return EXIT_FAILED if failed else EXIT_OK


def _wait(api: Api, case_id: str, file_id: str, timeout_s: float = 300.0) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        status = str(api.call("GET", f"/cases/{case_id}/files/{file_id}")["status"])
        if status != "pending" or time.monotonic() > deadline:
            return status
        time.sleep(0.5)


def _download(api: Api, args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    cursor: str | None = None
    count = 0
    while True:
        query = f"?limit=100&cursor={cursor}" if cursor else "?limit=100"
        page = api.call("GET", f"/cases/{args.case_id}/galleries/{args.gallery}/files{query}")
        for item in page["items"]:
            if item["status"] != "available":
                continue
            link = api.call("GET", f"/cases/{args.case_id}/files/{item['fileId']}/download")
            target = _free_name(args.out, link["fileName"])
            download_to(link["url"], str(target))
            print(target, flush=True)
            count += 1
        cursor = page.get("nextCursor")
        if not cursor:
            break
    _say(f"{count} file(s) downloaded\n")
    return EXIT_OK


def _free_name(folder: Path, name: str) -> Path:
    safe = Path(name).name or "file"
    candidate, n = folder / safe, 1
    while candidate.exists():
        candidate = folder / f"{Path(safe).stem} ({n}){Path(safe).suffix}"
        n += 1
    return candidate
