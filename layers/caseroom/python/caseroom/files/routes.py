"""HTTP routes of the case files API. Thin: parse, identify the caller, call the logic."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from caseroom.access import Action
from caseroom.auth import Principal
from caseroom.errors import (
    ContentTypeNotAllowed,
    EmptyFile,
    FileNotAvailable,
    FileNotFound,
    FileTooLarge,
    GalleryNotFound,
    InvalidPartSize,
    InvalidRequest,
    NotMultipartUpload,
    PartMismatch,
    PartOutOfRange,
    StorageUnavailable,
    UploadAlreadyCompleted,
    UploadNotPending,
    UploadPartsMissing,
    VersionConflict,
)
from caseroom.files.logic import FileService
from caseroom.files.models import (
    CompleteRequest,
    CreateGallery,
    FileDownload,
    FilePage,
    FileView,
    GalleryPage,
    GalleryView,
    PartUrls,
    PartUrlsRequest,
    RequestUpload,
    UpdateFile,
    UploadState,
    UploadTicket,
)
from caseroom.http import current_principal, request_meta
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

FileIdPath = Annotated[str, Path(min_length=1, max_length=64, description="File id")]
GalleryIdPath = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9-]*$")]

_services = ServiceSlot(FileService)
service = _services.get
use_service = _services.use  # tests inject a service with a fixed clock


def _who() -> Principal:
    return current_principal(router)


@router.post(
    "/cases/<caseId>/uploads",
    summary="Request an upload: a presigned POST (small files) or a multipart upload (large ones)",
    responses={201: {"description": "Reserved; upload the bytes to S3 before expiresAt"}},
)
@declares(Action.UPLOAD_REQUEST)
@raises(GalleryNotFound, EmptyFile, FileTooLarge, ContentTypeNotAllowed, InvalidPartSize)
def request_upload(
    caseId: CaseIdPath, body: Annotated[RequestUpload, Body()], idempotency_key: IdempotencyKey = None
) -> tuple[UploadTicket, int]:
    who, meta = _who(), request_meta(router)
    ticket = create_once(
        "request_upload",
        who.user_id,
        idempotency_key,
        {"caseId": caseId, "body": body.model_dump(mode="json", by_alias=True)},
        UploadTicket,
        lambda: service().request_upload(who, caseId, body, meta),
        router.lambda_context,
    )
    return ticket, 201


@router.get("/cases/<caseId>/uploads/<fileId>", summary="An upload's state and the parts S3 has received")
@declares(Action.UPLOAD_READ)
@raises(FileNotFound)
def upload_state(caseId: CaseIdPath, fileId: FileIdPath) -> UploadState:
    return service().upload_state(_who(), caseId, fileId, request_meta(router))


@router.post(
    "/cases/<caseId>/uploads/<fileId>/part-urls",
    summary="Presigned URLs for parts (with each part's SHA-256 signed in); ask again to resume",
)
@declares(Action.UPLOAD_PARTS)
@raises(FileNotFound, NotMultipartUpload, UploadAlreadyCompleted, UploadNotPending, PartOutOfRange)
def part_urls(caseId: CaseIdPath, fileId: FileIdPath, body: Annotated[PartUrlsRequest, Body()]) -> PartUrls:
    return service().part_urls(_who(), caseId, fileId, body, request_meta(router))


@router.post(
    "/cases/<caseId>/uploads/<fileId>/complete",
    summary="Complete a multipart upload (every part, checked against what S3 received)",
)
@declares(Action.UPLOAD_COMPLETE)
@raises(
    FileNotFound,
    NotMultipartUpload,
    UploadAlreadyCompleted,
    UploadNotPending,
    PartOutOfRange,
    InvalidRequest,
    UploadPartsMissing,
    PartMismatch,
    StorageUnavailable,
)
def complete_upload(
    caseId: CaseIdPath, fileId: FileIdPath, body: Annotated[CompleteRequest, Body()]
) -> UploadState:
    return service().complete_upload(_who(), caseId, fileId, body, request_meta(router))


@router.delete(
    "/cases/<caseId>/uploads/<fileId>",
    summary="Abort a pending upload",
    responses={204: {"description": "Aborted"}},
)
@declares(Action.UPLOAD_ABORT)
@raises(FileNotFound, UploadNotPending, UploadAlreadyCompleted, StorageUnavailable)
def abort_upload(caseId: CaseIdPath, fileId: FileIdPath) -> tuple[None, int]:
    service().abort_upload(_who(), caseId, fileId, request_meta(router))
    return None, 204


@router.get(
    "/cases/<caseId>/galleries", summary="The case's galleries: the four fixed ones, then user-created"
)
@declares(Action.GALLERY_LIST)
def list_galleries(caseId: CaseIdPath, limit: PageSize = 50, cursor: Cursor = None) -> GalleryPage:
    return service().list_galleries(_who(), caseId, limit, cursor, request_meta(router))


@router.post(
    "/cases/<caseId>/galleries", summary="Create a gallery", responses={201: {"description": "Created"}}
)
@declares(Action.GALLERY_CREATE)
def create_gallery(
    caseId: CaseIdPath, body: Annotated[CreateGallery, Body()], idempotency_key: IdempotencyKey = None
) -> tuple[GalleryView, int]:
    who, meta = _who(), request_meta(router)
    gallery = create_once(
        "create_gallery",
        who.user_id,
        idempotency_key,
        {"caseId": caseId, "body": body.model_dump(mode="json", by_alias=True)},
        GalleryView,
        lambda: service().create_gallery(who, caseId, body, meta),
        router.lambda_context,
    )
    return gallery, 201


@router.get("/cases/<caseId>/galleries/<galleryId>/files", summary="Files of a gallery, newest first")
@declares(Action.FILE_LIST)
@raises(GalleryNotFound)
def list_files(
    caseId: CaseIdPath, galleryId: GalleryIdPath, limit: PageSize = 25, cursor: Cursor = None
) -> FilePage:
    return service().list_files(_who(), caseId, galleryId, limit, cursor, request_meta(router))


@router.get("/cases/<caseId>/files/<fileId>", summary="One file (status, kind, size, uploader)")
@declares(Action.FILE_READ)
@raises(FileNotFound)
def get_file(caseId: CaseIdPath, fileId: FileIdPath) -> FileView:
    return service().get_file(_who(), caseId, fileId, request_meta(router))


@router.patch("/cases/<caseId>/files/<fileId>", summary="Move to another gallery and/or rename")
@declares(Action.FILE_UPDATE)
@raises(FileNotFound, GalleryNotFound, InvalidRequest, VersionConflict)
def update_file(caseId: CaseIdPath, fileId: FileIdPath, body: Annotated[UpdateFile, Body()]) -> FileView:
    return service().update_file(_who(), caseId, fileId, body, request_meta(router))


@router.delete(
    "/cases/<caseId>/files/<fileId>",
    summary="Delete (soft: kept for the retention period, audited)",
    responses={204: {"description": "Deleted"}},
)
@declares(Action.FILE_DELETE)
@raises(FileNotFound, VersionConflict)
def delete_file(caseId: CaseIdPath, fileId: FileIdPath) -> tuple[None, int]:
    service().delete_file(_who(), caseId, fileId, request_meta(router))
    return None, 204


@router.get(
    "/cases/<caseId>/files/<fileId>/download",
    summary="A download link (presigned GET, <= 15 minutes, original file name), audited",
)
@declares(Action.FILE_DOWNLOAD)
@raises(FileNotFound, FileNotAvailable)
def download(caseId: CaseIdPath, fileId: FileIdPath) -> FileDownload:
    return service().download(_who(), caseId, fileId, request_meta(router))
