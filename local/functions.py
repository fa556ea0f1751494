"""Runs the manifest's Lambda handlers the way the Lambda runtime would call them: in sandbox
processes (local.sandboxes, the runtime's default) or in this process (inline: tests that patch
handler modules or inject a clock, and `python -m local invoke`)."""

from __future__ import annotations

import importlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra import manifest
from local.aws_backend import ACCOUNT_ID, REGION
from local.sandboxes import Invocation, Sandboxes, SandboxSettings

LOG = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Any]


@dataclass
class LambdaContext:
    """The attributes of the Lambda runtime's context object that handlers (and Powertools) read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    client_context: Any = None
    identity: Any = None
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"{time.strftime('%Y/%m/%d')}/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class FunctionRegistry:
    """Resolves each manifest function to its handler module on first use.

    Lazy on purpose: a function whose module does not exist (yet) only fails its own routes.
    With `sandboxes`, every function runs in Lambda-like worker processes (local.sandboxes).
    Inline, invocations of one function are serialized, like one warm Lambda container, so
    module-level state in a handler is never touched by two requests at once (as in the cloud).
    """

    def __init__(
        self,
        module_overrides: Mapping[str, str] | None = None,
        sandboxes: SandboxSettings | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self._functions = {fn.name: fn for fn in manifest.FUNCTIONS}
        self._module_overrides = dict(module_overrides or {})
        self._handlers: dict[str, Handler] = {}
        self._locks = {name: threading.Lock() for name in self._functions}
        self._import_lock = threading.Lock()
        self._sandboxes = (
            Sandboxes(
                {name: self.module_name(name) for name in self._functions}, environment or {}, sandboxes
            )
            if sandboxes is not None
            else None
        )

    @property
    def sandboxes(self) -> Sandboxes | None:
        return self._sandboxes

    def close(self) -> None:
        if self._sandboxes is not None:
            self._sandboxes.close()

    def waiting_requests(self) -> int:
        """Synchronous invocations waiting for a sandbox now (always 0 inline)."""
        return self._sandboxes.waiting_requests() if self._sandboxes is not None else 0

    def function(self, name: str) -> manifest.Function:
        return self._functions[name]

    def module_name(self, name: str) -> str:
        return self._module_overrides.get(name) or self._functions[name].module

    def handler(self, name: str) -> Handler:
        found = self._handlers.get(name)
        if found is None:
            with self._import_lock:
                module = importlib.import_module(self.module_name(name))
                found = module.lambda_handler
                self._handlers[name] = found
        return found

    def new_context(self, name: str) -> LambdaContext:
        fn = self._functions[name]
        return LambdaContext(function_name=fn.name, memory_limit_in_mb=fn.memory_mb, timeout_s=fn.timeout_s)

    def invoke(self, name: str, event: Any, context: LambdaContext | None = None) -> Any:
        """Calls the handler, as an asynchronous invocation (events, timers): a throttled one waits
        for capacity, as Lambda's own event queue retries it. Exceptions propagate to the caller."""
        if self._sandboxes is not None:
            return self.invoke_detailed(name, event, throttle=False).result
        return self._invoke_inline(name, event, context).result

    def invoke_detailed(
        self, name: str, event: Any, *, wait_limit_s: float | None = None, throttle: bool = True
    ) -> Invocation:
        """A synchronous invocation (the gateway's): throttled beyond the reserved concurrency
        (local.sandboxes.Throttled); timeouts raise local.sandboxes.FunctionTimedOut."""
        if self._sandboxes is None:
            return self._invoke_inline(name, event, None)
        invocation = self._sandboxes.pool(name).invoke(event, wait_limit_s=wait_limit_s, throttle=throttle)
        _log_invocation(name, event, invocation.duration_ms, invocation.cpu_ms)
        return invocation

    def _invoke_inline(self, name: str, event: Any, context: LambdaContext | None) -> Invocation:
        cold = name not in self._handlers
        handler = self.handler(name)
        context = context or self.new_context(name)
        with self._locks[name]:
            started, cpu_started = time.perf_counter(), time.thread_time()
            try:
                result = handler(event, context)
            finally:
                wall_ms = (time.perf_counter() - started) * 1000
                cpu_ms = (time.thread_time() - cpu_started) * 1000
                _log_invocation(name, event, wall_ms, cpu_ms)
        return Invocation(result, cold, wall_ms, cpu_ms)


def _log_invocation(name: str, event: Any, wall_ms: float, cpu_ms: float) -> None:
    # Wall time includes waiting on moto; the handler's CPU time is CaseRoom's own work
    # (bench/uploads.py reads both from this line).
    LOG.info("invoked %s (%s): %.0f ms wall, %.1f ms CPU", name, _trigger(event), wall_ms, cpu_ms)


def _trigger(event: Any) -> str:
    """What invoked the function: an HTTP route key, a WebSocket route, or an event's detail-type."""
    if isinstance(event, dict):
        context = event.get("requestContext") or {}
        return str(event.get("routeKey") or context.get("routeKey") or event.get("detail-type") or "-")
    return "-"
