"""What every bounded context's routes share: the common path/query parameters (so the API
contract spells them once), the action each route declares, and the lazily built service the
routes call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from caseroom.access import Action

CaseIdPath = Annotated[str, Path(min_length=1, max_length=20, description="Case id, e.g. 7KQ2-M9XD-4RTA")]
PageSize = Annotated[int, Query(ge=1, le=100, description="Items per page")]
Cursor = Annotated[str | None, Query(max_length=2048, description="nextCursor of the previous page")]

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
