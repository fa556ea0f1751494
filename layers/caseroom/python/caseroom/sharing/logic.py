"""Share links: 24-hour, read-only guest access to chosen galleries of a case, for people with
no account.

The token is 256 random bits shown once; only its SHA-256 is stored. A guest's every request is
authorized by that token on a public route: the token entry and the link are consistent reads
(a revoke is seen at once), an expired or revoked link answers 410 whatever DynamoDB's TTL has
done yet, and the decision itself is caseroom.access (the guest is a Principal of role GUEST
whose relationships come from the link: LINK_HOLDER while it lives, GUEST past its email check,
limited to its galleries). Every open, download and refusal is in the case's audit trail and the
link's access log, which the owner reads.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from caseroom import audit_store
from caseroom.access import Action, Gate, Resource, allows, authorized_case, visible_case
from caseroom.audit import AuditRecord, Outcome, RequestMeta, user_record
from caseroom.auth import Principal, Role
from caseroom.cases import dal as cases_dal
from caseroom.cases.records import Case
from caseroom.clock import Clock, FixedClock, SystemClock, iso
from caseroom.errors import (
    EmailCodeInvalid,
    EmailCodeNotRequired,
    EmailCodeRequired,
    FileNotAvailable,
    FileNotFound,
    GalleryNotFound,
    ShareLinkExpired,
    ShareLinkNotFound,
    ShareLinkRevoked,
    TooManyAttempts,
    Unauthenticated,
)
from caseroom.files import dal as files_dal
from caseroom.files import storage
from caseroom.files.logic import DOWNLOAD_LINK_SECONDS, FIXED_GALLERIES, content_disposition
from caseroom.files.records import CaseFile, FileStatus
from caseroom.paging import PageRequest
from caseroom.settings import app_link
from caseroom.sharing import dal, notices
from caseroom.sharing.models import (
    ConfirmEmailCode,
    CreatedShareLink,
    CreateShareLink,
    EmailCodeSent,
    GuestSessionView,
    LinkAccessPage,
    LinkAccessView,
    RequestEmailCode,
    SetSharePolicy,
    SharedCase,
    SharedDownload,
    SharedFile,
    SharedGallery,
    ShareLinkPage,
    ShareLinkView,
    SharePolicyView,
)
from caseroom.sharing.records import EmailChallenge, GuestSession, LinkAccess, ShareLink, SharePolicy

TOKEN_BYTES = 32  # 256 bits (>= 128 asked)
EMAIL_CODE_SECONDS = 5 * 60
EMAIL_CODE_ATTEMPTS = 5
EMAIL_CODES_PER_LINK_PER_MINUTE = 5
FAILED_LOOKUPS_PER_ADDRESS_PER_MINUTE = 20
GALLERY_FILES_SHOWN = 100


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _plausible_token(token: str) -> bool:
    # secrets.token_urlsafe(32): 43 characters of the URL-safe base64 alphabet.
    return len(token) == 43 and all(c.isascii() and (c.isalnum() or c in "-_") for c in token)


def _creator_still_on_case(link: ShareLink, case: Case) -> bool:
    """The owner, or an active member (a consistent read; the item exists only while active)."""
    if link.created_by == case.owner_id:
        return True
    from caseroom.team import dal as team_dal

    return team_dal.get_member(case.case_id, link.created_by) is not None


def link_state(link: ShareLink, now: str) -> str:
    if link.revoked_at is not None:
        return "revoked"
    return "active" if now < link.expires_at else "expired"


@dataclass
class ShareService:
    clock: Clock = field(default_factory=SystemClock)

    def _now(self) -> datetime:
        return self.clock.now()

    def _retention(self, link: ShareLink) -> int:
        expires = datetime.fromisoformat(link.expires_at.replace("Z", "+00:00"))
        return int(expires.timestamp()) + dal.RETENTION_SECONDS

    def _audit(
        self, who: Principal, meta: RequestMeta, action: Action, case_id: str, kind: str, object_id: str
    ) -> AuditRecord:
        return user_record(
            who,
            meta,
            action.value,
            case_id=case_id,
            object_type=kind,
            object_id=object_id,
            at=iso(self._now()),
            outcome=Outcome.ALLOWED,
        )

    def _view(self, link: ShareLink) -> ShareLinkView:
        return ShareLinkView(
            link_id=link.link_id,
            case_id=link.case_id,
            gallery_ids=link.galleries,
            note=link.note,
            show_patient_name=link.show_patient_name,
            require_email_code=link.require_email_code,
            created_by=link.created_by,
            created_at=link.created_at,
            expires_at=link.expires_at,
            revoked_at=link.revoked_at,
            first_opened_at=link.first_opened_at,
            state=link_state(link, iso(self._now())),
        )

    # --- the owner's side --------------------------------------------------------------------

    def create_link(
        self, who: Principal, case_id: str, request: CreateShareLink, meta: RequestMeta
    ) -> CreatedShareLink:
        case = authorized_case(who, case_id, meta, Action.SHARE_LINK_CREATE, self.clock)
        galleries = None
        if request.gallery_ids is not None:
            galleries = list(dict.fromkeys(request.gallery_ids))
            for gallery_id in galleries:
                if (
                    gallery_id not in FIXED_GALLERIES
                    and files_dal.get_gallery(case.case_id, gallery_id) is None
                ):
                    raise GalleryNotFound()
        now = self._now()
        token = secrets.token_urlsafe(TOKEN_BYTES)
        link = ShareLink(
            link_id=secrets.token_hex(8),
            case_id=case.case_id,
            token_hash=token_hash(token),
            created_by=who.user_id,
            created_by_name=who.name,
            created_at=iso(now),
            expires_at=iso(now + timedelta(minutes=request.expires_in_minutes)),
            galleries=galleries,
            show_patient_name=request.show_patient_name,
            require_email_code=request.require_email_code,
            note=request.note,
        )
        record = self._audit(who, meta, Action.SHARE_LINK_CREATE, case.case_id, "share-link", link.link_id)
        dal.create_link(link, self._retention(link), also=[audit_store.audit_put_action(record)])
        notices.schedule_expiry_warning(link)
        return CreatedShareLink(**self._view(link).model_dump(), token=token, url=app_link(f"guest/{token}"))

    def list_links(
        self, who: Principal, case_id: str, limit: int, cursor: str | None, meta: RequestMeta
    ) -> ShareLinkPage:
        """The owner sees every link of the case; an active member the links they made (a page
        may then be short: follow nextCursor)."""
        gate = Gate(who, meta, self.clock)
        case = visible_case(gate, case_id, Action.SHARE_LINK_LIST)
        gate.require(Action.SHARE_LINK_LIST, case)
        links, next_cursor = dal.list_links(case.case_id, PageRequest(who, meta, limit, cursor, self._now()))
        shown = [
            self._view(link)
            for link in links
            if allows(Action.SHARE_LINK_LOG_READ, gate.held(case, _link_resource(link)))
        ]
        return ShareLinkPage(items=shown, next_cursor=next_cursor)

    def _owned_link(self, case: Case, link_id: str) -> ShareLink:
        link = dal.get_link(case.case_id, link_id) if _plausible_link_id(link_id) else None
        if link is None:
            raise ShareLinkNotFound()
        return link

    def _link_allowed(
        self, who: Principal, case_id: str, link_id: str, meta: RequestMeta, action: Action
    ) -> tuple[Case, ShareLink]:
        """The link if the caller may act on it: the owner on any, its creator on their own."""
        gate = Gate(who, meta, self.clock)
        case = visible_case(gate, case_id, action)
        link = self._owned_link(case, link_id)
        gate.require(action, case, _link_resource(link))
        return case, link

    def revoke(self, who: Principal, case_id: str, link_id: str, meta: RequestMeta) -> ShareLinkView:
        """Revoked at once: the next guest request reads the link consistently and gets 410.
        Revoking a revoked link changes nothing."""
        case, link = self._link_allowed(who, case_id, link_id, meta, Action.SHARE_LINK_REVOKE)
        now = iso(self._now())
        record = self._audit(who, meta, Action.SHARE_LINK_REVOKE, case.case_id, "share-link", link.link_id)
        if dal.mark(
            case.case_id,
            link.link_id,
            {"revokedAt": now, "revokedBy": who.user_id},
            "revokedAt",
            also=[audit_store.audit_put_action(record)],
        ):
            link.revoked_at, link.revoked_by = now, who.user_id
        else:
            link = self._owned_link(case, link_id)
        return self._view(link)

    def policy(self, who: Principal, case_id: str, meta: RequestMeta) -> SharePolicyView:
        case = authorized_case(who, case_id, meta, Action.SHARE_LINK_POLICY_READ, self.clock)
        return _policy_view(dal.get_policy(case.case_id))

    def set_policy(
        self, who: Principal, case_id: str, request: SetSharePolicy, meta: RequestMeta
    ) -> SharePolicyView:
        """The owner lets active members create share links, or stops it. Links members made
        before stay as they are (their creators and the owner may revoke them)."""
        case = authorized_case(who, case_id, meta, Action.SHARE_LINK_POLICY_SET, self.clock)
        policy = SharePolicy(
            case_id=case.case_id,
            members_may_create=request.members_may_create,
            updated_by=who.user_id,
            updated_at=iso(self._now()),
        )
        record = self._audit(
            who, meta, Action.SHARE_LINK_POLICY_SET, case.case_id, "share-policy", case.case_id
        )
        dal.put_policy(policy, also=[audit_store.audit_put_action(record)])
        return _policy_view(policy)

    def access_log(
        self, who: Principal, case_id: str, link_id: str, limit: int, cursor: str | None, meta: RequestMeta
    ) -> LinkAccessPage:
        _, link = self._link_allowed(who, case_id, link_id, meta, Action.SHARE_LINK_LOG_READ)
        entries, next_cursor = dal.list_log(link.link_id, PageRequest(who, meta, limit, cursor, self._now()))
        return LinkAccessPage(
            items=[
                LinkAccessView(
                    at=e.at,
                    action=e.action,
                    source_ip=e.source_ip,
                    user_agent=e.user_agent,
                    file_id=e.file_id,
                    guest_email=e.guest_email,
                )
                for e in entries
            ],
            next_cursor=next_cursor,
        )

    # --- the guest's side --------------------------------------------------------------------

    def _minute(self) -> tuple[str, int]:
        now = self._now()
        return now.strftime("%Y-%m-%dT%H:%M"), int(now.timestamp()) + 120

    def _refuse_unknown(self, meta: RequestMeta) -> ShareLinkNotFound:
        minute, ttl = self._minute()
        dal.count_failure(f"ip:{meta.source_ip}", minute, ttl)
        return ShareLinkNotFound()

    def _log(self, link: ShareLink, meta: RequestMeta, action: str, **extra: str | None) -> LinkAccess:
        entry = LinkAccess(
            link_id=link.link_id,
            at=iso(self._now()),
            action=action,
            source_ip=meta.source_ip,
            user_agent=meta.user_agent,
            request_id=meta.request_id,
            file_id=extra.get("file_id"),
            guest_email=extra.get("guest_email"),
        )
        return entry

    def _link_for(self, token: str | None, meta: RequestMeta, at: datetime) -> ShareLink:
        """The live link a token opens at `at`: 401 without a token, 404 for an unknown one
        (counted per address; 429 past the limit), 410 once it expired or was revoked."""
        if not token:
            raise Unauthenticated("A share link token is required (X-Share-Token).")
        minute, _ = self._minute()
        if dal.failures(f"ip:{meta.source_ip}", minute) >= FAILED_LOOKUPS_PER_ADDRESS_PER_MINUTE:
            raise TooManyAttempts()
        if not _plausible_token(token):
            raise self._refuse_unknown(meta)
        digest = token_hash(token)
        entry = dal.token_entry(digest)
        link = dal.get_link(entry.case_id, entry.link_id) if entry else None
        if link is None or not hmac.compare_digest(link.token_hash, digest):
            raise self._refuse_unknown(meta)
        state = link_state(link, iso(at))
        if state != "active":
            dal.append_log(self._log(link, meta, f"refused-{state}"), self._retention(link))
            raise ShareLinkRevoked() if state == "revoked" else ShareLinkExpired()
        return link

    def _guest(
        self, token: str | None, session: str | None, meta: RequestMeta, action: Action
    ) -> tuple[ShareLink, Gate, Case, GuestSession | None]:
        # One instant decides the whole request: a request that straddles the link's expiry is
        # judged by when it arrived (410 here, or served), never half and half.
        at = self._now()
        link = self._link_for(token, meta, at)
        session_hash = token_hash(session) if session else None
        found = dal.get_session(link.link_id, session_hash) if session_hash else None
        if found is not None and found.expires_at <= iso(at):
            found = None
        guest = Principal(
            user_id=f"guest:{link.link_id}",
            email=found.email if found else "",
            name=f"Guest ({found.email})" if found else "Guest",
            role=Role.GUEST,
            share_link_id=link.link_id,
            share_session=session_hash if found else None,
        )
        gate = Gate(guest, meta, FixedClock(at))
        case = gate.visible(action, cases_dal.get_case(link.case_id), link.case_id)
        if not _creator_still_on_case(link, case):
            # A member's links end with their membership (removed or left): nothing they gave
            # out outlives their own access. Decided here, at every guest request, so no
            # revocation job can be late or lost.
            dal.append_log(self._log(link, meta, "refused-revoked"), self._retention(link))
            raise ShareLinkRevoked()
        return link, gate, case, found

    def _opened_view(self, gate: Gate, case: Case, link: ShareLink, action: Action) -> None:
        grant = gate.grant(case)
        if link.require_email_code and (grant is None or not grant.opens_view):
            raise EmailCodeRequired()
        gate.require(action, case)

    def view(self, token: str | None, session: str | None, meta: RequestMeta) -> SharedCase:
        link, gate, case, found = self._guest(token, session, meta, Action.SHARED_VIEW)
        self._opened_view(gate, case, link, Action.SHARED_VIEW)
        gallery_ids = link.galleries if link.galleries is not None else self._all_galleries(case.case_id)
        galleries = []
        for gallery_id in gallery_ids:
            name = FIXED_GALLERIES.get(gallery_id)
            if name is None:
                stored = files_dal.get_gallery(case.case_id, gallery_id)
                if stored is None:
                    continue
                name = stored.name
            files = files_dal.available_gallery_files(case.case_id, gallery_id, GALLERY_FILES_SHOWN)
            shown = [_shared_file(f) for f in files]
            galleries.append(SharedGallery(gallery_id=gallery_id, name=name, files=shown))
        email = found.email if found else None
        now = iso(self._now())
        record = self._audit(gate.who, meta, Action.SHARED_VIEW, case.case_id, "share-link", link.link_id)
        log = dal.log_put_action(self._log(link, meta, "opened", guest_email=email), self._retention(link))
        # The first opening is recorded once (the owner is told); later ones are logged.
        if dal.mark(case.case_id, link.link_id, {"firstOpenedAt": now}, "firstOpenedAt", also=[log]):
            notices.first_opened(link, self.clock)
        else:
            dal.append_log(self._log(link, meta, "opened", guest_email=email), self._retention(link))
        audit_store.append(record)
        return SharedCase(
            case_id=case.case_id,
            patient_name=case.patient_name if link.show_patient_name else None,
            note=link.note,
            expires_at=link.expires_at,
            galleries=galleries,
        )

    def _all_galleries(self, case_id: str) -> list[str]:
        custom = files_dal.all_galleries(case_id)
        return list(FIXED_GALLERIES) + [g.gallery_id for g in custom]

    def download(
        self, token: str | None, session: str | None, file_id: str, meta: RequestMeta
    ) -> SharedDownload:
        """A presigned GET minted after re-reading the link: it lives DOWNLOAD_LINK_SECONDS (<= 15 min)."""
        link, gate, case, found = self._guest(token, session, meta, Action.SHARED_DOWNLOAD)
        self._opened_view(gate, case, link, Action.SHARED_DOWNLOAD)
        file = files_dal.get_file(case.case_id, file_id) if _plausible_file_id(file_id) else None
        if file is None or file.file_status is FileStatus.DELETED:
            raise FileNotFound()
        gate.require(
            Action.SHARED_DOWNLOAD, case, Resource("file", file.file_id, file.uploader_id, file.gallery_id)
        )
        if file.file_status is not FileStatus.AVAILABLE or file.version_id is None:
            raise FileNotAvailable()
        url = storage.download_url(
            file.object_key,
            file.version_id,
            content_disposition(file.file_name),
            file.content_type,
            DOWNLOAD_LINK_SECONDS,
        )
        email = found.email if found else None
        dal.append_log(
            self._log(link, meta, "downloaded", file_id=file.file_id, guest_email=email),
            self._retention(link),
        )
        audit_store.append(
            self._audit(gate.who, meta, Action.SHARED_DOWNLOAD, case.case_id, "file", file.file_id)
        )
        return SharedDownload(url=url, expires_in_seconds=DOWNLOAD_LINK_SECONDS, file_name=file.file_name)

    def send_email_code(
        self, token: str | None, request: RequestEmailCode, meta: RequestMeta
    ) -> EmailCodeSent:
        link, gate, case, _ = self._guest(token, None, meta, Action.SHARED_EMAIL_CODE_SEND)
        gate.require(Action.SHARED_EMAIL_CODE_SEND, case)
        if not link.require_email_code:
            raise EmailCodeNotRequired()
        minute, ttl = self._minute()
        if dal.count_failure(f"codes:{link.link_id}", minute, ttl) > EMAIL_CODES_PER_LINK_PER_MINUTE:
            raise TooManyAttempts()
        now = self._now()
        challenge_id = secrets.token_hex(16)
        code = f"{secrets.randbelow(10**6):06d}"
        challenge = EmailChallenge(
            challenge_id=challenge_id,
            link_id=link.link_id,
            email=request.email,
            code_hash=_code_hash(challenge_id, code),
            expires_at=iso(now + timedelta(seconds=EMAIL_CODE_SECONDS)),
        )
        dal.put_challenge(challenge, int(now.timestamp()) + EMAIL_CODE_SECONDS + 3600)
        send_code_email(request.email, code)
        dal.append_log(
            self._log(link, meta, "email-code-sent", guest_email=request.email), self._retention(link)
        )
        return EmailCodeSent(challenge_id=challenge_id, expires_in_seconds=EMAIL_CODE_SECONDS)

    def confirm_email_code(
        self, token: str | None, request: ConfirmEmailCode, meta: RequestMeta
    ) -> GuestSessionView:
        link, gate, case, _ = self._guest(token, None, meta, Action.SHARED_EMAIL_CODE_VERIFY)
        gate.require(Action.SHARED_EMAIL_CODE_VERIFY, case)
        if not link.require_email_code:
            raise EmailCodeNotRequired()
        challenge = dal.get_challenge(link.link_id, request.challenge_id)
        now = self._now()
        if challenge is None or challenge.used or challenge.expires_at <= iso(now):
            raise EmailCodeInvalid()
        if not dal.count_attempt(challenge, EMAIL_CODE_ATTEMPTS):
            raise EmailCodeInvalid()
        if not hmac.compare_digest(challenge.code_hash, _code_hash(challenge.challenge_id, request.code)):
            dal.append_log(
                self._log(link, meta, "email-code-wrong", guest_email=challenge.email), self._retention(link)
            )
            raise EmailCodeInvalid()
        session = secrets.token_urlsafe(TOKEN_BYTES)
        dal.consume_challenge(
            challenge,
            token_hash(session),
            GuestSession(
                link_id=link.link_id, email=challenge.email, created_at=iso(now), expires_at=link.expires_at
            ),
            self._retention(link),
        )
        dal.append_log(
            self._log(link, meta, "email-code-confirmed", guest_email=challenge.email), self._retention(link)
        )
        return GuestSessionView(session=session, expires_at=link.expires_at)


def _link_resource(link: ShareLink) -> Resource:
    return Resource("share-link", link.link_id, created_by=link.created_by)


def _policy_view(policy: SharePolicy) -> SharePolicyView:
    return SharePolicyView(
        case_id=policy.case_id, members_may_create=policy.members_may_create, updated_at=policy.updated_at
    )


def _code_hash(challenge_id: str, code: str) -> str:
    return hashlib.sha256(f"{challenge_id}:{code}".encode()).hexdigest()


def send_code_email(to: str, code: str) -> None:
    from caseroom.notifications.service import send
    from caseroom.notifications.templates import Email

    text = (
        f"Your CaseRoom code is {code}. It is valid for 5 minutes.\n"
        "If you did not ask for it, ignore this message."
    )
    send(Email(to=to, subject="Your CaseRoom code", text=text, html=f"<p>{text}</p>"))


def _plausible_link_id(link_id: str) -> bool:
    return len(link_id) == 16 and all(c in "0123456789abcdef" for c in link_id)


def _plausible_file_id(file_id: str) -> bool:
    return len(file_id) == 32 and all(c in "0123456789abcdef" for c in file_id)


def _shared_file(file: CaseFile) -> SharedFile:
    return SharedFile(
        file_id=file.file_id,
        file_name=file.file_name,
        kind=file.kind,
        size_bytes=file.size_bytes,
        content_type=file.content_type,
        created_at=file.created_at,
    )
