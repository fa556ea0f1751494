"""HTTP routes of planning sessions (the planning_api function). Thin: parse, identify, call."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from caseroom.access import Action
from caseroom.auth import Principal
from caseroom.errors import (
    AmbiguousStartTime,
    BlockInPast,
    BlockNotFound,
    BlockOverlaps,
    BlockTaken,
    InvalidRequest,
    InvalidStartTime,
    InvalidTimezone,
    NoPlanningSession,
    NotReadyToPlan,
    VersionConflict,
)
from caseroom.http import current_principal, request_meta
from caseroom.planning.logic import PlanningService
from caseroom.planning.models import (
    BlockPage,
    BlockView,
    BookingView,
    BookRequest,
    CancelRequest,
    HeldRequest,
    PublishBlockRequest,
    RescheduleRequest,
    SessionView,
)
from caseroom.route_support import (
    CaseIdPath,
    Cursor,
    IdempotencyKey,
    PageSize,
    ServiceSlot,
    create_once,
    declares,
    raises,
)

router = Router()


_services = ServiceSlot(PlanningService)
service = _services.get
use_service = _services.use  # tests inject a service with a fixed clock


def _who() -> Principal:
    return current_principal(router)


@router.post(
    "/lab/planning/blocks",
    summary="Lab publishes a free planning block",
    responses={201: {"description": "Created"}},
)
@declares(Action.PLANNING_BLOCK_PUBLISH)
@raises(InvalidTimezone, InvalidStartTime, AmbiguousStartTime, BlockInPast, BlockOverlaps)
def publish_block(
    body: Annotated[PublishBlockRequest, Body()], idempotency_key: IdempotencyKey = None
) -> tuple[BlockView, int]:
    who = _who()
    block = create_once(
        "publish_block",
        who.user_id,
        idempotency_key,
        {"body": body.model_dump(mode="json", by_alias=True)},
        BlockView,
        lambda: service().publish_block(who, body),
        router.lambda_context,
    )
    return block, 201


@router.get("/lab/planning/blocks", summary="The lab's planning blocks from today on, free and booked")
@declares(Action.PLANNING_LAB_BLOCKS_LIST)
def lab_blocks(limit: PageSize = 50, cursor: Cursor = None) -> BlockPage:
    return service().lab_blocks(_who(), limit, cursor, request_meta(router))


@router.get("/cases/<caseId>/planning/blocks", summary="Free blocks the case's clinician can book")
@declares(Action.PLANNING_FREE_BLOCKS_READ)
def free_blocks(caseId: CaseIdPath, limit: PageSize = 50, cursor: Cursor = None) -> BlockPage:
    return service().free_blocks(_who(), caseId, limit, cursor, request_meta(router))


@router.post(
    "/cases/<caseId>/planning",
    summary="Clinician books a free block (case Ready to Plan or Planning No Show)",
    responses={201: {"description": "Booked; includes an iCalendar file and a Google Calendar link"}},
)
@declares(Action.PLANNING_BOOK)
@raises(NotReadyToPlan, BlockNotFound, BlockTaken, BlockInPast, VersionConflict)
def book(
    caseId: CaseIdPath, body: Annotated[BookRequest, Body()], idempotency_key: IdempotencyKey = None
) -> tuple[BookingView, int]:
    who, meta = _who(), request_meta(router)
    booking = create_once(
        "book_planning",
        who.user_id,
        idempotency_key,
        {"caseId": caseId, "body": body.model_dump(mode="json", by_alias=True)},
        BookingView,
        lambda: service().book(who, caseId, body, meta),
        router.lambda_context,
    )
    return booking, 201


@router.get("/cases/<caseId>/planning", summary="The case's planning session")
@declares(Action.PLANNING_READ)
@raises(NoPlanningSession)
def session(caseId: CaseIdPath) -> SessionView:
    return service().session(_who(), caseId, request_meta(router))


@router.get("/cases/<caseId>/planning/ics", summary="The session as an iCalendar (.ics) file")
@declares(Action.PLANNING_ICS_DOWNLOAD)
@raises(NoPlanningSession)
def calendar_file(caseId: CaseIdPath) -> Response[str]:
    file_name, ics = service().calendar_file(_who(), caseId, request_meta(router))
    return Response(
        status_code=200,
        content_type="text/calendar; charset=utf-8",
        body=ics,
        headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
    )


@router.post(
    "/cases/<caseId>/planning/reschedule", summary="Lab moves the booked session to another free block"
)
@declares(Action.PLANNING_RESCHEDULE)
@raises(NoPlanningSession, BlockNotFound, InvalidRequest, BlockTaken, BlockInPast, VersionConflict)
def reschedule(caseId: CaseIdPath, body: Annotated[RescheduleRequest, Body()]) -> SessionView:
    return service().reschedule(_who(), caseId, body, request_meta(router))


@router.post(
    "/cases/<caseId>/planning/cancel", summary="Lab cancels the booked session (case back to Ready to Plan)"
)
@declares(Action.PLANNING_CANCEL)
@raises(NoPlanningSession, VersionConflict)
def cancel(caseId: CaseIdPath, body: Annotated[CancelRequest, Body()]) -> SessionView:
    return service().cancel(_who(), caseId, body, request_meta(router))


@router.post(
    "/cases/<caseId>/planning/held", summary="Lab marks the session held (no missed-session follow-up)"
)
@declares(Action.PLANNING_HELD)
@raises(NoPlanningSession, VersionConflict)
def mark_held(caseId: CaseIdPath, body: Annotated[HeldRequest, Body()]) -> SessionView:
    return service().mark_held(_who(), caseId, body, request_meta(router))
