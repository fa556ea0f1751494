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

What a kill (no clean stop) can lose: rule events matched but not yet delivered (they live in
moto's SQS, kept only at a clean stop), and the relay re-sends the outbox events it relayed
after its last stored position (at least once, as a Pipe does). It never loses a table write
that was acknowledged, nor the bytes of a file a record points at (see local/data_dir.py).
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
        self.restored["events"] = self._restore_events(backend)
        self.persistence.activate()
        self._attached = True
        if any(self.restored.values()):
            LOG.info("restored from %s: %s", self.data.root, self.restored)

    def detach(self, backend: AwsBackend) -> None:
        """Stops writing through and keeps the events still queued. Call with the loops stopped."""
        if not self._attached:
            return
        self.persistence.deactivate()
        self._save_events(backend)
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

    # -- undelivered events --------------------------------------------------------------------

    def _save_events(self, backend: AwsBackend) -> None:
        from moto.sqs.models import sqs_backends

        queues = sqs_backends[ACCOUNT_ID][REGION].queues
        kept: dict[str, list[str]] = {}
        for name, queue in queues.items():
            bodies = [message.body for message in list(queue._messages)]
            if bodies:
                kept[name] = bodies
        self.data.write_json(self.data.events_file, kept)
        if kept:
            LOG.info("kept %d undelivered events in %s", sum(map(len, kept.values())), self.data.events_file)

    def _restore_events(self, backend: AwsBackend) -> int:
        # Straight into moto's queues, in process (nothing else talks to moto yet): moto's own
        # send_message computes every queue attribute, a walk over all queued messages, for each
        # message sent, so a backlog of 10,000 events took many minutes to queue again.
        import uuid

        from moto.sqs.models import Message, sqs_backends

        kept: dict[str, list[str]] = self.data.read_json(self.data.events_file, {})
        sqs = sqs_backends[ACCOUNT_ID][REGION]
        restored = 0
        for name, bodies in kept.items():
            if name not in sqs.queues:
                LOG.warning("kept events of unknown queue %s dropped", name)
                continue
            queue = sqs.queues[name]
            for body in bodies:
                message = Message(str(uuid.uuid4()), body)
                message.mark_sent()
                queue.add_message(message)
                restored += 1
        # Queued again: a second start must not queue them a second time.
        self.data.write_json(self.data.events_file, {})
        return restored
