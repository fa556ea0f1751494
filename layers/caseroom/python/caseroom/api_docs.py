"""The OpenAPI document of every HTTP route, generated from the typed routes.

`python -m caseroom.api_docs > openapi.json` refreshes the committed copy; a test fails
when the committed copy drifts from the code.
"""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from caseroom.cases.routes import router as cases_router
from caseroom.chat.routes import router as chat_router
from caseroom.contract import add_error_contract
from caseroom.files.routes import router as files_router
from caseroom.http import build_http_app
from caseroom.labs.routes import router as labs_router
from caseroom.notifications.routes import router as notifications_router
from caseroom.passport.routes import router as passport_router
from caseroom.planning.routes import router as planning_router
from caseroom.sharing.routes import router as sharing_router
from caseroom.team.routes import router as team_router
from caseroom.webhooks.routes import router as webhooks_router

TITLE = "CaseRoom API"
VERSION = "1.0.0"


def openapi_json() -> str:
    app = build_http_app(
        cases_router,
        labs_router,
        team_router,
        files_router,
        planning_router,
        notifications_router,
        webhooks_router,
        sharing_router,
        passport_router,
        chat_router,
    )
    document = app.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        description=(
            "Dental case collaboration. Every route except /health and the guest's /shared routes "
            "needs a Cognito ID token (locally: POST /_local/sign-in) as `Authorization: Bearer "
            "<token>`; /shared takes a share link's token as `X-Share-Token` instead. Errors share "
            "one shape: {code, message, requestId, details}; `code` is stable, and no error repeats "
            "what was sent. Each operation lists every status it can answer and, per status, its "
            "codes. Request bodies are JSON (also when sent without a Content-Type, or as "
            "application/x-www-form-urlencoded starting with `{`); other types get 415."
        ),
        security_schemes={"bearerAuth": HTTPBearer(bearerFormat="JWT")},
        security=[{"bearerAuth": []}],
    )
    contract = add_error_contract(json.loads(document), [*app._static_routes, *app._dynamic_routes])
    return json.dumps(contract, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(openapi_json(), end="")
