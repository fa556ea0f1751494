"""The share links API contract (the owner's side and the guest's view). Generates openapi.json."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from caseroom.files.models import GalleryId

Note = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=280, pattern=r"^[^\x00-\x1f\x7f]+$"),
]
# A plain shape check (no dependency): the one-time code proves the address works.
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=3,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    ),
]
MAX_LINK_HOURS = 24


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class View(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)


class CreateShareLink(StrictModel):
    gallery_ids: list[GalleryId] | None = Field(
        default=None,
        alias="galleryIds",
        min_length=1,
        max_length=50,
        description="The galleries the guest sees; leave out for the whole case",
    )
    expires_in_minutes: int = Field(
        default=MAX_LINK_HOURS * 60,
        alias="expiresInMinutes",
        ge=5,
        le=MAX_LINK_HOURS * 60,
        description="At most 24 hours; a link is never extended (issue a new one)",
    )
    note: Note | None = None
    show_patient_name: StrictBool = Field(default=False, alias="showPatientName")
    require_email_code: StrictBool = Field(
        default=False,
        alias="requireEmailCode",
        description="The guest confirms an email address with a one-time code before the view opens",
    )


class ShareLinkView(View):
    link_id: str = Field(alias="linkId")
    case_id: str = Field(alias="caseId")
    gallery_ids: list[str] | None = Field(alias="galleryIds", description="null: the whole case")
    note: str | None = None
    show_patient_name: bool = Field(alias="showPatientName")
    require_email_code: bool = Field(alias="requireEmailCode")
    created_by: str = Field(alias="createdBy")
    created_at: str = Field(alias="createdAt")
    expires_at: str = Field(alias="expiresAt")
    revoked_at: str | None = Field(default=None, alias="revokedAt")
    first_opened_at: str | None = Field(default=None, alias="firstOpenedAt")
    state: str = Field(description="active, expired or revoked")


class CreatedShareLink(ShareLinkView):
    token: str = Field(description="Shown once, never stored: the guest sends it as the X-Share-Token header")
    url: str = Field(
        description="The link to hand the guest: the web app's share-link page with the token after `#`,"
        " which browsers never send to a server (the page sends it as X-Share-Token)"
    )


class ShareLinkPage(View):
    items: list[ShareLinkView]
    next_cursor: str | None = Field(default=None, alias="nextCursor")


class LinkAccessView(View):
    at: str
    action: str
    source_ip: str = Field(alias="sourceIp")
    user_agent: str = Field(alias="userAgent")
    file_id: str | None = Field(default=None, alias="fileId")
    guest_email: str | None = Field(default=None, alias="guestEmail")


class LinkAccessPage(View):
    items: list[LinkAccessView]
    next_cursor: str | None = Field(default=None, alias="nextCursor")


class SharedFile(View):
    file_id: str = Field(alias="fileId")
    file_name: str = Field(alias="fileName")
    kind: str
    size_bytes: int = Field(alias="sizeBytes")
    content_type: str = Field(alias="contentType")
    created_at: str = Field(alias="createdAt")


class SharedGallery(View):
    gallery_id: str = Field(alias="galleryId")
    name: str
    files: list[SharedFile] = Field(description="Available files, newest first (at most 100)")


class SharedCase(View):
    """What a guest sees: never the Rx, members, timeline, other galleries or audit records."""

    case_id: str = Field(alias="caseId")
    patient_name: str | None = Field(default=None, alias="patientName", description="Only if the owner chose")
    note: str | None = None
    expires_at: str = Field(alias="expiresAt")
    galleries: list[SharedGallery]


class SharedDownload(View):
    url: str
    expires_in_seconds: int = Field(alias="expiresInSeconds")
    file_name: str = Field(alias="fileName")


class RequestEmailCode(StrictModel):
    email: Email


class EmailCodeSent(View):
    challenge_id: str = Field(alias="challengeId")
    expires_in_seconds: int = Field(alias="expiresInSeconds")


class ConfirmEmailCode(StrictModel):
    challenge_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")] = Field(alias="challengeId")
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]


class GuestSessionView(View):
    session: str = Field(
        description="Send as the X-Share-Session header with the token; lives as long as the link"
    )
    expires_at: str = Field(alias="expiresAt")


class SetSharePolicy(StrictModel):
    members_may_create: StrictBool = Field(
        alias="membersMayCreate",
        description="Active members of the case's team may create share links (and revoke their own)",
    )


class SharePolicyView(View):
    case_id: str = Field(alias="caseId")
    members_may_create: bool = Field(alias="membersMayCreate")
    updated_at: str | None = Field(default=None, alias="updatedAt")
