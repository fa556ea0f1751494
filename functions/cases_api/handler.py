"""Cases HTTP API function: every /cases route, the lab queue, /labs and Team-Up (see infra/manifest.py)."""

from typing import Any

from caseroom.cases.routes import router
from caseroom.http import build_http_app
from caseroom.labs.routes import router as labs_router
from caseroom.observability import HTTP_CORRELATION, lambda_entrypoint
from caseroom.team.routes import router as team_router

app = build_http_app(router, labs_router, team_router)


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)


lambda_handler = lambda_entrypoint(_handle, correlation_id_path=HTTP_CORRELATION)
