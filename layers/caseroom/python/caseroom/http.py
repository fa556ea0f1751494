"""The HTTP adapter shared by every API function: a validating Powertools resolver, the one
place domain errors become HTTP responses, and the caller's identity and request metadata."""

from __future__ import annotations

from typing import Any, cast

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel, ConfigDict, Field

from caseroom.audit import RequestMeta
from caseroom.auth import Principal, principal_from_http_event
from caseroom.errors import DatabaseBusy, DomainError, is_transient_database_failure
from caseroom.observability import failure_facts, logger


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


def _validation_details(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Keep the location and error type only: pydantic's "input" and "msg" can echo values.
    return [
        {"loc": [p for p in e.get("loc", ()) if isinstance(p, str | int)], "type": str(e.get("type", ""))}
        for e in errors
    ]


def build_http_app(*routers: Router) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    for router in routers:
        app.include_router(router)

    @app.exception_handler(DomainError)
    def domain_error(exc: DomainError) -> Response[str]:
        retry_later = exc.status == 503 or (exc.status == 409 and exc.code == "REQUEST_IN_PROGRESS")
        headers = {"Retry-After": "2"} if retry_later else None
        return error_response(app, exc.status, exc.code, exc.message, exc.details, headers, exc.allowed)

    @app.exception_handler(RequestValidationError)
    def invalid_request(exc: RequestValidationError) -> Response[str]:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(app, 400, "MALFORMED_JSON", "The request body is not valid JSON.")
        return error_response(
            app,
            422,
            "VALIDATION_FAILED",
            "Some fields are missing, unknown, of the wrong type or too long.",
            _validation_details(errors),
        )

    @app.not_found
    def route_not_found(_exc: NotFoundError) -> Response[str]:
        return error_response(app, 404, "ROUTE_NOT_FOUND", "No such route.")

    @app.exception_handler(Exception)
    def unexpected(exc: Exception) -> Response[str]:
        facts = failure_facts(exc)
        if is_transient_database_failure(facts):
            logger.warning("database busy", extra=facts)
            return domain_error(DatabaseBusy())
        logger.error("unhandled error", extra=facts)
        return error_response(
            app, 500, "INTERNAL_ERROR", "Something went wrong on our side; it has been logged."
        )

    return app


def _event(router: Router) -> APIGatewayProxyEventV2:
    return cast(APIGatewayProxyEventV2, router.current_event)


def current_principal(router: Router) -> Principal:
    return principal_from_http_event(router.current_event.raw_event)


def request_meta(router: Router) -> RequestMeta:
    context = _event(router).request_context
    request_id = str(context.request_id or "")
    return RequestMeta(
        request_id=request_id, source_ip=str(context.http.source_ip or ""), correlation_id=request_id
    )
