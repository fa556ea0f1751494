"""The error half of the API contract, added to the generated OpenAPI document.

Each operation lists every status it can answer, with the shared error body and, per status,
the stable codes it can carry (the `code` enum, plus one example per code). The errors come
from one place each:
- what every route answers (401, 403, 500, 503; public routes, whose action's scope is
  PUBLIC in caseroom.access.RIGHTS, only 500);
- what its parameters imply: a body -> 400 MALFORMED_JSON / BODY_NOT_UTF8 / JSON_TOO_DEEP,
  415 UNSUPPORTED_MEDIA_TYPE, 422; any parameter -> 422; `caseId` -> 404 CASE_NOT_FOUND;
  `cursor` -> 400 INVALID_CURSOR; `Idempotency-Key` -> its three errors;
- what the route declares with `caseroom.route_support.raises` (its logic's domain errors);
- what API Gateway itself answers before or instead of the function ({"message": ...}):
  401 from the JWT authorizer, 413 over 10 MiB, 429 throttled, 500/503 when the function
  fails or times out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from caseroom import errors as e
from caseroom.access import RIGHTS, Scope
from caseroom.route_support import declared_action, declared_errors

AUTHENTICATED: tuple[type[e.DomainError], ...] = (
    e.Unauthenticated,
    e.RoleNotAllowed,
    e.DatabaseBusy,
    e.InternalError,
)
PUBLIC: tuple[type[e.DomainError], ...] = (e.InternalError,)
WITH_BODY: tuple[type[e.DomainError], ...] = (
    e.MalformedJson,
    e.BodyNotUtf8,
    e.JsonTooDeep,
    e.UnsupportedMediaType,
    e.ValidationFailed,
)
WITH_IDEMPOTENCY_KEY: tuple[type[e.DomainError], ...] = (
    e.InvalidRequest,
    e.IdempotencyInProgress,
    e.IdempotencyKeyReused,
)
GATEWAY = {
    401: "API Gateway's JWT authorizer: no, expired or invalid bearer token",
    413: "API Gateway: the request is larger than 10 MiB",
    429: "API Gateway: throttled; retry with backoff",
    500: "API Gateway: the function failed",
    503: "API Gateway: the function did not answer in time",
}
GATEWAY_ONLY_FOR_AUTHENTICATED = {401}

TAGS = {
    "cases": "Cases: the Rx, statuses and their timeline, archive, audit trail, Rx script",
    "labs": "The labs I can send cases to",
    "team": "Team-Up: case teams, invitations, cases shared with me, my network",
    "files": "Case files: uploads straight to S3, galleries, downloads",
    "planning": "Planning sessions: the lab's blocks, booking, calendar files",
    "notifications": "My notification feed and email preferences",
    "webhooks": "Signed webhooks: endpoints, secrets, delivery log",
    "sharing": "Share links: 24-hour guest access to chosen galleries; the guest's token-authorized view",
    "passport": "The patient's Passport: connection, shared galleries, downloads, export, who saw my records",
    "chat": "The room: WebSocket tickets, each case's team and patient rooms, history, unread counts, edits",
    "account": "The signed-in user",
    "system": "Public operational routes",
}

EXAMPLE_REQUEST_ID = "JKJaXmPLvHcESHA="
ERROR_BODY_REF = "#/components/schemas/ErrorBody"
GATEWAY_ERROR_REF = "#/components/schemas/GatewayError"


def route_errors(route: Any) -> tuple[list[type[e.DomainError]], bool]:
    """The domain errors a powertools Route can answer, and whether it is public (its action's
    scope in caseroom.access.RIGHTS, or declared)."""
    declared = declared_errors(route.func)
    action = declared_action(route.func)
    public = declared.public or (action is not None and RIGHTS[action].scope is Scope.PUBLIC)
    dependant = route.dependant
    found: list[type[e.DomainError]] = list(PUBLIC if public else AUTHENTICATED)
    params = [*dependant.path_params, *dependant.query_params, *dependant.header_params]
    if dependant.body_params:
        found += WITH_BODY
    if params:
        found.append(e.ValidationFailed)
    if any(p.alias == "caseId" for p in dependant.path_params):
        found.append(e.CaseNotFound)
    if any(p.alias == "cursor" for p in dependant.query_params):
        found.append(e.InvalidCursor)
    if any(p.alias.lower() == "idempotency-key" for p in dependant.header_params):
        found += WITH_IDEMPOTENCY_KEY
    found += declared.errors
    unique: dict[str, type[e.DomainError]] = {}
    for error in found:
        unique.setdefault(error.code, error)
    return list(unique.values()), public


def route_tag(route: Any) -> str:
    declared = declared_errors(route.func)
    if declared.tag:
        return declared.tag
    module = str(route.func.__module__).split(".")  # caseroom.<context>.routes
    return module[1] if len(module) > 2 else module[-1]


def _example(error: type[e.DomainError]) -> dict[str, Any]:
    value: dict[str, Any] = {
        "code": error.code,
        "message": error.message,
        "requestId": EXAMPLE_REQUEST_ID,
        "details": [],
    }
    if error is e.ValidationFailed:
        value["details"] = [{"loc": ["body", "patientName"], "type": "string_too_long"}]
    if error is e.IllegalTransition:
        value["allowed"] = ["Received", "Missing CBCT/Models", "On Hold", "Cancelled"]
    return {"summary": error.message, "value": value}


def _error_response(status: int, group: Sequence[type[e.DomainError]], gateway: str | None) -> dict[str, Any]:
    codes = sorted(error.code for error in group)
    lines = [f"`{error.code}`: {error.message}" for error in sorted(group, key=lambda x: x.code)]
    examples = {error.code: _example(error) for error in sorted(group, key=lambda x: x.code)}
    alternatives: list[dict[str, Any]] = []
    if group:
        alternatives.append({"allOf": [{"$ref": ERROR_BODY_REF}, {"properties": {"code": {"enum": codes}}}]})
    if gateway:
        lines.append(f"`{{message}}` only: {gateway}")
        examples["gateway"] = {"summary": gateway, "value": {"message": "Unauthorized"}}
        if status != 401:
            examples["gateway"]["value"] = {"message": _gateway_message(status)}
        alternatives.append({"$ref": GATEWAY_ERROR_REF})
    schema = alternatives[0] if len(alternatives) == 1 else {"anyOf": alternatives}
    return {
        "description": "; ".join(lines),
        "content": {"application/json": {"schema": schema, "examples": examples}},
    }


def _gateway_message(status: int) -> str:
    return {
        413: "Request Entity Too Large",
        429: "Too Many Requests",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }.get(status, "Unauthorized")


def error_responses(errors: Iterable[type[e.DomainError]], public: bool) -> dict[str, dict[str, Any]]:
    by_status: dict[int, list[type[e.DomainError]]] = {}
    for error in errors:
        by_status.setdefault(error.status, []).append(error)
    gateway_statuses = {
        status for status in GATEWAY if not (public and status in GATEWAY_ONLY_FOR_AUTHENTICATED)
    }
    return {
        str(status): _error_response(status, by_status.get(status, []), GATEWAY.get(status))
        for status in sorted(set(by_status) | gateway_statuses)
    }


def _schemas() -> dict[str, Any]:
    from caseroom.http import ErrorBody

    schema = ErrorBody.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    schema["required"] = sorted({*schema.get("required", []), "code", "message"})
    return {
        **definitions,
        "ErrorBody": schema,
        "GatewayError": {
            "title": "GatewayError",
            "description": "What API Gateway answers itself (authorizer, size limit, throttling, "
            "function failure or timeout), before or instead of CaseRoom's code",
            "type": "object",
            "properties": {"message": {"type": "string"}},
            "required": ["message"],
            "additionalProperties": False,
        },
    }


def _share_repeated_responses(document: dict[str, Any]) -> None:
    """An error response identical in several operations (401, 403, 413, 429, 500, ...) is
    written once under components/responses and referenced: the document stays readable."""
    seen: dict[str, int] = {}
    operations = [op for path in document["paths"].values() for op in path.values()]
    for operation in operations:
        for status, response in operation["responses"].items():
            if status >= "400":
                key = json.dumps(response, sort_keys=True)
                seen[key] = seen.get(key, 0) + 1
    shared = document["components"].setdefault("responses", {})
    names: dict[str, str] = {}
    for operation in operations:
        for status, response in list(operation["responses"].items()):
            key = json.dumps(response, sort_keys=True)
            if status < "400" or seen.get(key, 0) < 2:
                continue
            if key not in names:
                codes = [c for c in response["content"]["application/json"]["examples"] if c != "gateway"]
                names[key] = "-".join([status, *codes]) if codes else f"{status}-gateway"
                shared[names[key]] = response
            operation["responses"][status] = {"$ref": f"#/components/responses/{names[key]}"}


def add_error_contract(document: dict[str, Any], routes: Iterable[Any]) -> dict[str, Any]:
    """Adds each route's error responses, its tag and (public routes) `security: []`."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components.update(_schemas())
    used_tags: set[str] = set()
    for route in routes:
        operation = document["paths"][route.openapi_path][route.method.lower()]
        errors, public = route_errors(route)
        tag = route_tag(route)
        used_tags.add(tag)
        operation["tags"] = [tag]
        if public:
            operation["security"] = []
        responses = {
            status: response
            for status, response in operation.get("responses", {}).items()
            if status.startswith("2")
        }
        responses.update(error_responses(errors, public))
        operation["responses"] = responses
    document["tags"] = [{"name": name, "description": TAGS[name]} for name in TAGS if name in used_tags]
    _share_repeated_responses(document)
    # Drop Powertools' validation schemas nothing refers to any more: first those the paths do
    # not use, then ValidationError only if no remaining schema refers to it (a dangling $ref
    # makes the document invalid, and the web app's client generator refuses it).
    paths_text = repr(document["paths"])
    for unused in ("HTTPValidationError", "ResponseValidationError"):
        if f"#/components/schemas/{unused}'" not in paths_text:
            components.pop(unused, None)
    if "#/components/schemas/ValidationError'" not in paths_text + repr(components):
        components.pop("ValidationError", None)
    return document
