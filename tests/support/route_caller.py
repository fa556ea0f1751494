"""Calls any HTTP route through the handler of the function the manifest routes it to, in
process, as the local gateway would after the JWT authorizer let the caller through."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

from caseroom.auth import Principal
from infra import manifest
from tests.conftest import CLINICIAN, http_event, lambda_context

Api = Callable[..., tuple[int, Any]]


def route_caller() -> Api:
    functions = {route.route_key: route.function for route in manifest.HTTP_ROUTES}
    counter = iter(range(1_000_000))

    def invoke(
        method: str, route: str, path: str | None = None, who: Principal | None = CLINICIAN, **kwargs: Any
    ) -> tuple[int, Any]:
        function = functions[f"{method} {route}"]
        handler = importlib.import_module(manifest.function(function).module).lambda_handler
        event = http_event(method, route, path or route, who, request_id=f"req-{next(counter)}", **kwargs)
        response = handler(event, lambda_context(function))
        body = response.get("body") or ""
        is_json = response.get("headers", {}).get("Content-Type", "").startswith("application/json")
        return response["statusCode"], (json.loads(body) if is_json and body else response)

    return invoke
