"""LocalRuntime: moto + event plumbing + gateway, started and stopped as one thing.

    with LocalRuntime().start(port=0) as runtime:
        token = runtime.sign_in("clinician")
        ...                       # call runtime.base_url over HTTP
        runtime.pump()            # deliver outbox events to rule handlers, deterministically

Handlers run in Lambda-like sandbox processes (local.sandboxes) that read their configuration
from environment variables; `inline=True` runs them in this process instead (tests that patch
handler modules or inject a clock). One runtime runs per process at a time; stop() restores the
environment it changed.

With a data_dir the runtime is durable (local/durable.py): the table is DynamoDB Local in that
directory, and files, uploads in progress, timers and undelivered events survive a restart.
Without one everything is in moto's memory and gone at stop (what most tests want: fast).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

from aiohttp import web

from caseroom.clock import (
    LOCAL_CLOCK_FILE_ENV,
    Clock,
    FixedClock,
    SystemClock,
    advance_local_clock,
    create_local_clock_file,
    local_clock_offset,
)
from local.aws_backend import DEFAULT_MULTIPART_THRESHOLD_BYTES, AwsBackend
from local.devtools import DevTools
from local.durable import DurableStore
from local.events_relay import RuleDispatcher, StreamRelay
from local.functions import FunctionRegistry
from local.gateway import Gateway
from local.sandboxes import SandboxSettings
from local.scheduler import TimerScheduler
from local.tokens import AUDIENCE, DevIdentityProvider

LOG = logging.getLogger(__name__)
_T = TypeVar("_T")


class LocalRuntime:
    def __init__(
        self,
        *,
        clock: Clock | None = None,
        module_overrides: Mapping[str, str] | None = None,
        background: bool = True,
        enforce_timeouts: bool = True,
        retry_delay_s: int = 2,
        max_attempts: int = 3,
        multipart_threshold_bytes: int = DEFAULT_MULTIPART_THRESHOLD_BYTES,
        cursor_key_file: Path | None = None,
        data_dir: Path | None = None,
        fresh: bool = False,
        inline: bool = False,
        sandboxes: SandboxSettings | None = None,
    ) -> None:
        """module_overrides: function name -> handler module, e.g. a fake handler in tests.
        background: run the stream relay and rule dispatcher loops (tests call pump() instead).
        cursor_key_file: where the key of list cursors is kept (created 0600 with a random key
        when missing; belongs in the data directory). None: the data directory's cursor.key, or
        without one a key of this process only, which is enough while the data lives in memory too.
        data_dir: keep the data there (DynamoDB Local + files on disk); fresh: empty it first.
        inline: call handlers in this process (needed to inject a clock into handler modules)."""
        self.clock = clock or SystemClock()
        if not inline and not isinstance(self.clock, SystemClock):
            # Sandbox processes cannot see an object of this process: they read the shared clock.
            raise ValueError("an injected clock needs inline=True (or move the clock with advance_clock())")
        self._inline = inline
        self._sandbox_settings = sandboxes or SandboxSettings(enforce_timeouts=enforce_timeouts)
        self._clock_dir: tempfile.TemporaryDirectory[str] | None = None
        self._clock_file = ""
        self._module_overrides = dict(module_overrides or {})
        self._background = background
        self._enforce_timeouts = enforce_timeouts
        self._retry_delay_s = retry_delay_s
        self._max_attempts = max_attempts
        self._multipart_threshold_bytes = multipart_threshold_bytes
        self._cursor_key_file = cursor_key_file
        self._data_dir = data_dir
        self._fresh = fresh
        self._store: DurableStore | None = None
        self._port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._backend: AwsBackend | None = None
        self._identity: DevIdentityProvider | None = None
        self._functions: FunctionRegistry | None = None
        self._relay: StreamRelay | None = None
        self._dispatcher: RuleDispatcher | None = None
        self._scheduler: TimerScheduler | None = None
        self._gateway: Gateway | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, port: int = 0) -> Self:
        """Starts everything; port 0 picks a free port. Raises OSError if the port is taken."""
        if self._runner is not None:
            return self
        # Bind first: the token issuer and JWKS URL handlers see must contain the real port.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind(("127.0.0.1", port))
            listener.listen(128)
        except OSError:
            listener.close()
            raise
        self._port = listener.getsockname()[1]
        try:
            self._start_services(listener)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_services(self, listener: socket.socket) -> None:
        self._identity = DevIdentityProvider(issuer=f"{self.base_url}/_local", clock=self.clock)
        if self._data_dir is not None:
            self._store = DurableStore.open(self._data_dir, fresh=self._fresh)
        store = self._store
        self._backend = AwsBackend(
            multipart_threshold_bytes=self._multipart_threshold_bytes,
            dynamodb_endpoint_url=store.start_table() if store else None,
            moto_port=store.moto_port() if store else 0,
        )
        function_environment = {
            "CASEROOM_JWT_ISSUER": self._identity.issuer,
            "CASEROOM_JWT_AUDIENCE": AUDIENCE,
            "CASEROOM_JWKS_URL": f"{self.base_url}/_local/jwks.json",
            "CASEROOM_WEBSOCKET_ENDPOINT": self.base_url,
            **(store.function_environment() if store else {}),
            **self._cursor_key_environment(store.function_environment() if store else {}),
            **self._shared_clock_environment(),
            "CASEROOM_APP_URL": self.base_url,
        }
        self._backend.start(function_environment=function_environment)
        if store:
            store.attach(self._backend)
        self._functions = FunctionRegistry(
            self._module_overrides,
            sandboxes=None if self._inline else self._sandbox_settings,
            environment={**self._backend.aws_environment(), **function_environment},
        )
        self._relay = StreamRelay(
            self._backend,
            resume_from=store.relay_position() if store else None,
            on_checkpoint=store.save_relay_position if store else None,
        )
        self._dispatcher = RuleDispatcher(
            self._backend,
            self._functions,
            max_attempts=self._max_attempts,
            retry_delay_s=self._retry_delay_s,
            parallel_per_rule=self._sandbox_settings.max_sandboxes,
        )
        self._scheduler = TimerScheduler(self._backend, self.clock)
        self._gateway = Gateway(
            self._functions,
            self._identity,
            self.clock,
            enforce_timeouts=self._enforce_timeouts,
            devtools=DevTools(self._identity, advance_clock=self.advance_clock),
            on_change=self._relay.loop.wake,
            storage_origin=self._backend.endpoint_url,
        )
        # Work flows downstream at once instead of at the next idle poll: a write wakes the relay,
        # relayed events wake the dispatcher, and handlers' own writes wake the relay again.
        self._backend.watch_queues(self._dispatcher.wake_queue)
        self._dispatcher.loop.after_work = self._relay.loop.wake

        self._loop = asyncio.new_event_loop()
        # Invocations wait in this pool (asyncio.to_thread): one thread per invocation in flight,
        # enough for every function's reserved concurrency to be reachable.
        self._loop.set_default_executor(ThreadPoolExecutor(max_workers=256, thread_name_prefix="lambda"))
        self._loop_thread = threading.Thread(target=self._loop.run_forever, name="gateway", daemon=True)
        self._loop_thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(listener), self._loop).result(timeout=30)
        if self._background:
            self._relay.start()
            self._dispatcher.start()
            self._scheduler.start()
        LOG.info("local runtime listening on %s", self.base_url)

    async def _serve(self, listener: socket.socket) -> None:
        assert self._gateway is not None
        self._runner = web.AppRunner(self._gateway.build_app(), access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.SockSite(self._runner, listener).start()

    def stop(self) -> None:
        """Stops sandboxes, loops, gateway, moto and the durable store, in that order; safe to call
        twice. Sandboxes go first (killed, whatever they run), so nothing waits on a handler."""
        if self._dispatcher is not None:
            self._dispatcher.signal_stop()  # deliveries cut short from here on leave their events queued
        for component in (self._relay, self._dispatcher, self._scheduler):
            if component is not None:
                component.loop.signal_stop()  # no new deliveries start from here on
        if self._functions is not None:
            self._functions.close()
        # One second for all three loops together: a loop stuck on a slow backend call is left
        # to its daemon thread.
        deadline = time.monotonic() + 1.0
        for loop in (self._relay, self._dispatcher, self._scheduler):
            if loop is not None:
                loop.loop.stop(timeout_s=max(0.0, deadline - time.monotonic()))
                loop.stop()
        if self._loop is not None:
            if self._runner is not None:
                asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._loop_thread is not None:
                self._loop_thread.join(timeout=10)
            self._loop.close()
        if self._backend is not None:
            self._backend.watch_queues(None)  # before the store unwraps moto: patches come off in reverse
        if self._store is not None and self._backend is not None:
            self._store.detach(self._backend)
        if self._backend is not None:
            self._backend.stop()
        if self._store is not None:
            self._store.close()
        self._runner = self._loop = self._loop_thread = None
        self._backend = None
        self._store = None
        if self._clock_dir is not None:
            self._clock_dir.cleanup()
            self._clock_dir = None

    # -- what the sandbox processes share ------------------------------------------------------

    def _scratch_dir(self) -> str:
        """A private directory of this run, for what the sandbox processes must share."""
        if self._clock_dir is None:
            self._clock_dir = tempfile.TemporaryDirectory(prefix="caseroom-local-")
        return self._clock_dir.name

    def _cursor_key_environment(self, store_environment: Mapping[str, str]) -> dict[str, str]:
        if self._cursor_key_file:
            return {"CASEROOM_CURSOR_KEY_FILE": str(self._cursor_key_file)}
        if "CASEROOM_CURSOR_KEY_FILE" in store_environment:
            return {}  # the data directory's key
        if self._inline or os.environ.get("CASEROOM_CURSOR_KEY"):
            return {}  # one process (or the tests' literal key): nothing to share
        # Every sandbox must seal and open cursors with the same key: a file of this run.
        return {"CASEROOM_CURSOR_KEY_FILE": os.path.join(self._scratch_dir(), "cursor-key")}

    def _shared_clock_environment(self) -> dict[str, str]:
        """A shared offset file every sandbox's SystemClock reads (local stage only)."""
        if not isinstance(self.clock, SystemClock):
            return {}
        self._clock_file = os.path.join(self._scratch_dir(), "offset")
        create_local_clock_file(self._clock_file)
        return {LOCAL_CLOCK_FILE_ENV: self._clock_file}

    def advance_clock(self, seconds: float) -> datetime:
        """Moves the clock of the runtime, every function and the scheduler forward; returns now."""
        if isinstance(self.clock, FixedClock):
            self.clock.advance(seconds=seconds)
        elif self._clock_file:
            advance_local_clock(self._clock_file, seconds)
        else:
            raise RuntimeError("this runtime's clock cannot be moved")
        return self.clock.now()

    @property
    def clock_offset(self) -> timedelta:
        return local_clock_offset()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- accessors -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/ws"

    @property
    def store(self) -> DurableStore | None:
        """The data directory's store; None for an in-memory runtime."""
        return self._store

    @property
    def started_empty(self) -> bool:
        """True when this start had no earlier data (in memory, a new data dir, or --fresh):
        the table did not exist before this start."""
        return self._store is None or self.backend.table_created

    @property
    def backend(self) -> AwsBackend:
        return _started(self._backend)

    @property
    def identity(self) -> DevIdentityProvider:
        return _started(self._identity)

    @property
    def functions(self) -> FunctionRegistry:
        return _started(self._functions)

    @property
    def relay(self) -> StreamRelay:
        return _started(self._relay)

    @property
    def dispatcher(self) -> RuleDispatcher:
        return _started(self._dispatcher)

    @property
    def scheduler(self) -> TimerScheduler:
        return _started(self._scheduler)

    @property
    def gateway(self) -> Gateway:
        return _started(self._gateway)

    def sign_in(self, user: str) -> str:
        """An ID token for a seeded user (clinician, clinician2, lab, patient)."""
        return self.identity.issue_id_token(user)

    def pump(self, max_rounds: int = 100) -> int:
        """Relays outbox items and delivers rule events until nothing moves; returns the count moved."""
        total = 0
        for _ in range(max_rounds):
            moved = self.relay.pump_once() + self.dispatcher.pump_once()
            total += moved
            if moved == 0:
                return total
        raise RuntimeError(f"events still flowing after {max_rounds} rounds (a handler feeding itself?)")


def _started(component: _T | None) -> _T:
    if component is None:
        raise RuntimeError("The local runtime is not started")
    return component
