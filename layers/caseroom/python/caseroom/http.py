"""The HTTP adapter shared by every API function: a validating Powertools resolver, the one
place domain errors become HTTP responses, and the caller's identity and request metadata."""

from __future__ import annotations

import base64
import binascii
import json
import re
import types
from enum import Enum
from typing import Annotated, Any, Union, cast, get_args, get_origin

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Route, Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel, ConfigDict, Field

from caseroom.audit import RequestMeta
from caseroom.auth import Principal, principal_from_http_event
from caseroom.errors import (
    BodyNotUtf8,
    DatabaseBusy,
    DomainError,
    InternalError,
    JsonTooDeep,
    MalformedJson,
    RouteNotFound,
    UnsupportedMediaType,
    ValidationFailed,
    is_transient_database_failure,
)
from caseroom.observability import failure_facts, logger

# How request bodies are read (README "Request bodies"):
# - application/json (or any application/*+json), charset utf-8 if one is named: JSON.
# - no Content-Type, or application/x-www-form-urlencoded whose body starts with `{` or `[`:
#   JSON too. That is what `curl -d '{...}'` sends; a form body is never turned into fields.
# - anything else: 415 UNSUPPORTED_MEDIA_TYPE.
# The body must be UTF-8 (400 BODY_NOT_UTF8; also for a JSON string escaping a lone surrogate),
# valid JSON without NaN/Infinity (400 MALFORMED_JSON) and at most MAX_JSON_DEPTH levels of
# objects/arrays deep (400 JSON_TOO_DEEP).
MAX_JSON_DEPTH = 32
JSON_MEDIA_TYPE = "application/json"
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class ErrorDetail(BaseModel):
    model_config = ConfigDict(defer_build=True)

    loc: list[str | int] = Field(description="Where the problem is; never the offending value")
    type: str


class ErrorBody(BaseModel):
    """Every error CaseRoom returns. `code` is stable and machine-readable; `message` is for
    people and never repeats what was sent (it may be patient data)."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    code: str
    message: str
    request_id: str = Field(default="", alias="requestId")
    details: list[ErrorDetail] = Field(default_factory=list)
    allowed: list[str] | None = Field(
        default=None, description="For ILLEGAL_TRANSITION: the statuses the case may move to from here"
    )


def _request_id(app: APIGatewayHttpResolver) -> str:
    try:
        return str(app.current_event.request_context.request_id or "")
    except (AttributeError, KeyError, TypeError):
        return ""


def error_response(
    app: APIGatewayHttpResolver,
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    allowed: list[str] | None = None,
) -> Response[str]:
    body = ErrorBody(
        code=code,
        message=message,
        request_id=_request_id(app),
        details=[ErrorDetail.model_validate(d) for d in details or []],
        allowed=allowed,
    )
    return Response(
        status_code=status,
        content_type="application/json",
        body=body.model_dump_json(by_alias=True, exclude_none=True),
        headers=headers or {},
    )


# --- request bodies --------------------------------------------------------------------------


def _media_type(header: str) -> tuple[str, dict[str, str]]:
    media_type, _, rest = header.partition(";")
    params = {}
    for part in rest.split(";"):
        name, _, value = part.partition("=")
        if name.strip():
            params[name.strip().lower()] = value.strip().strip('"').lower()
    return media_type.strip().lower(), params


def _body_text(event: APIGatewayProxyEventV2) -> str:
    raw = event.body or ""
    try:
        data = base64.b64decode(raw, validate=True) if event.is_base64_encoded else raw.encode("utf-8")
        return data.decode("utf-8")
    except (binascii.Error, UnicodeError) as exc:  # UnicodeEncodeError: a lone surrogate in text
        raise BodyNotUtf8() from exc


def _reject_constant(_name: str) -> Any:
    raise MalformedJson()  # NaN, Infinity, -Infinity are not JSON


def _check_json_value(document: Any) -> None:
    """Depth and Unicode of a parsed body, iteratively (a recursive walk is what overflows)."""
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _LONE_SURROGATE.search(value):
                raise BodyNotUtf8()
        elif isinstance(value, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise JsonTooDeep()
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and _LONE_SURROGATE.search(key):
                    raise BodyNotUtf8()
                pending.append((item, depth + 1))


def parse_json_body(text: str) -> Any:
    if not text.strip():
        return None  # the route's body parameter is then "missing": 422
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise MalformedJson() from exc
    except RecursionError as exc:
        raise JsonTooDeep() from exc
    _check_json_value(document)
    return document


def _is_int(annotation: Any) -> bool:
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if annotation is int:
        return True
    args = get_args(annotation)
    return bool(args) and int in args and all(a in (int, type(None)) for a in args)


def _decimal_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


class _RequestValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, reading bodies by CaseRoom's rules (above): its own
    would parse a form body into fields named after the body, and answer other types 500."""

    def handler(self, app: Any, next_middleware: Any) -> Response[Any]:
        route: Route = app.context["_route"]
        query = app.current_event.query_string_parameters or {}
        wrong = [
            {"type": "int_parsing", "loc": ("query", param.alias), "msg": "", "input": None}
            for param in route.dependant.query_params
            if _is_int(param.type_) and param.alias in query and not _decimal_digits(query[param.alias])
        ]
        if wrong:  # pydantic would take "1.0", "+1" or " 1" for 1
            raise RequestValidationError(wrong)
        return super().handler(app, next_middleware)

    def _get_body(self, app: Any) -> Any:
        event = cast(APIGatewayProxyEventV2, app.current_event)
        media_type, params = _media_type(event.headers.get("content-type", ""))
        is_json = media_type == JSON_MEDIA_TYPE or (
            media_type.startswith("application/") and media_type.endswith("+json")
        )
        if is_json and params.get("charset", "utf-8") not in ("utf-8", "utf8"):
            raise UnsupportedMediaType()
        if not is_json and media_type not in ("", FORM_MEDIA_TYPE):
            raise UnsupportedMediaType()
        text = _body_text(event)
        if media_type == FORM_MEDIA_TYPE and not text.lstrip().startswith(("{", "[")):
            raise UnsupportedMediaType()
        return parse_json_body(text)


# --- validation errors: where, never what -------------------------------------------------------

_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def _names_in(annotation: Any, into: set[str], seen: set[int]) -> None:
    """Every field name and alias reachable from a type: what a client may legitimately name."""
    if id(annotation) in seen:
        return
    seen.add(id(annotation))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            into.add(name)
            if field.alias:
                into.add(field.alias)
            _names_in(field.annotation, into, seen)
        return
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return  # enum values are dict keys at most, and pydantic reports a bad key as "[key]"
    origin = get_origin(annotation)
    if origin is Annotated:
        _names_in(get_args(annotation)[0], into, seen)
    elif origin is not None or isinstance(annotation, types.UnionType) or origin is Union:
        for arg in get_args(annotation):
            _names_in(arg, into, seen)


_known_names_cache: dict[int, frozenset[str]] = {}


def _known_names(route: Route | None) -> frozenset[str]:
    if route is None:
        return frozenset()
    cached = _known_names_cache.get(id(route))
    if cached is None:
        names: set[str] = set()
        dependant = route.dependant
        for param in (
            *dependant.path_params,
            *dependant.query_params,
            *dependant.header_params,
            *dependant.cookie_params,
            *dependant.body_params,
        ):
            names.update((param.name, param.alias))
            _names_in(param.type_, names, set())
        cached = _known_names_cache[id(route)] = frozenset(names)
    return cached


def _safe_loc(loc: tuple[Any, ...] | list[Any], error_type: str, known: frozenset[str]) -> list[str | int]:
    """The path up to the first part the client made up: an unknown key (extra_forbidden), a
    dictionary key, or (with a form body) the body itself. Indexes and known names stay."""
    parts = list(loc)
    if error_type == "extra_forbidden" and parts:
        parts = parts[:-1]
    safe: list[str | int] = []
    for part in parts:
        index = isinstance(part, int) and not isinstance(part, bool)
        if not (index or (isinstance(part, str) and (part in _LOCATIONS or part in known))):
            break
        safe.append(part)
    return safe


def _validation_details(errors: list[dict[str, Any]], route: Route | None = None) -> list[dict[str, Any]]:
    # Keep the location and error type only: pydantic's "input" and "msg" can echo values,
    # and a location can hold a key the client invented.
    known = _known_names(route)
    return [
        {"loc": _safe_loc(e.get("loc", ()), str(e.get("type", "")), known), "type": str(e.get("type", ""))}
        for e in errors
    ]


class CaseRoomResolver(APIGatewayHttpResolver):
    """The validating resolver with CaseRoom's request-body rules."""

    def __init__(self) -> None:
        super().__init__(enable_validation=True)
        self._request_validation_middleware = _RequestValidation()


def build_http_app(*routers: Router) -> APIGatewayHttpResolver:
    app = CaseRoomResolver()
    for router in routers:
        app.include_router(router)

    @app.exception_handler(DomainError)
    def domain_error(exc: DomainError) -> Response[str]:
        retry_later = exc.status == 503 or (exc.status == 409 and exc.code == "REQUEST_IN_PROGRESS")
        headers = {"Retry-After": "2"} if retry_later else None
        if exc.status == 429:
            headers = {"Retry-After": "60"}
        return error_response(app, exc.status, exc.code, exc.message, exc.details, headers, exc.allowed)

    @app.exception_handler(RequestValidationError)
    def invalid_request(exc: RequestValidationError) -> Response[str]:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return domain_error(MalformedJson())
        route = app.context.get("_route")
        return domain_error(ValidationFailed(details=_validation_details(errors, route)))

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_media_type(_exc: RequestUnsupportedContentType) -> Response[str]:
        return domain_error(UnsupportedMediaType())

    @app.not_found
    def route_not_found(_exc: NotFoundError) -> Response[str]:
        return domain_error(RouteNotFound())

    @app.exception_handler(Exception)
    def unexpected(exc: Exception) -> Response[str]:
        facts = failure_facts(exc)
        if is_transient_database_failure(facts):
            logger.warning("database busy", extra=facts)
            return domain_error(DatabaseBusy())
        logger.error("unhandled error", extra=facts)
        return domain_error(InternalError())

    return app


def _event(router: Router) -> APIGatewayProxyEventV2:
    return cast(APIGatewayProxyEventV2, router.current_event)


def current_principal(router: Router) -> Principal:
    return principal_from_http_event(router.current_event.raw_event)


def request_meta(router: Router) -> RequestMeta:
    context = _event(router).request_context
    request_id = str(context.request_id or "")
    return RequestMeta(
        request_id=request_id,
        source_ip=str(context.http.source_ip or ""),
        correlation_id=request_id,
        user_agent=str(context.http.user_agent or "")[:256],
    )


def header(router: Router, name: str) -> str | None:
    """A request header (API Gateway lower-cases their names), or None."""
    value = (router.current_event.headers or {}).get(name.lower())
    return str(value) if value is not None else None
