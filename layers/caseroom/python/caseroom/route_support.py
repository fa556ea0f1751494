"""What every bounded context's routes share: the common path/query parameters (so the API
contract spells them once), the action each route declares, `raises` (the one declaration of a
route's errors that the OpenAPI document is built from), and the lazily built service the
routes call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from pydantic import BaseModel

from caseroom.access import Action
from caseroom.errors import DomainError

CaseIdPath = Annotated[str, Path(min_length=1, max_length=20, description="Case id, e.g. 7KQ2-M9XD-4RTA")]
PageSize = Annotated[int, Query(ge=1, le=100, description="Items per page")]
Cursor = Annotated[str | None, Query(max_length=2048, description="nextCursor of the previous page")]

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="idempotency-key",
        description=(
            "A retry with the same key and the same request returns the first answer instead of "
            "creating again (kept 24 h); the same key with another request is refused."
        ),
    ),
]

_Service = TypeVar("_Service")
_Route = TypeVar("_Route", bound=Callable[..., Any])

ACTION_ATTRIBUTE = "caseroom_action"


def declares(action: Action) -> Callable[[_Route], _Route]:
    """Put under the route decorator: the action (caseroom.access.RIGHTS) the route performs.
    The route is returned unchanged (Powertools reads its signature); a test fails on any
    route without one, and the authorization matrix test is generated from these."""

    def mark(route: _Route) -> _Route:
        setattr(route, ACTION_ATTRIBUTE, action)
        return route

    return mark


def declared_action(route: Callable[..., Any]) -> Action | None:
    found = getattr(route, ACTION_ATTRIBUTE, None)
    return found if isinstance(found, Action) else None


_Model = TypeVar("_Model", bound=BaseModel)


def create_once(
    namespace: str,
    user_id: str,
    key: str | None,
    request: dict[str, Any],
    output: type[_Model],
    action: Callable[[], _Model],
    lambda_context: Any = None,
) -> _Model:
    """Runs a creating action at most once per Idempotency-Key (when one was sent). `request`
    is what identifies the request: its path parameters and body, compared on a retry."""
    if key is None:
        return action()
    from caseroom import idempotency

    return idempotency.run_once(namespace, user_id, key, request, output, action, lambda_context)


class ServiceSlot(Generic[_Service]):
    """Holds a context's service: built on first request (never at import), replaceable by tests
    (a service with a fixed clock); use(None) restores the default."""

    def __init__(self, factory: Callable[[], _Service]) -> None:
        self._factory = factory
        self._service: _Service | None = None

    def get(self) -> _Service:
        if self._service is None:
            self._service = self._factory()
        return self._service

    def use(self, replacement: _Service | None) -> None:
        self._service = replacement


RAISES_ATTRIBUTE = "__caseroom_raises__"


@dataclass(frozen=True)
class RouteErrors:
    """What a route declares for the contract (caseroom.contract): the domain errors its logic
    raises beyond those every route can answer, its tag when not its context's, and whether
    it is public (no JWT authorizer; must match infra/manifest.py)."""

    errors: tuple[type[DomainError], ...] = ()
    tag: str | None = None
    public: bool = False


def raises(
    *errors: type[DomainError], tag: str | None = None, public: bool = False
) -> Callable[[_Route], _Route]:
    """Declares a route's own errors. The statuses every route answers (401, 403, 422, 500, 503;
    400/415 with a body; 404 CASE_NOT_FOUND with a caseId; INVALID_CURSOR with a cursor; the
    Idempotency-Key errors) are derived from its parameters by caseroom.contract."""

    def mark(route: _Route) -> _Route:
        setattr(route, RAISES_ATTRIBUTE, RouteErrors(tuple(errors), tag, public))
        return route

    return mark


def declared_errors(route: Callable[..., object]) -> RouteErrors:
    found = getattr(route, RAISES_ATTRIBUTE, None)
    return found if isinstance(found, RouteErrors) else RouteErrors()
