"""HTTP routes of the cases API. Thin: parse, identify the caller, call the logic.

Typed parameters and return models are the contract (openapi.json is generated from them).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from pydantic import BaseModel, ConfigDict, Field

from caseroom import idempotency
from caseroom.access import Action
from caseroom.audit import Outcome
from caseroom.auth import Principal
from caseroom.cases.logic import CaseService
from caseroom.cases.models import (
    CasePage,
    CaseView,
    CreateCaseRequest,
    DownloadLink,
    ModifyCaseRequest,
    SetStatusRequest,
    TimelinePage,
    VersionRequest,
)
from caseroom.cases.sorting import SortColumn, SortOrder
from caseroom.errors import (
    CaseTypeNotOffered,
    DocumentNotReady,
    IllegalTransition,
    InvalidRequest,
    InvalidTooth,
    LabNotAvailable,
    NoLabConfigured,
    ReasonRequired,
    RxLocked,
    TrackingRequired,
    VersionConflict,
)
from caseroom.http import current_principal, request_meta
from caseroom.route_support import CaseIdPath, Cursor, PageSize, ServiceSlot, declares, raises

router = Router()


_services = ServiceSlot(CaseService)
service = _services.get
use_service = _services.use  # tests inject a service with a fixed clock


class Me(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    user_id: str = Field(alias="userId")
    email: str
    name: str
    role: str
    lab_id: str | None = Field(default=None, alias="labId")


class AuditEntry(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    actor_id: str = Field(alias="actorId")
    actor_role: str = Field(alias="actorRole")
    action: str = Field(description="e.g. case.read, case.create, case.status.set, rx_script.download")
    case_id: str | None = Field(default=None, alias="caseId")
    object_type: str = Field(alias="objectType")
    object_id: str = Field(alias="objectId")
    at: str
    source_ip: str = Field(alias="sourceIp")
    request_id: str = Field(alias="requestId")
    outcome: Outcome = Outcome.ALLOWED


class AuditPage(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    items: list[AuditEntry]
    next_cursor: str | None = Field(default=None, alias="nextCursor")


class Health(BaseModel):
    model_config = ConfigDict(defer_build=True)

    status: str


def _who() -> Principal:
    return current_principal(router)


@router.get("/health", summary="Liveness check (public)")
@declares(Action.HEALTH)
@raises(tag="system")
def health() -> Health:
    return Health(status="ok")


@router.get("/me", summary="The signed-in user")
@declares(Action.ME_READ)
@raises(tag="account")
def me() -> Me:
    who = _who()
    return Me(user_id=who.user_id, email=who.email, name=who.name, role=who.role.value, lab_id=who.lab_id)


@router.post("/cases", summary="Open a case with its Rx", responses={201: {"description": "Created"}})
@declares(Action.CASE_CREATE)
@raises(InvalidTooth, NoLabConfigured, LabNotAvailable, CaseTypeNotOffered)
def create_case(
    body: Annotated[CreateCaseRequest, Body()],
    idempotency_key: Annotated[
        str | None,
        Header(alias="idempotency-key", description="Retries with the same key return the same case"),
    ] = None,
) -> tuple[CaseView, int]:
    who, meta = _who(), request_meta(router)
    cases = service()
    if idempotency_key is None:
        return cases.create_case(who, body, meta), 201
    view = idempotency.run_once(
        "create_case",
        who.user_id,
        idempotency_key,
        body.model_dump(mode="json", by_alias=True),
        CaseView,
        lambda: cases.create_case(who, body, meta),
        router.lambda_context,
    )
    return view, 201


@router.get("/cases", summary="List my cases, most in need of attention first by default")
@declares(Action.CASE_LIST)
def list_cases(
    sort: Annotated[SortColumn, Query()] = SortColumn.ATTENTION,
    order: Annotated[SortOrder, Query()] = SortOrder.ASC,
    archived: Annotated[bool, Query(description="true: only archived cases")] = False,
    limit: PageSize = 25,
    cursor: Cursor = None,
) -> CasePage:
    return service().list_cases(_who(), archived, sort, order, limit, cursor, request_meta(router))


@router.get("/lab/cases", summary="The lab's queue, most in need of attention first")
@declares(Action.LAB_QUEUE_LIST)
def list_lab_queue(limit: PageSize = 25, cursor: Cursor = None) -> CasePage:
    return service().list_lab_queue(_who(), limit, cursor, request_meta(router))


@router.get("/cases/<caseId>", summary="Get a case")
@declares(Action.CASE_READ)
def get_case(caseId: CaseIdPath) -> CaseView:
    return service().get_case(_who(), caseId, request_meta(router))


@router.patch("/cases/<caseId>", summary="Modify the Rx (back to Processing, due date reset)")
@declares(Action.CASE_MODIFY)
@raises(InvalidRequest, InvalidTooth, VersionConflict, RxLocked)
def modify_case(caseId: CaseIdPath, body: Annotated[ModifyCaseRequest, Body()]) -> CaseView:
    return service().modify_case(_who(), caseId, body, request_meta(router))


@router.put(
    "/cases/<caseId>/status",
    summary="Lab moves the case along the declared transitions (409 ILLEGAL_TRANSITION lists the allowed)",
)
@declares(Action.CASE_STATUS_SET)
@raises(InvalidRequest, ReasonRequired, TrackingRequired, VersionConflict, IllegalTransition)
def set_status(caseId: CaseIdPath, body: Annotated[SetStatusRequest, Body()]) -> CaseView:
    return service().set_status(_who(), caseId, body, request_meta(router))


@router.get("/cases/<caseId>/timeline", summary="Every status change: who, when, why, from and to")
@declares(Action.CASE_TIMELINE_READ)
def case_timeline(caseId: CaseIdPath, limit: PageSize = 50, cursor: Cursor = None) -> TimelinePage:
    return service().timeline(_who(), caseId, limit, cursor, request_meta(router))


@router.post("/cases/<caseId>/archive", summary="Hide from the main list (does not cancel the case)")
@declares(Action.CASE_ARCHIVE)
@raises(VersionConflict)
def archive_case(caseId: CaseIdPath, body: Annotated[VersionRequest, Body()]) -> CaseView:
    return service().set_archived(_who(), caseId, body.version, True, request_meta(router))


@router.post("/cases/<caseId>/unarchive", summary="Back to the main list")
@declares(Action.CASE_UNARCHIVE)
@raises(VersionConflict)
def unarchive_case(caseId: CaseIdPath, body: Annotated[VersionRequest, Body()]) -> CaseView:
    return service().set_archived(_who(), caseId, body.version, False, request_meta(router))


@router.get("/cases/<caseId>/audit", summary="Who read or changed this case, newest first")
@declares(Action.CASE_AUDIT_READ)
def case_audit_trail(caseId: CaseIdPath, limit: PageSize = 50, cursor: Cursor = None) -> AuditPage:
    records, next_cursor = service().audit_trail(_who(), caseId, limit, cursor, request_meta(router))
    return AuditPage(items=[AuditEntry.model_validate(asdict(r)) for r in records], next_cursor=next_cursor)


@router.get("/cases/<caseId>/rx-script", summary="A short-lived download link for the Rx script PDF")
@declares(Action.RX_SCRIPT_DOWNLOAD)
@raises(DocumentNotReady)
def rx_script_link(caseId: CaseIdPath) -> DownloadLink:
    return service().rx_script_link(_who(), caseId, request_meta(router))
