"""Calling a Lambda handler in this process, quietly (its metric flush prints EMF lines)."""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.events import lambda_context

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class HttpResult:
    status: int
    body: dict[str, Any]


def invoke_http(handler: Handler, event: dict[str, Any], function_name: str = "cases_api") -> HttpResult:
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        # Reads publish no metric; Powertools warns about the empty flush every time.
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        response = handler(event, lambda_context(function_name))
    raw_body = response.get("body")
    return HttpResult(status=int(response["statusCode"]), body=json.loads(raw_body) if raw_body else {})
