"""Share link notices function: the ShareLinkExpiring timer -> the owner is told (feed, push)."""

from typing import Any

from caseroom.clock import SystemClock
from caseroom.events import MalformedEvent
from caseroom.observability import EVENTBRIDGE_CORRELATION, lambda_entrypoint
from caseroom.scheduling import SCHEDULER_SOURCE
from caseroom.sharing.notices import EXPIRY_TIMER, on_expiry_timer

_clock = SystemClock()


def _handle(event: dict[str, Any], context: object) -> dict[str, Any]:
    if event.get("source") != SCHEDULER_SOURCE or event.get("detail-type") != EXPIRY_TIMER:
        raise MalformedEvent("unknown timer")
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    return {"told": on_expiry_timer(detail or {}, _clock)}


lambda_handler = lambda_entrypoint(_handle, correlation_id_path=EVENTBRIDGE_CORRELATION)
