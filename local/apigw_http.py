"""API Gateway HTTP API semantics, as pure functions: route matching, the payload v2.0 event,
claim flattening and the Lambda response translation. No sockets here, so tests are cheap."""

from __future__ import annotations

import base64
import json
import secrets
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infra import manifest
from local.aws_backend import ACCOUNT_ID

API_ID = "local"
STAGE = "$default"
MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024  # HTTP API payload quota
MAX_LAMBDA_RESPONSE_BYTES = 6 * 1024 * 1024  # synchronous invocation response quota

# Verified against AWS: only these content types reach the function as text; everything else,
# including a missing Content-Type and application/x-www-form-urlencoded, arrives base64-encoded.
_TEXT_CONTENT_TYPES = ("application/json", "application/xml", "application/javascript")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class HttpRequest:
    """What the gateway needs from an incoming request, independent of the web framework."""

    method: str
    raw_path: str  # percent-encoded, as received, without the query string
    raw_query: str = ""
    headers: Sequence[tuple[str, str]] = ()  # original order; a repeated header appears repeatedly
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ",".join(values) if values else None


@dataclass(frozen=True)
class RouteMatch:
    route: manifest.HttpRoute
    path_parameters: dict[str, str] = field(default_factory=dict)


class RouteTable:
    """Matches requests to manifest routes: `{name}` is one path segment, `{name+}` the rest.

    When several routes match, the most specific wins, as in API Gateway: literal segments
    beat parameters, parameters beat greedy parameters, and a method beats ANY.
    """

    def __init__(self, routes: Sequence[manifest.HttpRoute] = manifest.HTTP_ROUTES) -> None:
        self._routes = [
            (route, route.path.strip("/").split("/") if route.path != "/" else []) for route in routes
        ]

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        if not raw_path.startswith("/"):
            return None
        # Empty segments ("/cases/", "//cases") are kept, so they match no route, as in API Gateway.
        segments = raw_path[1:].split("/") if raw_path != "/" else []
        candidates: list[tuple[tuple[int, ...], RouteMatch]] = []
        for route, pattern in self._routes:
            if route.method not in (method.upper(), "ANY"):
                continue
            params = _match_segments(pattern, segments)
            if params is not None:
                specificity = (*(_segment_rank(p) for p in pattern), 1 if route.method == "ANY" else 0)
                candidates.append((specificity, RouteMatch(route, params)))
        return min(candidates, key=lambda c: c[0])[1] if candidates else None


def _segment_rank(segment: str) -> int:
    if segment.startswith("{") and segment.endswith("+}"):
        return 2
    return 1 if segment.startswith("{") else 0


def _match_segments(pattern: list[str], segments: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for index, part in enumerate(pattern):
        if part.startswith("{") and part.endswith("+}"):
            rest = segments[index:]
            if not rest or not rest[0]:
                return None
            params[part[1:-2]] = urllib.parse.unquote("/".join(rest))
            return params
        if index >= len(segments) or not segments[index]:
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = urllib.parse.unquote(segments[index])
        elif part != segments[index]:
            return None
    return params if len(segments) == len(pattern) else None


def flatten_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway's JWT authorizer passes them on: every value a string."""
    return {key: _claim_string(value) for key, value in claims.items()}


def _claim_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(_claim_string(v) for v in value) + "]"
    if isinstance(value, Mapping):  # Go's map formatting, keys sorted
        return "map[" + " ".join(f"{k}:{_claim_string(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)


def new_request_id() -> str:
    # The shape of API Gateway's ids (e.g. "JKJaXmPLvHcESHA="): 16 base64 characters.
    return base64.b64encode(secrets.token_bytes(11)).decode().replace("/", "x").replace("+", "y")


def apigw_time(moment: datetime) -> str:
    """dd/Mon/yyyy:HH:mm:ss +0000, with English month names whatever the locale."""
    utc = moment.astimezone(UTC)
    return f"{utc.day:02d}/{_MONTHS[utc.month - 1]}/{utc.year}:{utc:%H:%M:%S} +0000"


def encode_request_body(body: bytes, content_type: str | None) -> tuple[str, bool]:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type.startswith("text/") or media_type in _TEXT_CONTENT_TYPES:
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def build_http_event(
    request: HttpRequest,
    match: RouteMatch,
    *,
    request_id: str,
    now: datetime,
    claims: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway sends to a Lambda integration."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":  # v2 moves cookies out of the headers into their own list
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    host = headers.get("host", "127.0.0.1")
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-port", host.rsplit(":", 1)[1] if ":" in host else "80")
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(now.timestamp()):08x}-{secrets.token_hex(12)}")

    route_key = match.route.route_key
    request_context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0],
        "http": {
            "method": request.method.upper(),
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route_key,
        "stage": STAGE,
        "time": apigw_time(now),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": flatten_claims(claims), "scopes": None}}

    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    query = _query_parameters(request.raw_query)
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = request_context
    if match.path_parameters:
        event["pathParameters"] = dict(match.path_parameters)
    if request.body:
        event["body"], event["isBase64Encoded"] = encode_request_body(
            request.body, headers.get("content-type")
        )
    else:
        event["isBase64Encoded"] = False
    return event


def event_for(
    method: str,
    path: str,
    *,
    claims: Mapping[str, Any] | None = None,
    body: str | None = None,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The event the gateway would build for this request, for code that invokes handlers
    directly (tests, benchmarks). Raises LookupError when no manifest route matches."""
    match = RouteTable().match(method, path)
    if match is None:
        raise LookupError(f"no route for {method} {path}")
    all_headers = {"content-type": "application/json", **(headers or {})}
    request = HttpRequest(
        method=method,
        raw_path=path,
        raw_query=urllib.parse.urlencode(query or {}),
        headers=tuple(all_headers.items()),
        body=body.encode() if body is not None else b"",
        source_ip=source_ip,
    )
    return build_http_event(
        request,
        match,
        request_id=request_id or new_request_id(),
        now=now or datetime.now(UTC),
        claims=claims,
    )


def _query_parameters(raw_query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in urllib.parse.parse_qsl(raw_query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def error_response(status: int, message: str, request_id: str = "") -> HttpResponse:
    """API Gateway's own error bodies: {"message": "..."}."""
    headers = [("content-type", "application/json")]
    if request_id:
        headers.append(("apigw-requestid", request_id))
    return HttpResponse(status, headers, json.dumps({"message": message}).encode())


class InvalidLambdaResponse(ValueError):
    pass


def translate_lambda_response(result: Any, request_id: str) -> HttpResponse:
    """Turns what the handler returned into the HTTP response, with payload 2.0 rules.

    A dict with statusCode is a structured response; anything else (a dict without statusCode,
    a list, a string, None) is the JSON body of a 200 response.
    """
    if not (isinstance(result, Mapping) and "statusCode" in result):
        body = json.dumps(result).encode()
        return _checked_size(
            HttpResponse(200, [("content-type", "application/json"), ("apigw-requestid", request_id)], body)
        )
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError) as exc:
        raise InvalidLambdaResponse(f"statusCode {result['statusCode']!r} is not a number") from exc
    if not 100 <= status <= 599:
        raise InvalidLambdaResponse(f"statusCode {status} is out of range")

    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        headers.append((str(name), _header_value(value)))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), _header_value(v)) for v in (values or []))
    headers.extend(("set-cookie", str(cookie)) for cookie in result.get("cookies") or [])
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("content-type", "application/json"))
    headers.append(("apigw-requestid", request_id))

    raw_body = result.get("body")
    if raw_body is None:
        body = b""
    elif result.get("isBase64Encoded"):
        body = base64.b64decode(str(raw_body))
    elif isinstance(raw_body, str):
        body = raw_body.encode()
    else:
        body = json.dumps(raw_body).encode()
    return _checked_size(HttpResponse(status, headers, body))


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _checked_size(response: HttpResponse) -> HttpResponse:
    if len(response.body) > MAX_LAMBDA_RESPONSE_BYTES:
        raise InvalidLambdaResponse(
            f"response body of {len(response.body)} bytes exceeds Lambda's 6 MB limit"
        )
    return response
