"""The durable half of the local runtime: DynamoDB Local for the table, moto's files, uploads and
timers written through to the data directory, the outbox relay's position, and the rule events
not yet delivered at a clean stop. LocalRuntime drives it when given a data directory:

    store = DurableStore.open(Path(".caseroom"), fresh=False)
    backend = AwsBackend(dynamodb_endpoint_url=store.start_table(), moto_port=store.moto_port())
    backend.start(function_environment=store.function_environment())
    store.attach(backend)            # loads files, uploads, timers, queued events; writes through
    relay = StreamRelay(backend, resume_from=store.relay_position(), on_checkpoint=store.save_relay_position)
    ...
    store.detach(backend)            # after the loops stopped: keeps undelivered events
    backend.stop(); store.close()

A kill (no clean stop) loses no rule event matched but not yet delivered (each is a file until
its handler succeeded, see local/data_dir.py), and the relay re-sends the outbox events it
relayed after its last stored position (at least once, as a Pipe does). It never loses a table
write that was acknowledged, nor the bytes of a file a record points at, nor an email in the
local mailbox.
"""

from __future__ import annotations

import logging
from pathlib import Path

from local.aws_backend import ACCOUNT_ID, REGION, AwsBackend
from local.data_dir import DataDir, MotoPersistence
from local.dynamodb_local import DEFAULT_MAX_HEAP_MB, DynamoDBLocal

LOG = logging.getLogger(__name__)


class DurableStore:
    def __init__(self, data: DataDir, *, max_heap_mb: int = DEFAULT_MAX_HEAP_MB) -> None:
        self.data = data
        self.dynamodb = DynamoDBLocal(data.dynamodb_dir, max_heap_mb=max_heap_mb)
        self.persistence = MotoPersistence(data, ACCOUNT_ID, REGION)
        self.restored: dict[str, int] = {}
        self._attached = False

    @classmethod
    def open(cls, root: Path, *, fresh: bool = False, max_heap_mb: int = DEFAULT_MAX_HEAP_MB) -> DurableStore:
        return cls(DataDir.open(root, fresh=fresh), max_heap_mb=max_heap_mb)

    def start_table(self) -> str:
        return self.dynamodb.start()

    def moto_port(self) -> int:
        """The port moto had last time: upload URLs handed out before a restart still work."""
        return int(self.data.read_json(self.data.ports_file, {}).get("moto", 0))

    def function_environment(self) -> dict[str, str]:
        return {"CASEROOM_CURSOR_KEY_FILE": str(self.data.cursor_key_file)}

    def attach(self, backend: AwsBackend) -> None:
        """Loads the stored files, uploads, timers and undelivered events into moto, then writes
        every later change through. The resources must exist (backend.start() made them)."""
        self.data.write_json(self.data.ports_file, {"moto": int(backend.endpoint_url.rsplit(":", 1)[1])})
        self.restored = self.persistence.restore()
        self.persistence.activate()
        self.restored["events"] += self._restore_legacy_events()
        self._attached = True
        if any(self.restored.values()):
            LOG.info("restored from %s: %s", self.data.root, self.restored)

    def detach(self, backend: AwsBackend) -> None:
        """Stops writing through (the events still queued are files already): nothing slow, so a
        stop with thousands of events queued stays within its 3 s."""
        if not self._attached:
            return
        self.persistence.deactivate()
        self._attached = False

    def close(self) -> None:
        self.persistence.deactivate()
        self.dynamodb.stop()
        self.data.close()

    # -- the relay's position ------------------------------------------------------------------

    def relay_position(self) -> dict[str, str]:
        return dict(self.data.read_json(self.data.relay_file, {}))

    def save_relay_position(self, checkpoint: dict[str, str]) -> None:
        self.data.write_json(self.data.relay_file, checkpoint)

    # -- undelivered events of an older layout ------------------------------------------------

    def _restore_legacy_events(self) -> int:
        kept: dict[str, list[str]] = self.data.read_json(self.data.events_file, {})
        if not kept:
            return 0
        restored = self.persistence.restore_legacy_events(kept)
        self.data.events_file.unlink(missing_ok=True)  # they are files now
        return restored
