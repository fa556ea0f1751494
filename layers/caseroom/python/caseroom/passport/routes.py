"""HTTP routes of the Passport: the clinician's (connect, share) and the patient's (/me/passport)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from caseroom.access import Action
from caseroom.auth import Principal
from caseroom.errors import (
    ExportNotFound,
    FileNotAvailable,
    FileNotFound,
    GalleryNotFound,
    PatientAlreadyConnected,
    PatientNotConnected,
    VersionConflict,
)
from caseroom.http import current_principal, request_meta
from caseroom.passport.logic import PassportService
from caseroom.passport.models import (
    ConnectedPassport,
    ConnectPatient,
    ExportView,
    PassportDisconnected,
    PassportView,
    PatientCasePage,
    PatientCaseView,
    RecordAccessPage,
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
from caseroom.sharing.models import SharedDownload

router = Router()

FileIdPath = Annotated[str, Path(min_length=1, max_length=64, description="File id")]
ExportIdPath = Annotated[str, Path(min_length=1, max_length=64, description="Export id")]
GalleryIdPath = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9-]*$")]

_services = ServiceSlot(PassportService)
service = _services.get
use_service = _services.use


def _who() -> Principal:
    return current_principal(router)


@router.post(
    "/cases/<caseId>/passport",
    summary="Connect the case's patient by email (invitation sent); Initial Documentation is shared at once",
    responses={201: {"description": "Connected; nowSharedFiles lists what that shared"}},
)
@declares(Action.PASSPORT_CONNECT)
@raises(PatientAlreadyConnected)
def connect(
    caseId: CaseIdPath, body: Annotated[ConnectPatient, Body()], idempotency_key: IdempotencyKey = None
) -> tuple[ConnectedPassport, int]:
    who, meta = _who(), request_meta(router)
    request = {"caseId": caseId, **body.model_dump(mode="json", by_alias=True)}
    connected = create_once(
        "connect_patient",
        who.user_id,
        idempotency_key,
        request,
        ConnectedPassport,
        lambda: service().connect(who, caseId, body, meta),
        router.lambda_context,
    )
    return connected, 201


@router.get("/cases/<caseId>/passport", summary="The case's patient connection and what is shared")
@declares(Action.PASSPORT_READ)
@raises(PatientNotConnected)
def read(caseId: CaseIdPath) -> PassportView:
    return service().read(_who(), caseId, request_meta(router))


@router.delete(
    "/cases/<caseId>/passport",
    summary="Disconnect the patient: their access to this case ends at once (audited)",
)
@declares(Action.PASSPORT_DISCONNECT)
@raises(PatientNotConnected, VersionConflict)
def disconnect(caseId: CaseIdPath) -> PassportDisconnected:
    return service().disconnect(_who(), caseId, request_meta(router))


@router.put("/cases/<caseId>/passport/galleries/<galleryId>", summary="Share a gallery with the patient")
@declares(Action.PASSPORT_SHARE)
@raises(PatientNotConnected, GalleryNotFound, VersionConflict)
def share(caseId: CaseIdPath, galleryId: GalleryIdPath) -> PassportView:
    return service().share(_who(), caseId, galleryId, True, request_meta(router))


@router.delete(
    "/cases/<caseId>/passport/galleries/<galleryId>", summary="Stop sharing a gallery with the patient"
)
@declares(Action.PASSPORT_SHARE)
@raises(PatientNotConnected, GalleryNotFound, VersionConflict)
def unshare(caseId: CaseIdPath, galleryId: GalleryIdPath) -> PassportView:
    return service().share(_who(), caseId, galleryId, False, request_meta(router))


@router.get("/me/passport/cases", summary="The patient's Passport: their cases, from every clinic")
@declares(Action.PATIENT_CASE_LIST)
def my_cases(limit: PageSize = 25, cursor: Cursor = None) -> PatientCasePage:
    return service().my_cases(_who(), limit, cursor, request_meta(router))


@router.get("/me/passport/cases/<caseId>", summary="One case of the Passport: the shared galleries and files")
@declares(Action.PATIENT_CASE_READ)
@raises(PatientNotConnected)
def my_case(caseId: CaseIdPath) -> PatientCaseView:
    return service().my_case(_who(), caseId, request_meta(router))


@router.get(
    "/me/passport/cases/<caseId>/files/<fileId>/download",
    summary="Download a shared file (presigned GET, <= 15 minutes), audited",
)
@declares(Action.PATIENT_FILE_DOWNLOAD)
@raises(PatientNotConnected, FileNotFound, FileNotAvailable)
def my_download(caseId: CaseIdPath, fileId: FileIdPath) -> SharedDownload:
    return service().download(_who(), caseId, fileId, request_meta(router))


@router.get(
    "/me/passport/cases/<caseId>/access-log",
    summary="Who saw my records: reads and downloads of the case's files (names, roles, when)",
)
@declares(Action.PATIENT_ACCESS_LOG_READ)
@raises(PatientNotConnected)
def who_saw(caseId: CaseIdPath, limit: PageSize = 50, cursor: Cursor = None) -> RecordAccessPage:
    return service().who_saw(_who(), caseId, limit, cursor, request_meta(router))


@router.post(
    "/me/passport/cases/<caseId>/exports",
    summary="Export everything shared with me as one ZIP (built in the background)",
    responses={202: {"description": "Building; poll the export for its download link"}},
)
@declares(Action.PATIENT_EXPORT)
@raises(PatientNotConnected)
def request_export(caseId: CaseIdPath, idempotency_key: IdempotencyKey = None) -> tuple[ExportView, int]:
    who, meta = _who(), request_meta(router)
    export = create_once(
        "request_export",
        who.user_id,
        idempotency_key,
        {"caseId": caseId},
        ExportView,
        lambda: service().request_export(who, caseId, meta),
        router.lambda_context,
    )
    return export, 202


@router.get(
    "/me/passport/cases/<caseId>/exports/<exportId>",
    summary="An export's state; when ready, a download link (presigned GET, <= 15 minutes)",
)
@declares(Action.PATIENT_EXPORT)
@raises(PatientNotConnected, ExportNotFound)
def read_export(caseId: CaseIdPath, exportId: ExportIdPath) -> ExportView:
    return service().read_export(_who(), caseId, exportId, request_meta(router))
