"""Logging, metrics and tracing, configured once.

Logger: JSON, correlation id = API Gateway request id, never request bodies (PHI).
Metrics: CloudWatch EMF business counts. Tracing: Lambda's active tracing gives X-Ray
segments without any SDK in the process; the Powertools Tracer (X-Ray SDK, ~100 ms of
import) is loaded only when CASEROOM_DEEP_TRACING=true asks for per-call subsegments.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from caseroom.cold_start_gc import resume_after_cold_start
from caseroom.settings import get_settings

logger = Logger(service="caseroom")
metrics = Metrics(namespace="CaseRoom", service="caseroom")

Handler = Callable[[dict[str, Any], Any], Any]


def count(metric: str, value: float = 1) -> None:
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=value)


def failure_facts(exc: BaseException) -> dict[str, str]:
    """What may be logged about an unexpected error: its type, an AWS error code and the
    innermost CaseRoom frame. Never its message or arguments, which may carry patient data."""
    facts = {"error_type": type(exc).__name__}
    cause: BaseException | None = exc
    for _ in range(8):  # a wrapped ClientError (Powertools idempotency wraps them) counts too
        if cause is None or isinstance(getattr(cause, "response", None), dict):
            break
        cause = cause.__cause__ or cause.__context__
    else:
        cause = None
    if cause is not None:  # botocore's ClientError
        response = getattr(cause, "response", {})
        facts["aws_operation"] = str(getattr(cause, "operation_name", ""))
        facts["aws_error_code"] = str(response.get("Error", {}).get("Code", ""))
        reasons = response.get("CancellationReasons") or []
        codes = sorted({str(r.get("Code")) for r in reasons if isinstance(r, dict) and r.get("Code")})
        if codes:
            facts["aws_cancellation_reasons"] = ",".join(codes)
    for frame in traceback.extract_tb(exc.__traceback__):
        if "/caseroom/" in frame.filename:
            facts["raised_in"] = f"{frame.filename.rsplit('/caseroom/', 1)[-1]}:{frame.lineno} {frame.name}"
    return facts


def _maybe_traced(handler: Handler) -> Handler:
    if not get_settings().deep_tracing:
        return handler
    from aws_lambda_powertools import Tracer

    tracer = Tracer(service="caseroom")
    return tracer.capture_lambda_handler(handler)


def lambda_entrypoint(handler: Handler, correlation_id_path: str | None = None) -> Handler:
    """Wraps a handler with context-aware logging, metric flushing and optional tracing."""
    wrapped = logger.inject_lambda_context(correlation_id_path=correlation_id_path, log_event=False)(handler)
    wrapped = metrics.log_metrics(wrapped)
    traced: Handler | None = None

    def entrypoint(event: dict[str, Any], context: Any) -> Any:
        nonlocal traced
        if traced is not None:
            return traced(event, context)
        try:  # the first call decides, so importing the handler reads no settings
            traced = _maybe_traced(wrapped)
            return traced(event, context)
        finally:
            resume_after_cold_start()

    return entrypoint


HTTP_CORRELATION = correlation_paths.API_GATEWAY_HTTP
EVENTBRIDGE_CORRELATION = correlation_paths.EVENT_BRIDGE
