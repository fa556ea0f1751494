"""Passport HTTP API function: connected patients and what is shared with them (see infra/manifest.py)."""

from typing import Any

from caseroom.http import build_http_app
from caseroom.observability import HTTP_CORRELATION, lambda_entrypoint
from caseroom.passport.routes import router

app = build_http_app(router)


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)


lambda_handler = lambda_entrypoint(_handle, correlation_id_path=HTTP_CORRELATION)
