"""HTTP routes of share links: the owner's (JWT) and the guest's (public, authorized inside by
the link's token, sent as the X-Share-Token header so it stays out of URLs and access logs)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path

from caseroom.access import Action
from caseroom.auth import Principal
from caseroom.errors import (
    EmailCodeInvalid,
    EmailCodeNotRequired,
    EmailCodeRequired,
    FileNotAvailable,
    FileNotFound,
    GalleryNotFound,
    RoleNotAllowed,
    ShareLinkExpired,
    ShareLinkNotFound,
    ShareLinkRevoked,
    TooManyAttempts,
    Unauthenticated,
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
from caseroom.sharing.logic import ShareService
from caseroom.sharing.models import (
    ConfirmEmailCode,
    CreatedShareLink,
    CreateShareLink,
    EmailCodeSent,
    GuestSessionView,
    LinkAccessPage,
    RequestEmailCode,
    SetSharePolicy,
    SharedCase,
    SharedDownload,
    ShareLinkPage,
    ShareLinkView,
    SharePolicyView,
)

router = Router()

LinkIdPath = Annotated[str, Path(min_length=1, max_length=32, description="Share link id")]
FileIdPath = Annotated[str, Path(min_length=1, max_length=64, description="File id")]
ShareToken = Annotated[
    str | None, Header(max_length=128, description="The share link's token (X-Share-Token)")
]
ShareSession = Annotated[
    str | None,
    Header(max_length=128, description="The session a confirmed email code gave (X-Share-Session)"),
]

# What every guest route answers: no/unknown/dead token, throttled guessing, outside the link.
_GUEST = (
    Unauthenticated,
    ShareLinkNotFound,
    ShareLinkExpired,
    ShareLinkRevoked,
    TooManyAttempts,
    RoleNotAllowed,
)

_services = ServiceSlot(ShareService)
service = _services.get
use_service = _services.use


def _who() -> Principal:
    return current_principal(router)


@router.post(
    "/cases/<caseId>/share-links",
    summary="Create a share link (<= 24 h) for chosen galleries or the whole case; the token is shown once",
    responses={201: {"description": "Created"}},
)
@declares(Action.SHARE_LINK_CREATE)
@raises(GalleryNotFound)
def create_link(
    caseId: CaseIdPath, body: Annotated[CreateShareLink, Body()], idempotency_key: IdempotencyKey = None
) -> tuple[CreatedShareLink, int]:
    who, meta = _who(), request_meta(router)
    request = {"caseId": caseId, **body.model_dump(mode="json", by_alias=True)}
    created = create_once(
        "create_share_link",
        who.user_id,
        idempotency_key,
        request,
        CreatedShareLink,
        lambda: service().create_link(who, caseId, body, meta),
        router.lambda_context,
    )
    return created, 201


@router.get(
    "/cases/<caseId>/share-links", summary="The case's share links, newest first (never their tokens)"
)
@declares(Action.SHARE_LINK_LIST)
def list_links(caseId: CaseIdPath, limit: PageSize = 25, cursor: Cursor = None) -> ShareLinkPage:
    return service().list_links(_who(), caseId, limit, cursor, request_meta(router))


@router.get(
    "/cases/<caseId>/share-links/policy",
    summary="Whether active members of the case's team may create share links",
)
@declares(Action.SHARE_LINK_POLICY_READ)
def read_policy(caseId: CaseIdPath) -> SharePolicyView:
    return service().policy(_who(), caseId, request_meta(router))


@router.put(
    "/cases/<caseId>/share-links/policy",
    summary="The owner lets active members create share links (and revoke their own), or stops it",
)
@declares(Action.SHARE_LINK_POLICY_SET)
def set_policy(caseId: CaseIdPath, body: Annotated[SetSharePolicy, Body()]) -> SharePolicyView:
    return service().set_policy(_who(), caseId, body, request_meta(router))


@router.post(
    "/cases/<caseId>/share-links/<linkId>/revoke",
    summary="Revoke a share link, at once (the owner any link, a member the links they made)",
)
@declares(Action.SHARE_LINK_REVOKE)
@raises(ShareLinkNotFound)
def revoke_link(caseId: CaseIdPath, linkId: LinkIdPath) -> ShareLinkView:
    return service().revoke(_who(), caseId, linkId, request_meta(router))


@router.get(
    "/cases/<caseId>/share-links/<linkId>/access-log",
    summary="Who opened the link and downloaded what: when, from which address and client",
)
@declares(Action.SHARE_LINK_LOG_READ)
@raises(ShareLinkNotFound)
def access_log(
    caseId: CaseIdPath, linkId: LinkIdPath, limit: PageSize = 50, cursor: Cursor = None
) -> LinkAccessPage:
    return service().access_log(_who(), caseId, linkId, limit, cursor, request_meta(router))


@router.get(
    "/shared",
    summary="Guest view of a share link: the case id, the chosen galleries and their files (no account)",
)
@declares(Action.SHARED_VIEW)
@raises(*_GUEST, EmailCodeRequired, public=True)
def shared_view(x_share_token: ShareToken = None, x_share_session: ShareSession = None) -> SharedCase:
    return service().view(x_share_token, x_share_session, request_meta(router))


@router.get(
    "/shared/files/<fileId>/download",
    summary="Guest download: a presigned GET (<= 15 minutes) minted after re-checking the link",
)
@declares(Action.SHARED_DOWNLOAD)
@raises(*_GUEST, EmailCodeRequired, FileNotFound, FileNotAvailable, public=True)
def shared_download(
    fileId: FileIdPath, x_share_token: ShareToken = None, x_share_session: ShareSession = None
) -> SharedDownload:
    return service().download(x_share_token, x_share_session, fileId, request_meta(router))


@router.post(
    "/shared/email-code",
    summary="Email a one-time code (5 minutes) to the guest, for links that ask for one",
    responses={201: {"description": "Sent"}},
)
@declares(Action.SHARED_EMAIL_CODE_SEND)
@raises(*_GUEST, EmailCodeNotRequired, public=True)
def send_email_code(
    body: Annotated[RequestEmailCode, Body()], x_share_token: ShareToken = None
) -> tuple[EmailCodeSent, int]:
    return service().send_email_code(x_share_token, body, request_meta(router)), 201


@router.post(
    "/shared/email-code/confirm",
    summary="Confirm the one-time code (limited attempts): a session for the view, as long as the link",
)
@declares(Action.SHARED_EMAIL_CODE_VERIFY)
@raises(*_GUEST, EmailCodeNotRequired, EmailCodeInvalid, public=True)
def confirm_email_code(
    body: Annotated[ConfirmEmailCode, Body()], x_share_token: ShareToken = None
) -> GuestSessionView:
    return service().confirm_email_code(x_share_token, body, request_meta(router))
