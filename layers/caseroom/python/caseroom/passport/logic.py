"""The Passport: a clinician connects the case's patient by email; the patient (a signed-in
patient account whose verified email matches) sees exactly the galleries shared with them.

Initial Documentation is shared on connection (the answer lists the files that shares); other
galleries are shared and unshared by the owner. The patient's relationship to the case
(CONNECTED_PATIENT, limited to the shared galleries) comes from a consistent read of the
connection in caseroom.access; the case's status or archive never enters into it, so the
patient keeps access for as long as the records are kept.

The one thing that ends it is the clinic's explicit act: the owner disconnects the patient. The
connection and the patient's index entry are deleted in one transaction with its audit record,
so the patient's next request (a consistent read of the connection) finds nothing: 404 on the
case, and the case is gone from their list. Download links minted before live out their minutes
(<= 15). The patient's notices never named the case. Connecting again starts afresh (Initial
Documentation only).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from typing import Any

from caseroom import audit_store
from caseroom.access import Action, Gate, Resource, authorized_case, require_account
from caseroom.audit import AuditRecord, RequestMeta, user_record
from caseroom.auth import Principal
from caseroom.cases import dal as cases_dal
from caseroom.clock import Clock, SystemClock, iso
from caseroom.errors import (
    ExportNotFound,
    FileNotAvailable,
    FileNotFound,
    GalleryNotFound,
    PatientNotConnected,
)
from caseroom.files import dal as files_dal
from caseroom.files import storage
from caseroom.files.logic import DOWNLOAD_LINK_SECONDS, FIXED_GALLERIES, content_disposition
from caseroom.files.records import FileStatus
from caseroom.paging import PageRequest
from caseroom.passport import dal, export, notices
from caseroom.passport.models import (
    ConnectedPassport,
    ConnectPatient,
    ExportView,
    PassportDisconnected,
    PassportView,
    PatientCasePage,
    PatientCaseSummary,
    PatientCaseView,
    RecordAccess,
    RecordAccessPage,
)
from caseroom.passport.records import PatientConnection
from caseroom.sharing.logic import GALLERY_FILES_SHOWN, _plausible_file_id, _shared_file
from caseroom.sharing.models import SharedDownload, SharedFile, SharedGallery

AUTO_SHARED = "initial-documentation"
# What "who saw my records" shows: reads and downloads of files, by anyone.
RECORD_ACCESS_ACTIONS = {
    "file.read",
    "file.list",
    "file.download",
    Action.SHARED_VIEW.value,
    Action.SHARED_DOWNLOAD.value,
    Action.PATIENT_FILE_DOWNLOAD.value,
}


def _view(connection: PatientConnection) -> PassportView:
    return PassportView(
        case_id=connection.case_id,
        patient_email=connection.patient_email,
        connected_at=connection.connected_at,
        shared_galleries=connection.shared_galleries,
        version=connection.version,
    )


def _available_files(case_id: str, gallery_id: str) -> list[SharedFile]:
    return [
        _shared_file(f) for f in files_dal.available_gallery_files(case_id, gallery_id, GALLERY_FILES_SHOWN)
    ]


@dataclass
class PassportService:
    clock: Clock = field(default_factory=SystemClock)

    def _record(
        self, who: Principal, meta: RequestMeta, action: Action, case_id: str, kind: str, oid: str
    ) -> AuditRecord:
        return user_record(
            who,
            meta,
            action.value,
            case_id=case_id,
            object_type=kind,
            object_id=oid,
            at=iso(self.clock.now()),
        )

    # --- the clinician's side -----------------------------------------------------------------

    def connect(
        self, who: Principal, case_id: str, request: ConnectPatient, meta: RequestMeta
    ) -> ConnectedPassport:
        case = authorized_case(who, case_id, meta, Action.PASSPORT_CONNECT, self.clock)
        connection = PatientConnection(
            case_id=case.case_id,
            patient_email=dal.normalize_email(request.email),
            connected_by=who.user_id,
            clinic_name=who.name,
            connected_at=iso(self.clock.now()),
            shared_galleries=[AUTO_SHARED],
        )
        record = self._record(who, meta, Action.PASSPORT_CONNECT, case.case_id, "passport", case.case_id)
        dal.connect(connection, also=[audit_store.audit_put_action(record)])
        notices.connected(connection, self.clock)
        return ConnectedPassport(
            **_view(connection).model_dump(), now_shared_files=_available_files(case.case_id, AUTO_SHARED)
        )

    def _connection(self, case_id: str) -> PatientConnection:
        connection = dal.get_connection(case_id)
        if connection is None:
            raise PatientNotConnected()
        return connection

    def read(self, who: Principal, case_id: str, meta: RequestMeta) -> PassportView:
        case = authorized_case(who, case_id, meta, Action.PASSPORT_READ, self.clock)
        return _view(self._connection(case.case_id))

    def share(
        self, who: Principal, case_id: str, gallery_id: str, shared: bool, meta: RequestMeta
    ) -> PassportView:
        case = authorized_case(who, case_id, meta, Action.PASSPORT_SHARE, self.clock)
        connection = self._connection(case.case_id)
        if gallery_id not in FIXED_GALLERIES and files_dal.get_gallery(case.case_id, gallery_id) is None:
            raise GalleryNotFound()
        galleries = [g for g in connection.shared_galleries if g != gallery_id] + (
            [gallery_id] if shared else []
        )
        if galleries == connection.shared_galleries:
            return _view(connection)
        updated = replace(connection, shared_galleries=galleries, version=connection.version + 1)
        action = "passport.share" if shared else "passport.unshare"
        record = user_record(
            who,
            meta,
            action,
            case_id=case.case_id,
            object_type="gallery",
            object_id=gallery_id,
            at=iso(self.clock.now()),
        )
        dal.replace(updated, connection.version, also=[audit_store.audit_put_action(record)])
        if shared:
            notices.shared(updated, self.clock)
        return _view(updated)

    def disconnect(self, who: Principal, case_id: str, meta: RequestMeta) -> PassportDisconnected:
        """Ends the patient's access to this case at once (see the module's docstring)."""
        case = authorized_case(who, case_id, meta, Action.PASSPORT_DISCONNECT, self.clock)
        connection = self._connection(case.case_id)
        record = self._record(who, meta, Action.PASSPORT_DISCONNECT, case.case_id, "passport", case.case_id)
        dal.disconnect(connection, also=[audit_store.audit_put_action(record)])
        # Effective at once on the live side too: the patient's sockets in the patient room close
        # (their next frame would be refused anyway: every frame re-checks the connection).
        from caseroom.chat.logic import close_patient_connections

        close_patient_connections(case.case_id, case.owner_id, self.clock.now())
        return PassportDisconnected(case_id=case.case_id, disconnected_at=record.at)

    # --- the patient's side -------------------------------------------------------------------

    def my_cases(self, who: Principal, limit: int, cursor: str | None, meta: RequestMeta) -> PatientCasePage:
        require_account(who, Action.PATIENT_CASE_LIST)
        case_ids, next_cursor = dal.list_patient_cases(
            who.email, PageRequest(who, meta, limit, cursor, self.clock.now())
        )
        items = []
        for case_id in case_ids:
            # The index is only a pointer: the connection itself decides (consistent read).
            connection = dal.get_connection(case_id)
            if connection is None or connection.patient_email != dal.normalize_email(who.email):
                continue
            items.append(
                PatientCaseSummary(
                    case_id=case_id,
                    clinic_name=connection.clinic_name,
                    connected_at=connection.connected_at,
                    shared_galleries=connection.shared_galleries,
                )
            )
        return PatientCasePage(items=items, next_cursor=next_cursor)

    def _patient_case(
        self, who: Principal, case_id: str, meta: RequestMeta, action: Action
    ) -> tuple[Gate, PatientConnection]:
        from caseroom import ids

        gate = Gate(who, meta, self.clock)
        normalized = ids.normalize_case_id(case_id)
        case = gate.visible(action, cases_dal.get_case(normalized) if normalized else None, normalized)
        gate.require(action, case)
        return gate, self._connection(case.case_id)

    def my_case(self, who: Principal, case_id: str, meta: RequestMeta) -> PatientCaseView:
        _, connection = self._patient_case(who, case_id, meta, Action.PATIENT_CASE_READ)
        galleries = []
        for gallery_id in connection.shared_galleries:
            name = FIXED_GALLERIES.get(gallery_id)
            if name is None:
                stored = files_dal.get_gallery(connection.case_id, gallery_id)
                name = stored.name if stored else None
            if name is not None:
                galleries.append(
                    SharedGallery(
                        gallery_id=gallery_id,
                        name=name,
                        files=_available_files(connection.case_id, gallery_id),
                    )
                )
        audit_store.append(
            self._record(
                who, meta, Action.PATIENT_CASE_READ, connection.case_id, "passport", connection.case_id
            )
        )
        return PatientCaseView(
            case_id=connection.case_id, clinic_name=connection.clinic_name, galleries=galleries
        )

    def download(self, who: Principal, case_id: str, file_id: str, meta: RequestMeta) -> SharedDownload:
        gate, connection = self._patient_case(who, case_id, meta, Action.PATIENT_FILE_DOWNLOAD)
        file = files_dal.get_file(connection.case_id, file_id) if _plausible_file_id(file_id) else None
        if file is None or file.file_status is FileStatus.DELETED:
            raise FileNotFound()
        case = cases_dal.get_case(connection.case_id)
        assert case is not None  # seen a moment ago by the gate
        gate.require(
            Action.PATIENT_FILE_DOWNLOAD,
            case,
            Resource("file", file.file_id, file.uploader_id, file.gallery_id),
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
        audit_store.append(
            self._record(who, meta, Action.PATIENT_FILE_DOWNLOAD, case.case_id, "file", file.file_id)
        )
        return SharedDownload(url=url, expires_in_seconds=DOWNLOAD_LINK_SECONDS, file_name=file.file_name)

    def request_export(self, who: Principal, case_id: str, meta: RequestMeta) -> ExportView:
        _, connection = self._patient_case(who, case_id, meta, Action.PATIENT_EXPORT)
        export_id = secrets.token_hex(16)
        job = export.PassportExport(
            export_id=export_id,
            case_id=connection.case_id,
            patient_email=connection.patient_email,
            requested_at=iso(self.clock.now()),
            status="building",
            object_key=f"exports/{connection.case_id}/{export_id}.zip",
        )
        export.save(job, int(self.clock.now().timestamp()) + export.EXPORT_SECONDS_KEPT)
        audit_store.append(
            self._record(who, meta, Action.PATIENT_EXPORT, connection.case_id, "export", export_id)
        )
        export.request_build(job)
        return _export_view(job)

    def read_export(self, who: Principal, case_id: str, export_id: str, meta: RequestMeta) -> ExportView:
        """The export; when ready, a download link minted now, after re-checking the connection."""
        _, connection = self._patient_case(who, case_id, meta, Action.PATIENT_EXPORT)
        job = export.get(connection.case_id, export_id) if _plausible_file_id(export_id) else None
        if job is None or job.patient_email != connection.patient_email:
            raise ExportNotFound()
        view = _export_view(job)
        if job.status == "ready" and job.version_id:
            view.url = storage.download_url(
                job.object_key,
                job.version_id,
                content_disposition(f"caseroom-{connection.case_id}.zip"),
                "application/zip",
                DOWNLOAD_LINK_SECONDS,
            )
            view.expires_in_seconds = DOWNLOAD_LINK_SECONDS
            audit_store.append(
                self._record(who, meta, Action.PATIENT_EXPORT, connection.case_id, "export", export_id)
            )
        return view

    def who_saw(
        self, who: Principal, case_id: str, limit: int, cursor: str | None, meta: RequestMeta
    ) -> RecordAccessPage:
        """Reads and downloads of the case's files, newest first, from the audit trail. A page
        holds the matching records of `limit` audit records (it may be short; follow nextCursor)."""
        _, connection = self._patient_case(who, case_id, meta, Action.PATIENT_ACCESS_LOG_READ)
        records, next_cursor = audit_store.list_for_case(
            connection.case_id, PageRequest(who, meta, limit, cursor, self.clock.now())
        )
        items = [
            RecordAccess(
                at=r.at,
                action=r.action,
                who=r.actor_name or ("Guest" if r.actor_role == "guest" else "CaseRoom staff"),
                role=r.actor_role,
                object_id=r.object_id,
            )
            for r in records
            if r.action in RECORD_ACCESS_ACTIONS
        ]
        return RecordAccessPage(items=items, next_cursor=next_cursor)


def share_files_actions(
    who: Principal, case_id: str, file_ids: list[str], meta: RequestMeta, at: str
) -> list[dict[str, Any]]:
    """Shares single files with the case's connected patient (the chat's patient room: a clinic
    member sent them as attachments). The actions commit with what caused them; none when no
    patient is connected or the files are shared already."""
    connection = dal.get_connection(case_id)
    if connection is None:
        return []
    new = [f for f in dict.fromkeys(file_ids) if f not in connection.shared_files]
    if not new:
        return []
    updated = replace(
        connection, shared_files=[*connection.shared_files, *new], version=connection.version + 1
    )
    records = [
        audit_store.audit_put_action(
            user_record(who, meta, "passport.share", case_id=case_id, object_type="file", object_id=f, at=at)
        )
        for f in new
    ]
    return [dal.replace_action(updated, connection.version), *records]


def _export_view(job: export.PassportExport) -> ExportView:
    return ExportView(
        export_id=job.export_id,
        status=job.status,
        requested_at=job.requested_at,
        file_count=job.file_count,
        size_bytes=job.size_bytes,
    )
