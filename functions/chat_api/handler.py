"""Chat HTTP API function: WebSocket tickets, room history, unread counts, edits (see infra/manifest.py)."""

from typing import Any

from caseroom.chat.routes import router
from caseroom.http import build_http_app
from caseroom.observability import HTTP_CORRELATION, lambda_entrypoint

app = build_http_app(router)


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)


lambda_handler = lambda_entrypoint(_handle, correlation_id_path=HTTP_CORRELATION)
