"""Local-only developer endpoints: sign-in, JWKS, mailbox, Swagger UI and the OpenAPI document."""

from __future__ import annotations

import asyncio
import html
import importlib
import json
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from local.mailbox import render_mailbox_html, sent_emails
from local.openapi_compat import to_openapi_30
from local.tokens import SEEDED_USERS, TOKEN_LIFETIME_S, DevIdentityProvider, UnknownUser

LOG = logging.getLogger(__name__)


def _clock_view() -> dict[str, Any]:
    from caseroom.clock import SystemClock, iso, local_clock_offset

    return {"now": iso(SystemClock().now()), "offsetSeconds": local_clock_offset().total_seconds()}


SWAGGER_STATIC_PREFIX = "/_local/swagger"


class OpenApiUnavailable(RuntimeError):
    pass


def load_openapi_document() -> dict[str, Any]:
    """caseroom.api_docs.openapi_json() -> str, imported on demand (it pulls in every router)."""
    try:
        module = importlib.import_module("caseroom.api_docs")
        document = json.loads(module.openapi_json())
    except Exception as exc:  # any failure is reported the same way: the docs are not available
        raise OpenApiUnavailable(
            "The OpenAPI document is not available: caseroom.api_docs.openapi_json() failed "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(document, dict):
        raise OpenApiUnavailable("caseroom.api_docs.openapi_json() did not return a JSON object")
    return document


MAX_CLOCK_ADVANCE_S = 400 * 24 * 3600  # a bit over a year per call


class DevTools:
    def __init__(
        self, identity: DevIdentityProvider, advance_clock: Callable[[float], datetime] | None = None
    ) -> None:
        self._identity = identity
        self._advance_clock = advance_clock

    def register(self, app: web.Application) -> None:
        app.router.add_post("/_local/sign-in", self.sign_in)
        app.router.add_get("/_local/users", self.users)
        app.router.add_get("/_local/jwks.json", self.jwks)
        app.router.add_get("/.well-known/jwks.json", self.jwks)
        app.router.add_post("/_local/clock", self.move_clock)
        app.router.add_get("/_local/clock", self.read_clock)
        app.router.add_get("/_local/mailbox", self.mailbox)
        app.router.add_get("/_local/mailbox.json", self.mailbox_json)
        app.router.add_get("/docs", self.docs)
        app.router.add_get("/openapi.json", self.openapi)
        app.router.add_get("/_local/openapi-3.0.json", self.openapi_for_swagger_ui)
        app.router.add_static(SWAGGER_STATIC_PREFIX, _swagger_ui_dir())

    async def read_clock(self, _request: web.Request) -> web.Response:
        return web.json_response(_clock_view())

    async def move_clock(self, request: web.Request) -> web.Response:
        """POST {"advanceSeconds": N}: every function, the scheduler and the token issuer see the
        clock N seconds later from now on (local stage only; the clock never goes back)."""
        if self._advance_clock is None:
            return web.json_response(
                {"code": "CLOCK_FIXED", "message": "This runtime's clock cannot be moved."}, status=409
            )
        try:
            payload = await request.json()
            seconds = payload["advanceSeconds"]
            if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return web.json_response(
                {"code": "VALIDATION_ERROR", "message": 'Send JSON like {"advanceSeconds": 3600}.'},
                status=400,
            )
        if not 0 < seconds <= MAX_CLOCK_ADVANCE_S:
            return web.json_response(
                {
                    "code": "VALIDATION_ERROR",
                    "message": f"advanceSeconds must be above 0 and at most {MAX_CLOCK_ADVANCE_S}.",
                },
                status=400,
            )
        await asyncio.to_thread(self._advance_clock, float(seconds))
        LOG.info("clock moved forward by %s s", seconds)
        return web.json_response(_clock_view())

    async def sign_in(self, request: web.Request) -> web.Response:
        try:
            payload = await request.json()
            user_key = str(payload["user"])
        except (ValueError, KeyError, TypeError):
            return web.json_response(
                {"message": 'Send JSON like {"user": "clinician"}', "users": list(SEEDED_USERS)}, status=400
            )
        try:
            user = self._identity.user(user_key)
        except UnknownUser:
            return web.json_response(
                {"message": f"No seeded user {user_key!r}", "users": list(SEEDED_USERS)}, status=404
            )
        token = self._identity.issue_id_token(user.key)
        return web.json_response(
            {
                "idToken": token,
                "tokenType": "Bearer",
                "expiresIn": TOKEN_LIFETIME_S,
                "user": user.public_view(),
            }
        )

    async def users(self, _request: web.Request) -> web.Response:
        return web.json_response({"users": [user.public_view() for user in SEEDED_USERS.values()]})

    async def jwks(self, _request: web.Request) -> web.Response:
        return web.json_response(self._identity.jwks())

    async def mailbox(self, _request: web.Request) -> web.Response:
        return web.Response(text=render_mailbox_html(sent_emails()), content_type="text/html")

    async def mailbox_json(self, _request: web.Request) -> web.Response:
        return web.json_response({"messages": sent_emails()})

    async def openapi(self, request: web.Request) -> web.Response:
        try:
            document = await asyncio.to_thread(load_openapi_document)
        except OpenApiUnavailable as exc:
            LOG.warning("%s", exc)
            return web.json_response({"message": str(exc)}, status=503)
        # "Try it out" must call this server, whatever the document says for the cloud.
        document["servers"] = [{"url": f"{request.scheme}://{request.host}", "description": "Local runtime"}]
        return web.json_response(document)

    async def openapi_for_swagger_ui(self, request: web.Request) -> web.Response:
        response = await self.openapi(request)
        if response.status != 200 or response.text is None:
            return response
        return web.json_response(to_openapi_30(json.loads(response.text)))

    async def docs(self, _request: web.Request) -> web.Response:
        return web.Response(text=_docs_page(), content_type="text/html")


def _swagger_ui_dir() -> Path:
    from swagger_ui_bundle import swagger_ui_path

    return Path(str(swagger_ui_path))


def _docs_page() -> str:
    options = "".join(
        f'<option value="{html.escape(u.key)}">{html.escape(u.name)} ({html.escape(u.group)})</option>'
        for u in SEEDED_USERS.values()
    )
    return _DOCS_PAGE.replace("{static}", SWAGGER_STATIC_PREFIX).replace("{options}", options)


# Swagger UI with a sign-in bar: the chosen seeded user's ID token is added to every request.
_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CaseRoom API (local)</title>
<link rel="stylesheet" href="{static}/swagger-ui.css">
<style>
body { margin: 0 }
#signin { font-family: system-ui, sans-serif; padding: .6rem 1rem; background: #1b1b1b; color: #fff }
#signin select, #signin button { margin-left: .4rem }
</style></head>
<body>
<div id="signin">Local sign-in:<select id="user">{options}</select><button id="go">Sign in</button>
<span id="who">not signed in: protected routes answer 401</span></div>
<div id="swagger-ui"></div>
<script src="{static}/swagger-ui-bundle.js"></script>
<script src="{static}/swagger-ui-standalone-preset.js"></script>
<script>
let idToken = null;
window.ui = SwaggerUIBundle({
  url: "/_local/openapi-3.0.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "BaseLayout",
  requestInterceptor: (req) => {
    if (idToken && !req.headers.Authorization) req.headers.Authorization = "Bearer " + idToken;
    return req;
  },
});
document.getElementById("go").onclick = async () => {
  const user = document.getElementById("user").value;
  const response = await fetch("/_local/sign-in", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user }),
  });
  const data = await response.json();
  idToken = data.idToken;
  document.getElementById("who").textContent =
    "signed in as " + data.user.name + " (" + data.user.group + "): requests carry this ID token";
};
</script></body></html>"""
