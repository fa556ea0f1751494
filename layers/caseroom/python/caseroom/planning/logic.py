"""The rules of planning sessions: the lab publishes free blocks; the clinician of a case in
Ready to Plan (or Planning No Show) books one; only the lab changes a booking afterwards
(reschedule, cancel, mark held), as the lab portal does.

No boto3 here: storage goes through caseroom.planning.dal; the missed-session timer is set by
the case_workflow function from the PlanningScheduled event (caseroom.planning.timers), so a
crash between the booking's commit and the timer's creation cannot lose the timer.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from caseroom import audit_store, dynamo
from caseroom.access import Action, authorized_case, require_account
from caseroom.audit import AuditRecord, RequestMeta, user_record
from caseroom.auth import Principal
from caseroom.cases import dal as cases_dal
from caseroom.cases import workflow
from caseroom.cases.records import Case, evolve
from caseroom.cases.statuses import CaseStatus
from caseroom.cases.transitions import Mover, Via
from caseroom.clock import Clock, SystemClock, iso
from caseroom.errors import (
    BlockInPast,
    BlockNotFound,
    BlockOverlaps,
    BlockTaken,
    DatabaseBusy,
    InvalidRequest,
    NoPlanningSession,
    NotReadyToPlan,
    VersionConflict,
)
from caseroom.events import EventType
from caseroom.labs import dal as labs_dal
from caseroom.labs.calendar import UTC_CALENDAR
from caseroom.localtime import start_of_local_day, to_utc, zone
from caseroom.observability import count
from caseroom.paging import PageRequest
from caseroom.planning import dal, ical
from caseroom.planning.models import (
    MAX_BLOCK_MINUTES,
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
from caseroom.planning.records import Block, BlockStatus, Session, SessionStatus, utc_text
from caseroom.settings import get_settings

BOOKABLE = (CaseStatus.READY_TO_PLAN, CaseStatus.PLANNING_NO_SHOW)
# Publishing re-checks overlaps when another publish of the same lab committed in between. A
# publish only loses to one that committed, so with fewer publishes of one lab at once than
# this, every one completes (a lab publishing a week of blocks in parallel stays well below).
PUBLISH_ATTEMPTS = 25


def _id_prefix(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def new_block_id(start: datetime) -> str:
    return f"{_id_prefix(start)}-{secrets.token_hex(3).upper()}"


def new_session_id() -> str:
    return secrets.token_hex(12)


@dataclass
class PlanningService:
    clock: Clock = field(default_factory=SystemClock)

    def _audit(
        self, who: Principal, meta: RequestMeta, action: str, case_id: str, session_id: str
    ) -> AuditRecord:
        return user_record(
            who,
            meta,
            action,
            case_id=case_id,
            object_type="planning-session",
            object_id=session_id,
            at=iso(self.clock.now()),
        )

    def _lab_member(self, who: Principal, action: Action) -> str:
        require_account(who, action)
        assert who.lab_id is not None  # the lab-member relationship needs one
        return who.lab_id

    # --- blocks --------------------------------------------------------------------------------

    def publish_block(self, who: Principal, request: PublishBlockRequest) -> BlockView:
        lab_id = self._lab_member(who, Action.PLANNING_BLOCK_PUBLISH)
        # Blocks are the lab's time: its zone unless the request names another one.
        timezone_name = request.timezone or _lab_zone(lab_id)
        start = to_utc(request.start, zone(timezone_name))
        end = start + timedelta(minutes=request.duration_minutes)
        if start <= self.clock.now():
            raise BlockInPast()
        block = Block(
            block_id=new_block_id(start),
            lab_id=lab_id,
            start=utc_text(start),
            duration_minutes=request.duration_minutes,
            timezone=timezone_name,
            meeting_url=request.meeting_url,
        )
        for _ in range(PUBLISH_ATTEMPTS):
            # The check and the write are one snapshot: the write holds only if no block of
            # this lab was published after the counter was read (optimistic, per lab).
            seen = dal.calendar_version(lab_id)
            # Any block that overlaps starts less than the longest block length before this one ends.
            window = dal.blocks_between(
                lab_id, _id_prefix(start - timedelta(minutes=MAX_BLOCK_MINUTES)), _id_prefix(end)
            )
            if any(other.starts_at < end and other.ends_at > start for other in window):
                raise BlockOverlaps()
            try:
                dal.transact(dal.publish_block_actions(block, seen))
            except dynamo.ConditionFailed:
                continue  # another publish of this lab won the race: check again
            count("PlanningBlocksPublished")
            return _block_view(block)
        raise DatabaseBusy()

    def lab_blocks(self, who: Principal, limit: int, cursor: str | None, meta: RequestMeta) -> BlockPage:
        """The lab's blocks from the lab's today on (midnight on the lab's wall), free and booked,
        in time order."""
        lab_id = self._lab_member(who, Action.PLANNING_LAB_BLOCKS_LIST)
        now = self.clock.now()
        today = start_of_local_day(now, zone(_lab_zone(lab_id)))
        page = PageRequest(who, meta, limit, cursor, now)
        blocks, next_cursor = dal.list_blocks(lab_id, _id_prefix(today), False, page)
        return BlockPage(items=[_block_view(b) for b in blocks], next_cursor=next_cursor)

    def free_blocks(
        self, who: Principal, case_id: str, limit: int, cursor: str | None, meta: RequestMeta
    ) -> BlockPage:
        """The free, future blocks of the case's lab: what the clinician can book."""
        case = authorized_case(who, case_id, meta, Action.PLANNING_FREE_BLOCKS_READ, self.clock)
        now = self.clock.now()
        page = PageRequest(who, meta, limit, cursor, now)
        blocks, next_cursor = dal.list_blocks(case.lab_id, _id_prefix(now), True, page)
        return BlockPage(items=[_block_view(b) for b in blocks if b.starts_at > now], next_cursor=next_cursor)

    # --- the clinician books ---------------------------------------------------------------------

    def book(self, who: Principal, case_id: str, request: BookRequest, meta: RequestMeta) -> BookingView:
        case = authorized_case(who, case_id, meta, Action.PLANNING_BOOK, self.clock)
        if case.status not in BOOKABLE:
            raise NotReadyToPlan()
        now = self.clock.now()
        block = dal.get_block(case.lab_id, request.block_id)
        if block is None:
            raise BlockNotFound()
        if block.status is not BlockStatus.FREE:
            raise BlockTaken()
        if block.starts_at <= now:
            raise BlockInPast()
        session = Session(
            session_id=new_session_id(),
            case_id=case.case_id,
            lab_id=case.lab_id,
            block_id=block.block_id,
            start=block.start,
            duration_minutes=block.duration_minutes,
            timezone=block.timezone,
            meeting_url=block.meeting_url,
            status=SessionStatus.BOOKED,
            booked_by=who.user_id,
            booked_at=iso(now),
        )
        correlation_id = meta.correlation_id or meta.request_id
        change = workflow.change_status(
            case,
            CaseStatus.PLANNING_SCHEDULED,
            mover=Mover.CLINICIAN,
            via=Via.BOOKING,
            actor=_actor(who),
            now=now,
            correlation_id=correlation_id,
            changes={"planning_session_id": session.session_id},
        )
        _, scheduled = workflow.event_action(
            EventType.PLANNING_SCHEDULED, case.case_id, who.user_id, correlation_id, now, session.session_id
        )
        try:
            dal.transact(
                [
                    dal.take_block_action(block, case.case_id, session.session_id),
                    cases_dal.replace_case_action(change.updated, case.version),
                    dal.put_session_action(session, None),
                    *change.actions,
                    scheduled,
                    audit_store.audit_put_action(
                        self._audit(who, meta, "planning.book", case.case_id, session.session_id)
                    ),
                ]
            )
        except dynamo.ConditionFailed as lost:
            # Who won? If the block is gone it was another booking; otherwise the case moved.
            current = dal.get_block(case.lab_id, block.block_id)
            if current is None or current.status is not BlockStatus.FREE:
                raise BlockTaken() from lost
            raise VersionConflict() from lost
        count("PlanningSessionsBooked")
        view = _session_view(session)
        return BookingView(
            session=view,
            case_status=change.updated.status,
            attention=change.updated.attention,
            case_version=change.updated.version,
            ics=_ics(session, case, now),
            ics_file_name=ical.ics_file_name(session),
            google_calendar_url=view.google_calendar_url,
        )

    # --- reading the booking -----------------------------------------------------------------------

    def _session_of(self, case: Case) -> Session:
        session = (
            dal.get_session(case.case_id, case.planning_session_id) if case.planning_session_id else None
        )
        if session is None:
            raise NoPlanningSession("The case has no planning session.")
        return session

    def session(self, who: Principal, case_id: str, meta: RequestMeta) -> SessionView:
        case = authorized_case(who, case_id, meta, Action.PLANNING_READ, self.clock)
        session = self._session_of(case)
        audit_store.append(self._audit(who, meta, "planning.read", case.case_id, session.session_id))
        return _session_view(session)

    def calendar_file(self, who: Principal, case_id: str, meta: RequestMeta) -> tuple[str, str]:
        """(file name, iCalendar text) of the case's session, to download again."""
        case = authorized_case(who, case_id, meta, Action.PLANNING_ICS_DOWNLOAD, self.clock)
        session = self._session_of(case)
        audit_store.append(self._audit(who, meta, "planning.ics.download", case.case_id, session.session_id))
        return ical.ics_file_name(session), _ics(session, case, self.clock.now())

    # --- the lab changes a booking ---------------------------------------------------------------

    def _booked(
        self, who: Principal, case_id: str, version: int, meta: RequestMeta, action: Action
    ) -> tuple[Case, Session]:
        """The case and its booked session, if `who` may change it and read the case's current
        version (like every other state change: a stale one is 409 VERSION_CONFLICT)."""
        case = authorized_case(who, case_id, meta, action, self.clock)
        session = self._session_of(case)
        if session.status is not SessionStatus.BOOKED or case.status is not CaseStatus.PLANNING_SCHEDULED:
            raise NoPlanningSession()
        if version != case.version:
            raise VersionConflict()
        return case, session

    def _touched(self, case: Case, now: datetime) -> Case:
        """The case at its next version (a session change is a change of the case's state, so
        a client holding the old version cannot act on what it no longer sees)."""
        return evolve(case, version=case.version + 1, updated_at=iso(now))

    def reschedule(
        self, who: Principal, case_id: str, request: RescheduleRequest, meta: RequestMeta
    ) -> SessionView:
        case, session = self._booked(who, case_id, request.version, meta, Action.PLANNING_RESCHEDULE)
        now = self.clock.now()
        block = dal.get_block(case.lab_id, request.block_id)
        if block is None:
            raise BlockNotFound()
        if block.block_id == session.block_id:
            raise InvalidRequest("The session is already in that block.")
        if block.status is not BlockStatus.FREE:
            raise BlockTaken()
        if block.starts_at <= now:
            raise BlockInPast()
        moved = session.evolve(
            block_id=block.block_id,
            start=block.start,
            duration_minutes=block.duration_minutes,
            timezone=block.timezone,
            meeting_url=block.meeting_url,
            sequence=session.sequence + 1,
            replaced_block_id=session.block_id,
        )
        old_block = dal.get_block(case.lab_id, session.block_id)
        _, scheduled = workflow.event_action(
            EventType.PLANNING_SCHEDULED,
            case.case_id,
            who.user_id,
            meta.correlation_id or meta.request_id,
            now,
            session.session_id,
        )
        touched = self._touched(case, now)
        actions: list[dict[str, Any]] = [
            dal.take_block_action(block, case.case_id, session.session_id),
            cases_dal.replace_case_action(touched, case.version),
            dal.put_session_action(moved, session.version),
            scheduled,
            audit_store.audit_put_action(
                self._audit(who, meta, "planning.reschedule", case.case_id, session.session_id)
            ),
        ]
        if old_block is not None:
            actions.append(dal.release_block_action(old_block, session.session_id))
        try:
            dal.transact(actions)
        except dynamo.ConditionFailed as lost:
            current = dal.get_block(case.lab_id, block.block_id)
            if current is None or current.status is not BlockStatus.FREE:
                raise BlockTaken() from lost
            raise VersionConflict() from lost
        return _session_view(moved, touched.version)

    def cancel(self, who: Principal, case_id: str, request: CancelRequest, meta: RequestMeta) -> SessionView:
        """The lab cancels the booking: the block is free again, the case Ready to Plan."""
        case, session = self._booked(who, case_id, request.version, meta, Action.PLANNING_CANCEL)
        now = self.clock.now()
        correlation_id = meta.correlation_id or meta.request_id
        change = workflow.change_status(
            case,
            CaseStatus.READY_TO_PLAN,
            mover=Mover.LAB,
            via=Via.PLANNING_CANCEL,
            actor=_actor(who),
            now=now,
            correlation_id=correlation_id,
            reason=request.reason,
        )
        # A higher SEQUENCE: calendar apps apply the CANCEL to the event they hold (RFC 5546 3.2.5).
        cancelled = session.evolve(status=SessionStatus.CANCELLED, sequence=session.sequence + 1)
        _, event = workflow.event_action(
            EventType.PLANNING_CANCELLED, case.case_id, who.user_id, correlation_id, now, session.session_id
        )
        block = dal.get_block(case.lab_id, session.block_id)
        actions = [
            cases_dal.replace_case_action(change.updated, case.version),
            dal.put_session_action(cancelled, session.version),
            *change.actions,
            event,
            audit_store.audit_put_action(
                self._audit(who, meta, "planning.cancel", case.case_id, session.session_id)
            ),
        ]
        if block is not None:
            actions.append(dal.release_block_action(block, session.session_id))
        try:
            dal.transact(actions)
        except dynamo.ConditionFailed as lost:
            raise VersionConflict() from lost
        return _session_view(cancelled, change.updated.version)

    def mark_held(self, who: Principal, case_id: str, request: HeldRequest, meta: RequestMeta) -> SessionView:
        """The session took place: the missed-session timer will find it held and do nothing."""
        case, session = self._booked(who, case_id, request.version, meta, Action.PLANNING_HELD)
        now = self.clock.now()
        held = session.evolve(status=SessionStatus.HELD)
        touched = self._touched(case, now)
        _, event = workflow.event_action(
            EventType.PLANNING_HELD,
            case.case_id,
            who.user_id,
            meta.correlation_id or meta.request_id,
            now,
            session.session_id,
        )
        try:
            dal.transact(
                [
                    cases_dal.replace_case_action(touched, case.version),
                    dal.put_session_action(held, session.version),
                    event,
                    audit_store.audit_put_action(
                        self._audit(who, meta, "planning.held", case.case_id, session.session_id)
                    ),
                ]
            )
        except dynamo.ConditionFailed as lost:
            raise VersionConflict() from lost
        return _session_view(held, touched.version)


def _actor(who: Principal) -> workflow.ActorRef:
    return workflow.ActorRef(user_id=who.user_id, role=who.role.value, name=who.name)


def _lab_zone(lab_id: str) -> str:
    lab = labs_dal.get_lab(lab_id)
    return lab.timezone if lab is not None else UTC_CALENDAR.timezone


def _local_start(start: datetime, timezone: str) -> str:
    return start.astimezone(zone(timezone)).isoformat()


def _block_view(block: Block) -> BlockView:
    return BlockView(
        block_id=block.block_id,
        start=block.start,
        end=utc_text(block.ends_at),
        local_start=_local_start(block.starts_at, block.timezone),
        timezone=block.timezone,
        duration_minutes=block.duration_minutes,
        status=block.status.value,
    )


def _ics(session: Session, case: Case, now: datetime) -> str:
    return ical.session_ics(session, now, organizer=get_settings().email_from, attendee=case.owner_email)


def _session_view(session: Session, case_version: int | None = None) -> SessionView:
    return SessionView(
        session_id=session.session_id,
        case_id=session.case_id,
        block_id=session.block_id,
        start=session.start,
        end=utc_text(session.ends_at),
        local_start=_local_start(session.starts_at, session.timezone),
        timezone=session.timezone,
        duration_minutes=session.duration_minutes,
        status=session.status.value,
        meeting_url=session.meeting_url,
        google_calendar_url=ical.google_calendar_url(session),
        sequence=session.sequence,
        case_version=case_version,
    )
