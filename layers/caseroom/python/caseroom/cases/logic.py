"""The rules of cases: who may do what, what a change does to status, colour and dates.

No boto3 here: storage goes through caseroom.cases.dal, events through the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from caseroom import audit_store, documents, ids
from caseroom.access import Action, Gate, authorized_case, require_account
from caseroom.audit import AuditRecord, Outcome, RequestMeta, user_record
from caseroom.auth import Principal
from caseroom.cases import dal, transitions, workflow
from caseroom.cases.case_types import CASE_TYPE_RULES, CaseType, FileKind
from caseroom.cases.models import (
    CasePage,
    CaseSummary,
    CaseView,
    CreateCaseRequest,
    DeclaredAttachment,
    DownloadLink,
    ModifyCaseRequest,
    RxScriptView,
    SetStatusRequest,
    TimelineActor,
    TimelineEntryView,
    TimelinePage,
)
from caseroom.cases.records import Attachment, Case, RxScriptDocument, TimelineEntry, evolve
from caseroom.cases.sorting import SortColumn, SortOrder
from caseroom.cases.statuses import Attention, CaseStatus, attention_of
from caseroom.cases.teeth import to_canonical, to_universal
from caseroom.cases.transitions import Mover, Via
from caseroom.clock import Clock, SystemClock, iso
from caseroom.errors import (
    CaseTypeNotOffered,
    DocumentNotReady,
    InvalidRequest,
    LabNotAvailable,
    NoLabConfigured,
    ReasonRequired,
    RxLocked,
    TrackingRequired,
    VersionConflict,
)
from caseroom.events import EventType
from caseroom.labs import dal as labs_dal
from caseroom.labs.calendar import LabCalendar
from caseroom.labs.records import Lab
from caseroom.observability import count
from caseroom.paging import PageRequest

DOWNLOAD_LINK_SECONDS = 300


@dataclass
class CaseService:
    clock: Clock = field(default_factory=SystemClock)

    # --- helpers -------------------------------------------------------------------------

    def _audit(
        self,
        who: Principal,
        meta: RequestMeta,
        action: str,
        case_id: str | None,
        object_type: str = "case",
        object_id: str | None = None,
        outcome: Outcome = Outcome.ALLOWED,
    ) -> AuditRecord:
        return user_record(
            who,
            meta,
            action,
            case_id=case_id,
            object_type=object_type,
            object_id=object_id or case_id or "-",
            at=iso(self.clock.now()),
            outcome=outcome,
        )

    def _page(self, who: Principal, meta: RequestMeta, limit: int, cursor: str | None) -> PageRequest:
        return PageRequest(who, meta, limit, cursor, self.clock.now())

    def _event(self, who: Principal, meta: RequestMeta, kind: EventType, case_id: str) -> dict[str, Any]:
        correlation_id = meta.correlation_id or meta.request_id
        return workflow.event_action(kind, case_id, who.user_id, correlation_id, self.clock.now())[1]

    def _save(
        self,
        who: Principal,
        meta: RequestMeta,
        updated: Case,
        expected_version: int,
        event: EventType | None,
        action: str,
        also: list[dict[str, Any]] | None = None,
    ) -> None:
        """Every change to a case commits with its domain events, its timeline entry (if the status
        moved) and its audit record, or not at all."""
        dal.replace_case(
            updated,
            expected_version=expected_version,
            also=[
                *([self._event(who, meta, event, updated.case_id)] if event is not None else []),
                *(also or []),
                audit_store.audit_put_action(self._audit(who, meta, action, updated.case_id)),
            ],
        )

    def _due_date(self, case_type: CaseType, attention: Attention, calendar: LabCalendar) -> str | None:
        # Red means the lab waits on the clinician: no due date until they act.
        if attention is Attention.RED:
            return None
        return calendar.due_date(case_type, self.clock.now()).isoformat()

    def _visible_case(
        self, who: Principal, case_id: str, meta: RequestMeta, action: Action
    ) -> tuple[Case, RxScriptDocument | None]:
        """The case and its Rx script record if `who` may perform `action` on the case, in one
        consistent read (caseroom.access decides)."""
        normalized = ids.normalize_case_id(case_id)
        case, rx_script = dal.get_case_and_rx_script(normalized) if normalized else (None, None)
        return Gate(who, meta, self.clock).case(action, case, normalized), rx_script

    # --- use cases -----------------------------------------------------------------------

    def create_case(self, who: Principal, request: CreateCaseRequest, meta: RequestMeta) -> CaseView:
        require_account(who, Action.CASE_CREATE)
        teeth = to_canonical(request.teeth, request.tooth_notation)
        lab, clinic_id = _chosen_lab(who, request.lab_id, request.case_type)
        status = _initial_status(request.case_type, {a.kind for a in request.attachments})
        attention = attention_of(status)
        now = iso(self.clock.now())
        case = Case(
            case_id=ids.new_case_id(),
            owner_id=who.user_id,
            owner_name=who.name,
            owner_email=who.email,
            lab_id=lab.lab_id,
            clinic_id=clinic_id,
            patient_name=request.patient_name,
            rx_description=request.rx_description,
            teeth=teeth,
            tooth_notation=request.tooth_notation.value,
            case_type=request.case_type,
            status=status,
            attention=attention,
            created_at=now,
            last_modified=now,
            updated_at=now,
            due_date=self._due_date(request.case_type, attention, lab.calendar()),
            attachments=[Attachment(kind=a.kind, file_name=a.file_name) for a in request.attachments],
        )
        rx_script = RxScriptDocument(case_id=case.case_id, status="pending", rx_version=0)
        dal.create_case(
            case,
            rx_script,
            also=[
                self._event(who, meta, EventType.CASE_CREATED, case.case_id),
                dal.timeline_put_action(workflow.creation_entry(case, _actor(who))),
                audit_store.audit_put_action(self._audit(who, meta, "case.create", case.case_id)),
            ],
        )
        count("CasesCreated")
        return _view(case, rx_script)

    def get_case(self, who: Principal, case_id: str, meta: RequestMeta) -> CaseView:
        case, rx_script = self._visible_case(who, case_id, meta, Action.CASE_READ)
        audit_store.append(self._audit(who, meta, "case.read", case.case_id))
        return _view(case, rx_script)

    def modify_case(
        self, who: Principal, case_id: str, request: ModifyCaseRequest, meta: RequestMeta
    ) -> CaseView:
        case, rx_script = self._visible_case(who, case_id, meta, Action.CASE_MODIFY)
        if request.rx_description is None and request.teeth is None:
            raise InvalidRequest("Nothing to change: send rxDescription and/or teeth.")
        changes: dict[str, Any] = {}
        if request.rx_description is not None:
            changes["rx_description"] = request.rx_description
        if request.teeth is not None:
            changes["teeth"] = to_canonical(request.teeth, request.tooth_notation)
            changes["tooth_notation"] = request.tooth_notation.value
        if request.version != case.version:
            raise VersionConflict()
        if not transitions.rx_editable(case.status):
            raise RxLocked(f"The Rx cannot change while the case is {case.status.value}; contact the lab.")
        now = self.clock.now()
        # A clinician's change resubmits the case: Processing (or still Missing CBCT/Models
        # while required files are missing), the due date pushed out, Last Modified moved.
        changes.update(last_modified=iso(now), rx_version=case.rx_version + 1)
        status = _initial_status(case.case_type, {a.kind for a in case.attachments})
        also: list[dict[str, Any]] = []
        if status is case.status:
            calendar = labs_dal.calendar_of(case.lab_id)
            due = transitions.due_date_on_entering(
                status, case.case_type, None, calendar, now, resubmitted=True
            )
            updated = evolve(case, **changes, due_date=due, updated_at=iso(now), version=case.version + 1)
        else:
            change = workflow.change_status(
                case,
                status,
                mover=Mover.CLINICIAN,
                via=Via.RX_CHANGE,
                actor=_actor(who),
                now=now,
                correlation_id=meta.correlation_id or meta.request_id,
                resubmitted=True,
                changes=changes,
            )
            updated, also = change.updated, change.actions
            count("CaseStatusChanges")
        self._save(who, meta, updated, request.version, EventType.CASE_RX_MODIFIED, "case.modify", also)
        return _view(updated, rx_script)

    def set_status(
        self, who: Principal, case_id: str, request: SetStatusRequest, meta: RequestMeta
    ) -> CaseView:
        """The lab moves a case along the declared transitions (caseroom.cases.transitions)."""
        case, rx_script = self._visible_case(who, case_id, meta, Action.CASE_STATUS_SET)
        if request.version != case.version:
            raise VersionConflict()  # judged against the status the caller saw, not a newer one
        target = request.status
        transitions.check(case.status, target, Mover.LAB, Via.STATUS_API)
        tracking = (request.carrier, request.tracking_number, request.tracking_url)
        changes: dict[str, Any] = {}
        if target in transitions.NEEDS_REASON and not request.reason:
            raise ReasonRequired(f"Putting a case {target.value} needs a reason.")
        if target in transitions.NEEDS_TRACKING:
            if not all(tracking):
                raise TrackingRequired()
            changes.update(carrier=tracking[0], tracking_number=tracking[1], tracking_url=tracking[2])
        elif any(tracking):
            raise InvalidRequest("carrier, trackingNumber and trackingUrl only go with Shipped.")
        change = workflow.change_status(
            case,
            target,
            mover=Mover.LAB,
            via=Via.STATUS_API,
            actor=_actor(who),
            now=self.clock.now(),
            correlation_id=meta.correlation_id or meta.request_id,
            reason=request.reason,
            changes=changes,
        )
        # lastModified is the clinician's date: a lab change never moves it.
        self._save(who, meta, change.updated, request.version, None, "case.status.set", change.actions)
        count("CaseStatusChanges")
        return _view(change.updated, rx_script)

    def timeline(
        self, who: Principal, case_id: str, limit: int, cursor: str | None, meta: RequestMeta
    ) -> TimelinePage:
        """Every status change of the case, oldest first: who, when, why, from and to."""
        case = authorized_case(who, case_id, meta, Action.CASE_TIMELINE_READ, self.clock)
        entries, next_cursor = dal.list_timeline(case.case_id, self._page(who, meta, limit, cursor))
        audit_store.append(self._audit(who, meta, "case.timeline.read", case.case_id, object_type="timeline"))
        return TimelinePage(items=[_timeline_view(e) for e in entries], next_cursor=next_cursor)

    def set_archived(
        self, who: Principal, case_id: str, version: int, archived: bool, meta: RequestMeta
    ) -> CaseView:
        """Archiving only tidies the clinician's list: it never cancels or holds the case."""
        action = Action.CASE_ARCHIVE if archived else Action.CASE_UNARCHIVE
        case, rx_script = self._visible_case(who, case_id, meta, action)
        updated = evolve(case, archived=archived, updated_at=iso(self.clock.now()), version=version + 1)
        event = EventType.CASE_ARCHIVED if archived else EventType.CASE_UNARCHIVED
        self._save(who, meta, updated, version, event, action)
        return _view(updated, rx_script)

    def list_cases(
        self,
        who: Principal,
        archived: bool,
        sort: SortColumn,
        order: SortOrder,
        limit: int,
        cursor: str | None,
        meta: RequestMeta,
    ) -> CasePage:
        require_account(who, Action.CASE_LIST)
        page = self._page(who, meta, limit, cursor)
        cases, next_cursor = dal.list_owner_cases(who.user_id, archived, sort, order, page)
        self._audit_list(who, meta, "case.list", cases)
        return CasePage(items=[_summary(c) for c in cases], next_cursor=next_cursor)

    def list_lab_queue(self, who: Principal, limit: int, cursor: str | None, meta: RequestMeta) -> CasePage:
        require_account(who, Action.LAB_QUEUE_LIST)
        assert who.lab_id is not None  # the lab-member relationship needs one
        cases, next_cursor = dal.list_lab_queue(who.lab_id, self._page(who, meta, limit, cursor))
        self._audit_list(who, meta, "lab.queue.list", cases)
        return CasePage(items=[_summary(c) for c in cases], next_cursor=next_cursor)

    def _audit_list(self, who: Principal, meta: RequestMeta, action: str, cases: list[Case]) -> None:
        # A list shows patient names: one record per page naming every case it showed.
        if cases:
            record = self._audit(
                who, meta, action, None, object_type="case-list", object_id=",".join(c.case_id for c in cases)
            )
            audit_store.append(record)

    def audit_trail(
        self, who: Principal, case_id: str, limit: int, cursor: str | None, meta: RequestMeta
    ) -> tuple[list[AuditRecord], str | None]:
        case = authorized_case(who, case_id, meta, Action.CASE_AUDIT_READ, self.clock)
        records, next_cursor = audit_store.list_for_case(case.case_id, self._page(who, meta, limit, cursor))
        audit_store.append(self._audit(who, meta, "case.audit.read", case.case_id, object_type="audit-trail"))
        return records, next_cursor

    def rx_script_link(self, who: Principal, case_id: str, meta: RequestMeta) -> DownloadLink:
        case, rx_script = self._visible_case(who, case_id, meta, Action.RX_SCRIPT_DOWNLOAD)
        if rx_script is None or not _script_is_current(case, rx_script) or rx_script.object_key is None:
            raise DocumentNotReady()
        file_name = f"rx-script-{case.case_id}.pdf"
        url = documents.download_url(rx_script.object_key, file_name, DOWNLOAD_LINK_SECONDS)
        audit_store.append(
            self._audit(who, meta, "rx_script.download", case.case_id, "document", rx_script.object_key)
        )
        return DownloadLink(url=url, expires_in_seconds=DOWNLOAD_LINK_SECONDS, file_name=file_name)


def _initial_status(case_type: CaseType, declared: set[FileKind]) -> CaseStatus:
    """Processing when the files this case type needs are declared, else Missing CBCT/Models."""
    missing = CASE_TYPE_RULES[case_type].required_files - declared
    return CaseStatus.MISSING_FILES if missing else CaseStatus.PROCESSING


def _chosen_lab(who: Principal, requested: str | None, case_type: CaseType) -> tuple[Lab, str]:
    """The lab a new case goes to (the requested one, else the clinician's default) and the
    clinician's clinic. A lab the clinician does not work with is refused exactly like a lab
    that does not exist, so ids of other labs reveal nothing."""
    profile = labs_dal.get_profile(who.user_id)
    if profile is None or not profile.lab_ids:
        raise NoLabConfigured()
    lab_id = requested or profile.default_lab_id
    lab = labs_dal.get_lab(lab_id) if lab_id in profile.lab_ids else None
    if lab is None:
        raise LabNotAvailable()
    if not lab.makes(case_type):
        raise CaseTypeNotOffered()
    return lab, profile.clinic_id


def _actor(who: Principal) -> workflow.ActorRef:
    return workflow.ActorRef(user_id=who.user_id, role=who.role.value, name=who.name)


def _timeline_view(entry: TimelineEntry) -> TimelineEntryView:
    return TimelineEntryView(
        entry_id=entry.entry_id,
        at=entry.at,
        from_status=CaseStatus(entry.from_status) if entry.from_status else None,
        to_status=CaseStatus(entry.to_status),
        by=TimelineActor(user_id=entry.actor_id, role=entry.actor_role, name=entry.actor_name),
        reason=entry.reason,
        kind=entry.kind,
        team_change=entry.team_change,
        member_name=entry.member_name,
        member_role=entry.member_role,
    )


def _script_is_current(case: Case, rx_script: RxScriptDocument | None) -> bool:
    # After an Rx change the stored PDF describes the previous Rx: never serve it as current.
    return (
        rx_script is not None
        and rx_script.status == "ready"
        and rx_script.object_key is not None
        and rx_script.rx_version >= case.rx_version
    )


def _view(case: Case, rx_script: RxScriptDocument | None) -> CaseView:
    rx = (
        RxScriptView(status="ready", generated_at=rx_script.generated_at)
        if rx_script is not None and _script_is_current(case, rx_script)
        else RxScriptView(status="pending")
    )
    return CaseView(
        case_id=case.case_id,
        patient_name=case.patient_name,
        rx_description=case.rx_description,
        teeth=case.teeth,
        teeth_universal=to_universal(case.teeth),
        case_type=case.case_type,
        status=case.status,
        attention=case.attention,
        owner_id=case.owner_id,
        owner_name=case.owner_name,
        lab_id=case.lab_id,
        clinic_id=case.clinic_id,
        created_at=case.created_at,
        last_modified=case.last_modified,
        due_date=case.due_date,
        archived=case.archived,
        version=case.version,
        attachments=[DeclaredAttachment(kind=a.kind, file_name=a.file_name) for a in case.attachments],
        rx_script=rx,
        status_reason=case.status_reason,
        carrier=case.carrier,
        tracking_number=case.tracking_number,
        tracking_url=case.tracking_url,
        planning_session_id=case.planning_session_id,
    )


def _summary(case: Case) -> CaseSummary:
    return CaseSummary(
        case_id=case.case_id,
        patient_name=case.patient_name,
        case_type=case.case_type,
        lab_id=case.lab_id,
        status=case.status,
        attention=case.attention,
        last_modified=case.last_modified,
        due_date=case.due_date,
        archived=case.archived,
        version=case.version,
    )


def case_summary(case: Case) -> CaseSummary:
    """A case as lists show it (also "cases shared with me", caseroom.team)."""
    return _summary(case)
