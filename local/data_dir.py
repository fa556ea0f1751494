"""The local runtime's data directory (`.caseroom/` by default): what survives a restart.

    .caseroom/
      caseroom-data.json   marker: a CaseRoom data directory (and its layout version)
      lock                 held (flock) by the one runtime using the directory
      dynamodb/            DynamoDB Local's database file: the table, its indexes and stream
      s3/<bucket>/objects/ one file per object key: every version, bytes included
      s3/<bucket>/uploads/ one file per multipart upload in progress, its parts included
      timers/              one file per pending EventBridge Scheduler schedule (the app's timers)
      events/<queue>/      one file per rule event matched but not yet delivered (or in a DLQ)
      mailbox/             one file per email SES accepted (the newest MAILBOX_LIMIT are kept)
      relay.json           the outbox relay's stream position (where the Pipe resumes)
      events.json          (older layouts: rule events kept at a clean stop; read once, then events/)
      ports.json           moto's last port, taken again if free (presigned URLs stay valid)
      cursor.key           the cursor-signing key (CASEROOM_CURSOR_KEY_FILE)

Files and timers stay in moto (S3 presigned POST and multipart, EventBridge pattern matching and
Scheduler are what moto does well) and are written through to disk: each S3 or Scheduler call
that changes something writes the changed object, upload or timer to its file (written to
a temporary file, fsynced, renamed) before moto answers the call. moto serves one request at a
time, so nothing can observe a change, not even the ObjectCreated event that leads a handler to
record a file as available, before it is on disk. A table record therefore never points at bytes
that are not on disk, even if the process is killed at any moment.

Rule events and emails are written through the same way: EventBridge puts each matched event
into its rule's SQS queue with moto's SQSBackend.send_message, which writes the message to
events/<queue>/<message id>.json before put_events answers the relay (and the relay stores its
stream position only after that); deleting the message after its handler succeeded removes the
file. So a kill -9 loses no matched event: a start queues every file again (delivered at least
once, as EventBridge does; consumers are idempotent on the event id). These small files are not
fsynced (a killed process loses nothing the kernel holds; only a machine crash could), which
keeps a backlog of thousands of events cheap to write; objects, uploads and timers are.

Why write-through on moto rather than a file-backed S3: moto's S3 already implements what
CaseRoom uses of S3 (presigned POST policies, multipart with checksums, versioning, EventBridge
notifications); a second S3 would have to redo all of that. Why not only a snapshot on a clean
stop: a killed process would lose every file since the last stop while the table (DynamoDB
Local commits each write) kept the records pointing at them. The objects are stored as pickles
of moto's own object models (every version id, checksum and metadata kept exactly); moto is
pinned by requirements.lock, and a data directory from another moto version that cannot be read
fails the start with a clear message (use --fresh).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import pickle
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

LOG = logging.getLogger(__name__)

DEFAULT_DATA_DIR = Path(".caseroom")
MARKER = "caseroom-data.json"
LAYOUT_VERSION = 1


class DataDirError(RuntimeError):
    pass


def write_atomically(path: Path, data: bytes, *, sync: bool = True) -> None:
    """The whole new content or the old one, never a torn file, even on a kill.
    sync=False skips the fsync: still whole after a killed process, not after a machine crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
    with temporary.open("wb") as stream:
        stream.write(data)
        if sync:
            stream.flush()
            os.fsync(stream.fileno())
    os.replace(temporary, path)


@dataclass
class DataDir:
    root: Path
    _lock_file: IO[str] | None = None

    @classmethod
    def open(cls, root: Path, *, fresh: bool = False) -> DataDir:
        """Opens (creating if needed) and locks a data directory; fresh=True empties it first.

        Refuses a non-empty directory that is not a CaseRoom data directory: --fresh must never
        delete somebody's files."""
        root = root.resolve()
        if root.exists() and not root.is_dir():
            raise DataDirError(f"{root} is not a directory")
        marker = root / MARKER
        if root.exists() and any(root.iterdir()) and not marker.is_file():
            raise DataDirError(f"{root} is not empty and not a CaseRoom data directory; choose another")
        root.mkdir(parents=True, exist_ok=True)
        data = cls(root)
        data._lock()
        if fresh:
            for entry in root.iterdir():
                if entry.name in ("lock", MARKER):
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        if marker.is_file():
            layout = json.loads(marker.read_text(encoding="utf-8")).get("layout")
            if layout != LAYOUT_VERSION:
                data.close()
                raise DataDirError(f"{root} has data layout {layout}, this runtime reads {LAYOUT_VERSION}")
        else:
            write_atomically(marker, json.dumps({"layout": LAYOUT_VERSION}).encode())
        return data

    def _lock(self) -> None:
        lock_file = (self.root / "lock").open("w", encoding="utf-8")
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock_file.close()
            raise DataDirError(f"{self.root} is in use by another running runtime") from None
        self._lock_file = lock_file

    def close(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    @property
    def dynamodb_dir(self) -> Path:
        return self.root / "dynamodb"

    @property
    def s3_dir(self) -> Path:
        return self.root / "s3"

    @property
    def timers_dir(self) -> Path:
        return self.root / "timers"

    @property
    def events_dir(self) -> Path:
        return self.root / "events"

    @property
    def mailbox_dir(self) -> Path:
        return self.root / "mailbox"

    @property
    def relay_file(self) -> Path:
        return self.root / "relay.json"

    @property
    def ports_file(self) -> Path:
        return self.root / "ports.json"

    @property
    def events_file(self) -> Path:
        return self.root / "events.json"

    @property
    def cursor_key_file(self) -> Path:
        return self.root / "cursor.key"

    # -- small JSON documents ------------------------------------------------------------------

    def read_json(self, path: Path, default: Any) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return default

    def write_json(self, path: Path, value: Any) -> None:
        write_atomically(path, json.dumps(value, sort_keys=True).encode())


def _file_name(name: str) -> str:
    # Object keys and upload ids may hold '/', and may be longer than a file name may be.
    return hashlib.sha256(name.encode()).hexdigest() + ".pkl"


class MotoPersistence:
    """Writes moto's S3 objects, multipart uploads and Scheduler schedules through to the data
    directory, and loads them back into a fresh moto on start (without firing any event)."""

    def __init__(self, data: DataDir, account_id: str, region: str) -> None:
        self._data = data
        self._account_id = account_id
        self._region = region
        self._patches: list[tuple[Any, str, Any]] = []
        self._lock = threading.Lock()
        self._emails_saved = 0

    # -- restore -------------------------------------------------------------------------------

    def restore(self) -> dict[str, int]:
        """Loads every stored object, upload and timer into moto; the buckets and schedule
        groups must exist already. Returns counts (objects, uploads, timers)."""
        counts = {"objects": 0, "uploads": 0, "timers": 0}
        s3 = self._s3_backend()
        for bucket_dir in sorted(p for p in self._data.s3_dir.glob("*") if p.is_dir()):
            bucket = s3.buckets.get(bucket_dir.name)
            if bucket is None:
                LOG.warning("data directory holds files of unknown bucket %s; left alone", bucket_dir.name)
                continue
            for path in sorted((bucket_dir / "objects").glob("*.pkl")):
                stored = self._load(path)
                bucket.keys.setlist(stored["key"], stored["versions"])
                counts["objects"] += 1
            for path in sorted((bucket_dir / "uploads").glob("*.pkl")):
                upload = self._load(path)
                bucket.multiparts[upload.id] = upload
                counts["uploads"] += 1
        scheduler = self._scheduler_backend()
        for path in sorted(self._data.timers_dir.glob("*.pkl")):
            stored = self._load(path)
            group = scheduler.schedule_groups.get(stored["group"])
            if group is None:
                LOG.warning("data directory holds timers of unknown group %s; left alone", stored["group"])
                continue
            for schedule in stored["schedules"]:
                group.add_schedule(schedule)
                counts["timers"] += 1
        counts["events"] = self._restore_events()
        counts["emails"] = self._restore_mailbox()
        return counts

    def _restore_events(self) -> int:
        """Queues every stored rule event again, with its message id (its file goes when the
        message is deleted). Straight into moto's queues, in process: nothing talks to moto yet."""
        from moto.sqs.models import Message

        queues = self._sqs_backend().queues
        restored = 0
        for queue_dir in sorted(p for p in self._data.events_dir.glob("*") if p.is_dir()):
            queue = queues.get(queue_dir.name)
            if queue is None:
                LOG.warning("data directory holds events of unknown queue %s; left alone", queue_dir.name)
                continue
            stored = []
            for path in queue_dir.glob("*.json"):
                try:
                    stored.append(json.loads(path.read_text(encoding="utf-8")))
                except ValueError:  # cannot happen with write_atomically; never block a start on it
                    LOG.error("unreadable event file %s skipped", path)
            for item in sorted(stored, key=lambda item: int(item.get("queuedAt", 0))):
                message = Message(item["id"], item["body"])
                message.mark_sent()
                queue.add_message(message)
                restored += 1
        return restored

    def restore_legacy_events(self, kept: dict[str, list[str]]) -> int:
        """Events an older runtime kept in events.json at a clean stop: queued and written as files."""
        import uuid

        from moto.sqs.models import Message

        queues = self._sqs_backend().queues
        restored = 0
        for name, bodies in kept.items():
            queue = queues.get(name)
            if queue is None:
                LOG.warning("kept events of unknown queue %s dropped", name)
                continue
            for body in bodies:
                message = Message(str(uuid.uuid4()), body)
                message.mark_sent()
                queue.add_message(message)
                self._save_event(name, message.id, body)
                restored += 1
        return restored

    def _restore_mailbox(self) -> int:
        from local.aws_backend import MAILBOX_LIMIT

        paths = sorted(self._data.mailbox_dir.glob("*.pkl"))
        for path in paths[:-MAILBOX_LIMIT]:
            path.unlink(missing_ok=True)
        sent = self._ses_backend().sent_messages
        for path in paths[-MAILBOX_LIMIT:]:
            sent.append(self._load(path))
        return len(paths[-MAILBOX_LIMIT:])

    @staticmethod
    def _load(path: Path) -> Any:
        try:
            return pickle.loads(path.read_bytes())  # noqa: S301 - our own files, written by this module
        except Exception as exc:  # any unpickling failure means the same thing to the user
            raise DataDirError(
                f"cannot read {path} ({type(exc).__name__}); it was written by another moto version? "
                "Start with --fresh to begin with an empty data directory."
            ) from exc

    # -- write-through -------------------------------------------------------------------------

    def activate(self) -> None:
        """Wraps moto's mutating S3 and Scheduler calls; deactivate() unwraps them."""
        from moto.s3.models import S3Backend
        from moto.scheduler.models import EventBridgeSchedulerBackend

        def by_key(arguments: dict[str, Any]) -> Iterator[tuple[str, str]]:
            yield arguments["bucket_name"], arguments["key_name"]

        def deleted_keys(arguments: dict[str, Any]) -> Iterator[tuple[str, str]]:
            for item in arguments["objects"]:
                yield arguments["bucket_name"], item["Key"]

        self._wrap_s3(S3Backend, "put_object", by_key)
        self._wrap_s3(S3Backend, "delete_object", by_key)
        self._wrap_s3(S3Backend, "delete_objects", deleted_keys)
        self._wrap_s3(S3Backend, "create_multipart_upload", by_key, upload_from_result=True)
        self._wrap_s3(S3Backend, "upload_part", None, upload_argument="multipart_id")
        self._wrap_s3(S3Backend, "upload_part_copy", None, upload_argument="multipart_id")
        self._wrap_s3(S3Backend, "abort_multipart_upload", None, upload_argument="multipart_id")
        # put_object (called inside it) stores the object; this drops the finished upload.
        self._wrap_s3(S3Backend, "complete_multipart_upload", None, upload_argument="multipart_id")
        for name in ("create_schedule", "update_schedule", "delete_schedule"):
            self._wrap(EventBridgeSchedulerBackend, name, self._after_timer_change)
        self._wrap_sqs()
        self._wrap_ses()

    def _wrap_sqs(self) -> None:
        """Every message sent to a queue (EventBridge's rule targets, the dispatcher's DLQ sends) is
        a file until it is deleted."""
        from moto.sqs.models import SQSBackend

        send_message, delete_message = SQSBackend.send_message, SQSBackend.delete_message

        def send(backend: Any, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
            message = send_message(backend, queue_name, message_body, *args, **kwargs)
            if getattr(backend, "account_id", None) == self._account_id:
                self._save_event(queue_name, message.id, message_body)
            return message

        def delete(backend: Any, queue_name: str, receipt_handle: str) -> None:
            ids = []
            if getattr(backend, "account_id", None) == self._account_id:
                queue = backend.get_queue(queue_name)
                ids = [m.id for m in queue._messages if m.had_receipt_handle(receipt_handle)]
            delete_message(backend, queue_name, receipt_handle)
            for message_id in ids:
                (self._data.events_dir / queue_name / f"{message_id}.json").unlink(missing_ok=True)

        wrappers: tuple[tuple[str, Any, Any], ...] = (
            ("send_message", send, send_message),
            ("delete_message", delete, delete_message),
        )
        for name, wrapper, original in wrappers:
            wrapper.__wrapped__ = original
            self._patches.append((SQSBackend, name, original))
            setattr(SQSBackend, name, wrapper)

    def _save_event(self, queue_name: str, message_id: str, body: str) -> None:
        document = {"id": message_id, "body": body, "queuedAt": time.time_ns()}
        path = self._data.events_dir / queue_name / f"{message_id}.json"
        write_atomically(path, json.dumps(document).encode(), sync=False)

    def _wrap_ses(self) -> None:
        """Every email SES accepts (v1 and v2 both append to the v1 backend's sent_messages)."""
        from moto.ses.models import SESBackend

        for name in ("send_email", "send_templated_email", "send_bulk_templated_email", "send_raw_email"):
            original = getattr(SESBackend, name)

            def wrapper(backend: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
                before = len(backend.sent_messages)
                result = _original(backend, *args, **kwargs)
                if getattr(backend, "account_id", None) == self._account_id:
                    for message in backend.sent_messages[before:]:
                        self._save_email(message)
                return result

            wrapper.__wrapped__ = original  # type: ignore[attr-defined]
            self._patches.append((SESBackend, name, original))
            setattr(SESBackend, name, wrapper)

    def _save_email(self, message: Any) -> None:
        from local.aws_backend import MAILBOX_LIMIT

        with self._lock:
            self._emails_saved += 1
            name = f"{time.time_ns():020d}-{self._emails_saved:08d}.pkl"
            write_atomically(self._data.mailbox_dir / name, pickle.dumps(message), sync=False)
            if self._emails_saved % 100 == 0:  # keep the newest MAILBOX_LIMIT, as the mailbox does
                for path in sorted(self._data.mailbox_dir.glob("*.pkl"))[:-MAILBOX_LIMIT]:
                    path.unlink(missing_ok=True)

    def deactivate(self) -> None:
        while self._patches:
            owner, name, original = self._patches.pop()
            setattr(owner, name, original)

    def _wrap(self, owner: Any, name: str, after: Callable[[dict[str, Any], Any], None]) -> None:
        import inspect

        original = getattr(owner, name)
        signature = inspect.signature(original)

        def wrapper(backend: Any, *args: Any, **kwargs: Any) -> Any:
            result = original(backend, *args, **kwargs)
            if getattr(backend, "account_id", None) == self._account_id:
                bound = signature.bind(backend, *args, **kwargs)
                bound.apply_defaults()
                after(dict(bound.arguments), result)
            return result

        wrapper.__wrapped__ = original  # type: ignore[attr-defined]
        self._patches.append((owner, name, original))
        setattr(owner, name, wrapper)

    def _wrap_s3(
        self,
        owner: Any,
        name: str,
        keys: Callable[[dict[str, Any]], Iterator[tuple[str, str]]] | None,
        *,
        upload_argument: str | None = None,
        upload_from_result: bool = False,
    ) -> None:
        def after(arguments: dict[str, Any], result: Any) -> None:
            bucket_name = arguments.get("bucket_name") or arguments.get("dest_bucket_name")
            with self._lock:
                for bucket, key in keys(arguments) if keys else ():
                    self._save_object(bucket, key)
                if upload_argument:
                    self._save_upload(str(bucket_name), arguments[upload_argument])
                if upload_from_result:
                    self._save_upload(str(bucket_name), result.id)

        self._wrap(owner, name, after)

    def _save_object(self, bucket_name: str, key_name: str) -> None:
        bucket = self._s3_backend().buckets.get(bucket_name)
        path = self._data.s3_dir / bucket_name / "objects" / _file_name(key_name)
        versions = bucket.keys.getlist(key_name, []) if bucket is not None else []
        if versions:
            write_atomically(path, pickle.dumps({"key": key_name, "versions": list(versions)}))
        else:
            path.unlink(missing_ok=True)

    def _save_upload(self, bucket_name: str, upload_id: str) -> None:
        bucket = self._s3_backend().buckets.get(bucket_name)
        path = self._data.s3_dir / bucket_name / "uploads" / _file_name(upload_id)
        upload = bucket.multiparts.get(upload_id) if bucket is not None else None
        if upload is not None:
            write_atomically(path, pickle.dumps(upload))
        else:
            path.unlink(missing_ok=True)

    def _after_timer_change(self, arguments: dict[str, Any], _result: Any) -> None:
        # One file per timer: a change rewrites only that timer, however many are pending.
        group_name = arguments.get("group_name") or "default"
        name = str(arguments["name"])
        with self._lock:
            group = self._scheduler_backend().schedule_groups.get(group_name)
            schedule = group.schedules.get(name) if group is not None else None
            path = self._data.timers_dir / _file_name(f"{group_name}/{name}")
            if schedule is not None:
                write_atomically(path, pickle.dumps({"group": group_name, "schedules": [schedule]}))
            else:
                path.unlink(missing_ok=True)

    def _s3_backend(self) -> Any:
        from moto.s3.models import s3_backends

        return s3_backends[self._account_id][self._partition()]

    def _sqs_backend(self) -> Any:
        from moto.sqs.models import sqs_backends

        return sqs_backends[self._account_id][self._region]

    def _ses_backend(self) -> Any:
        from moto.ses.models import ses_backends

        return ses_backends[self._account_id][self._region]

    def _scheduler_backend(self) -> Any:
        from moto.scheduler.models import scheduler_backends

        return scheduler_backends[self._account_id][self._region]

    def _partition(self) -> str:
        return "aws"


@contextlib.contextmanager
def opened(root: Path, *, fresh: bool = False) -> Iterator[DataDir]:
    data = DataDir.open(root, fresh=fresh)
    try:
        yield data
    finally:
        data.close()
