"""Lambda-like sandboxes for the local runtime: each function runs in worker processes.

- Warm reuse: an idle sandbox takes the next invocation (the most recently used first).
- Cold start: a new process imports the handler (its init phase) when no idle one is free;
  one at a time per function (two cores gain nothing from parallel imports).
- Concurrency: invocations run in parallel, one per sandbox. At most `reserved_concurrency`
  invocations of a function are in flight; one more is throttled (Lambda's 429
  TooManyRequestsException, which API Gateway turns into a 500). A machine cap
  (`max_sandboxes`, a 2-core laptop gains nothing from 100 processes) bounds the processes:
  an invocation under the reserved concurrency but over the cap waits for a sandbox, and that
  wait counts against the gateway's integration timeout, never against the function's.
- Timeout: measured from handler start; a sandbox that outlives it is killed (SIGKILL), so no
  work continues after the caller was told it failed.
- Idle sandboxes are reaped after `idle_s` (Lambda recycles idle environments after minutes).
- All functions together run at most `max_total_sandboxes` processes (an account's concurrency
  limit, sized for a laptop's memory): a cold start over it stops the least recently used idle
  sandbox of another function first.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from infra import manifest

LOG = logging.getLogger(__name__)

INIT_TIMEOUT_S = 10.0  # Lambda's init phase limit
DEFAULT_IDLE_S = 5 * 60.0
DEFAULT_MAX_SANDBOXES = 4
# All functions together: ~60-100 MB each, so 24 keep the whole runtime (DynamoDB Local's Java
# and the runtime's own process included) well under 3 GB whatever the traffic.
DEFAULT_MAX_TOTAL_SANDBOXES = 24


class Throttled(RuntimeError):
    """Rate exceeded: the function's reserved concurrency is in use (Lambda's 429)."""


class FunctionTimedOut(RuntimeError):
    pass


class FunctionFailed(RuntimeError):
    """The handler raised (or its sandbox died); error_type is what Lambda reports as errorType."""

    def __init__(self, error_type: str, message: str, trace: str = "") -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.trace = trace


class HandlerError(FunctionFailed):
    """The handler raised; its sandbox is fine and stays warm, as in Lambda."""


class NoSandboxInTime(RuntimeError):
    """No sandbox became free before the caller's wait limit (the gateway's timeout)."""


@dataclass(frozen=True)
class SandboxSettings:
    max_sandboxes: int = DEFAULT_MAX_SANDBOXES  # processes per function on this machine
    max_total_sandboxes: int = DEFAULT_MAX_TOTAL_SANDBOXES  # processes of all functions together
    reserved_concurrency: int = manifest.LOCAL_STAGE.reserved_concurrency
    idle_s: float = DEFAULT_IDLE_S
    verbose: bool = False
    enforce_timeouts: bool = True


@dataclass(frozen=True)
class Invocation:
    result: Any
    cold: bool
    duration_ms: float  # handler start to result
    cpu_ms: float  # the sandbox's CPU time for this invocation


class _Sandbox:
    def __init__(self, process: Any, connection: Connection) -> None:
        self.process = process
        self.connection = connection
        self.last_used = time.monotonic()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=2)
        self.connection.close()


class SandboxBudget:
    """The cap on sandbox processes of all functions together (an account's concurrency limit,
    sized for a laptop's memory). A cold start over it first stops the least recently used idle
    sandbox of another function, as Lambda recycles idle environments; with none idle it waits."""

    def __init__(self, limit: int) -> None:
        self._limit = max(1, limit)
        self._used = 0
        self._lock = threading.Lock()
        self._pools: list[SandboxPool] = []

    @property
    def used(self) -> int:
        with self._lock:
            return self._used

    def register(self, pool: SandboxPool) -> None:
        with self._lock:
            self._pools.append(pool)

    def try_take(self) -> bool:
        with self._lock:
            if self._used >= self._limit:
                return False
            self._used += 1
            return True

    def release(self, count: int = 1) -> None:
        with self._lock:
            self._used -= count

    def evict_idle(self, exclude: SandboxPool) -> bool:
        """Stops the least recently used idle sandbox of any other function; False if none."""
        with self._lock:
            pools = [pool for pool in self._pools if pool is not exclude]
        candidates = [(at, pool) for pool in pools if (at := pool.oldest_idle_at()) is not None]
        return any(pool.evict_oldest_idle() for _, pool in sorted(candidates, key=lambda c: c[0]))


class SandboxPool:
    """The sandboxes of one function."""

    def __init__(
        self,
        function: manifest.Function,
        module_name: str,
        environment: Mapping[str, str],
        settings: SandboxSettings,
        budget: SandboxBudget | None = None,
    ) -> None:
        self.function = function
        self._budget = budget or SandboxBudget(settings.max_total_sandboxes)
        self._budget.register(self)
        self._module_name = module_name
        self._environment = dict(environment)
        self._settings = settings
        self._idle: list[_Sandbox] = []
        self._live: set[_Sandbox] = set()  # every started sandbox, idle or busy
        self._sandboxes = 0  # idle + busy + starting
        self._in_flight = 0
        self._waiting_requests = 0  # synchronous invocations waiting for a sandbox
        self._starting = False  # a sandbox of this function is in its init phase
        self._closed = False
        self._condition = threading.Condition()
        self.cold_starts = 0

    @property
    def sandbox_count(self) -> int:
        with self._condition:
            return self._sandboxes

    @property
    def in_flight(self) -> int:
        with self._condition:
            return self._in_flight

    @property
    def waiting_requests(self) -> int:
        """Synchronous invocations (the gateway's) waiting for a free sandbox now."""
        with self._condition:
            return self._waiting_requests

    @property
    def idle_count(self) -> int:
        with self._condition:
            return len(self._idle)

    def invoke(self, event: Any, *, wait_limit_s: float | None = None, throttle: bool = True) -> Invocation:
        """Runs one invocation. throttle=False waits for capacity instead of failing fast (Lambda's
        own queue for asynchronous invocations retries throttled events)."""
        with self._condition:
            if self._closed:
                raise FunctionFailed("Runtime.Stopped", "the local runtime is stopping")
            if throttle and self._in_flight >= self._settings.reserved_concurrency:
                raise Throttled(
                    f"Rate exceeded: {self.function.name} has {self._in_flight} invocations in flight"
                )
            self._in_flight += 1
        try:
            sandbox, cold = self._acquire(wait_limit_s, synchronous=throttle)
            try:
                invocation = self._run(sandbox, event, cold)
            except HandlerError:
                self._release(sandbox)
                raise
            except BaseException:
                self._discard(sandbox)
                raise
            self._release(sandbox)
            return invocation
        finally:
            with self._condition:
                self._in_flight -= 1
                self._condition.notify_all()

    def _acquire(self, wait_limit_s: float | None, synchronous: bool = True) -> tuple[_Sandbox, bool]:
        deadline = None if wait_limit_s is None else time.monotonic() + wait_limit_s
        waiting = False
        try:
            while True:
                make_room = False
                with self._condition:
                    if self._closed:
                        raise FunctionFailed("Runtime.Stopped", "the local runtime is stopping")
                    if self._idle:
                        return self._idle.pop(), False
                    # One cold start at a time per function: on two cores, four imports at once
                    # each take four times as long, and nobody is served until one finishes.
                    if self._sandboxes < self._settings.max_sandboxes and not self._starting:
                        if self._budget.try_take():
                            self._sandboxes += 1
                            self._starting = True
                            break
                        make_room = True  # every function together is at the machine's cap
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        raise NoSandboxInTime(self.function.name)
                    if synchronous and not waiting:
                        waiting = True
                        self._waiting_requests += 1
                    if not make_room:
                        self._condition.wait(remaining if remaining is not None else 1.0)
                        continue
                # Outside this pool's lock: stopping another function's idle sandbox takes its lock.
                if not self._budget.evict_idle(exclude=self):
                    with self._condition:  # nothing idle anywhere: look again shortly
                        self._condition.wait(0.1 if remaining is None else max(0.0, min(0.1, remaining)))
        finally:
            if waiting:
                with self._condition:
                    self._waiting_requests -= 1
        try:
            sandbox = self._start_sandbox()
        except BaseException:
            with self._condition:
                self._sandboxes -= 1
                self._starting = False
                self._condition.notify_all()
            self._budget.release()
            raise
        with self._condition:
            self._starting = False
            self._condition.notify_all()
        return sandbox, True

    def oldest_idle_at(self) -> float | None:
        """When the least recently used idle sandbox was last used; None if none is idle."""
        with self._condition:
            return self._idle[0].last_used if self._idle else None

    def evict_oldest_idle(self) -> bool:
        """Stops the least recently used idle sandbox (to make room for another function's)."""
        with self._condition:
            if not self._idle:
                return False
            sandbox = self._idle.pop(0)
            self._live.discard(sandbox)
            self._sandboxes -= 1
        sandbox.kill()
        self._budget.release()
        return True

    def _start_sandbox(self) -> _Sandbox:
        from local import sandbox_worker

        context = multiprocessing.get_context("spawn")
        parent_end, child_end = context.Pipe()
        environment = {
            **self._environment,
            "AWS_LAMBDA_FUNCTION_NAME": self.function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.function.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.function.name}",
        }
        process = context.Process(
            target=sandbox_worker.run,
            args=(
                child_end,
                self._module_name,
                self.function.name,
                self.function.memory_mb,
                self.function.timeout_s,
                environment,
                self._settings.verbose,
            ),
            name=f"sandbox-{self.function.name}",
            daemon=True,
        )
        process.start()
        child_end.close()
        sandbox = _Sandbox(process, parent_end)
        with self._condition:
            self._live.add(sandbox)
            closed = self._closed
        if closed:
            sandbox.kill()
            raise FunctionFailed("Runtime.Stopped", "the local runtime is stopping")
        self.cold_starts += 1
        # Lambda limits the init phase to 10 s; when it runs over, Lambda retries the init with
        # the first invocation, under the function's timeout. A sandbox still importing after
        # 10 s is therefore given the function's timeout on top (on a loaded 2-core machine a
        # cold import can take that long) instead of being killed and started again from zero.
        if not parent_end.poll(INIT_TIMEOUT_S + self.function.timeout_s):
            sandbox.kill()
            raise FunctionFailed("Runtime.InitTimeout", f"{self.function.name} did not initialize in time")
        try:
            message = parent_end.recv()
        except (EOFError, OSError):
            sandbox.kill()
            raise FunctionFailed(
                "Runtime.ExitError", f"{self.function.name}'s sandbox exited during init"
            ) from None
        if message[0] != "ready":
            sandbox.kill()
            raise FunctionFailed("Runtime.ImportModuleError", str(message[1]))
        return sandbox

    def _run(self, sandbox: _Sandbox, event: Any, cold: bool) -> Invocation:
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        sandbox.connection.send(("invoke", request_id, event))
        timeout = self.function.timeout_s if self._settings.enforce_timeouts else None
        if not sandbox.connection.poll(timeout):
            LOG.warning(
                "%s timed out after %d s (request %s): sandbox killed",
                self.function.name,
                timeout,
                request_id,
            )
            raise FunctionTimedOut(f"Task timed out after {timeout:.2f} seconds")
        try:
            reply = sandbox.connection.recv()
        except (EOFError, OSError):
            raise FunctionFailed("Runtime.ExitError", "the sandbox exited during the invocation") from None
        duration_ms = (time.perf_counter() - started) * 1000
        if reply[0] == "ok":
            return Invocation(reply[1], cold, duration_ms, reply[2])
        raise HandlerError(reply[1], reply[2], reply[3])

    def _release(self, sandbox: _Sandbox) -> None:
        sandbox.last_used = time.monotonic()
        with self._condition:
            if self._closed:
                self._sandboxes -= 1
                self._live.discard(sandbox)
                discard = True
            else:
                self._idle.append(sandbox)
                discard = False
            self._condition.notify_all()
        if discard:
            sandbox.kill()
            self._budget.release()

    def _discard(self, sandbox: _Sandbox) -> None:
        sandbox.kill()
        with self._condition:
            self._live.discard(sandbox)
            self._sandboxes -= 1
            self._condition.notify_all()
        self._budget.release()

    def reap(self, now: float | None = None) -> int:
        """Stops sandboxes idle for longer than idle_s; returns how many."""
        now = time.monotonic() if now is None else now
        with self._condition:
            stale = [s for s in self._idle if now - s.last_used >= self._settings.idle_s]
            self._idle = [s for s in self._idle if s not in stale]
            self._live.difference_update(stale)
            self._sandboxes -= len(stale)
        for sandbox in stale:
            sandbox.kill()
        self._budget.release(len(stale))
        return len(stale)

    def close(self) -> None:
        """Kills every sandbox now, busy ones included: their callers get Runtime.ExitError at once."""
        with self._condition:
            self._closed = True
            idle, self._idle = self._idle, []
            busy = self._live - set(idle)
            self._live = set(busy)
            self._sandboxes -= len(idle)
            self._condition.notify_all()
        self._budget.release(len(idle))
        for sandbox in idle:
            sandbox.kill()
        for sandbox in busy:  # their invocations see EOF and discard them
            if sandbox.process.is_alive():
                sandbox.process.kill()


class Sandboxes:
    """Every function's pool, plus the reaper of idle sandboxes."""

    def __init__(
        self,
        modules: Mapping[str, str],
        environment: Mapping[str, str],
        settings: SandboxSettings,
        reap_every_s: float = 30.0,
    ) -> None:
        self.settings = settings
        self.budget = SandboxBudget(settings.max_total_sandboxes)
        self._pools = {
            fn.name: SandboxPool(fn, modules[fn.name], environment, settings, self.budget)
            for fn in manifest.FUNCTIONS
        }
        self._stop = threading.Event()
        self._reaper = threading.Thread(
            target=self._reap_loop, args=(reap_every_s,), name="reaper", daemon=True
        )
        self._reaper.start()

    def pool(self, function_name: str) -> SandboxPool:
        return self._pools[function_name]

    def waiting_requests(self) -> int:
        """Synchronous invocations of any function waiting for a sandbox (requests queued at the
        gateway): the rule dispatcher then delivers one event at a time (see local.events_relay)."""
        return sum(pool.waiting_requests for pool in self._pools.values())

    def _reap_loop(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            for pool in self._pools.values():
                reaped = pool.reap()
                if reaped:
                    LOG.info("%s: %d idle sandbox(es) reaped", pool.function.name, reaped)

    def close(self) -> None:
        self._stop.set()
        for pool in self._pools.values():
            pool.close()
