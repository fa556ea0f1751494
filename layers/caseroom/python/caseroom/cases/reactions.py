"""CaseRoom moving cases itself, on events (the SYSTEM rows of caseroom.cases.transitions).

Each reaction is idempotent on the event id (its claim commits in the same transaction as
its effect) and guarded by state (it re-reads the case and only acts if the move is still
allowed), so a duplicate, late or out-of-order delivery changes nothing.
"""

from __future__ import annotations

from caseroom import audit_store, consumers
from caseroom.audit import system_record
from caseroom.cases import dal, transitions, workflow
from caseroom.cases.statuses import CaseStatus
from caseroom.cases.transitions import Mover, Via
from caseroom.clock import Clock, iso
from caseroom.errors import VersionConflict
from caseroom.events import DomainEvent

COMPONENT = "case_workflow"
FILE_ADDED_CONSUMER = "case_workflow.file_added"
MAX_ATTEMPTS = 5  # lost races with other writers of the case before EventBridge's retry takes over


class StillContended(RuntimeError):
    """The case kept changing under the consumer; raising lets EventBridge retry later."""


def on_file_added(event: DomainEvent, clock: Clock) -> bool:
    """A file arrived for a case in Missing CBCT/Models: the case is resubmitted (Processing,
    due date pushed out). Returns True if this delivery moved the case."""
    for _attempt in range(MAX_ATTEMPTS):
        if consumers.claimed(event.id, FILE_ADDED_CONSUMER):
            return False  # a previous delivery already handled it
        case = dal.get_case(event.case_id)
        target = CaseStatus.PROCESSING
        if case is None or not transitions.is_allowed(case.status, target, Mover.SYSTEM, Via.FILE_ADDED):
            # Remember the decision: if the case goes back to Missing later, a late duplicate of
            # this (old) file must not move it.
            consumers.claim(event.id, FILE_ADDED_CONSUMER, clock)
            return False
        now = clock.now()
        change = workflow.change_status(
            case,
            target,
            mover=Mover.SYSTEM,
            via=Via.FILE_ADDED,
            actor=workflow.system_actor(COMPONENT),
            now=now,
            correlation_id=event.correlation_id or event.id,
            resubmitted=True,
        )
        audit = system_record(
            COMPONENT, "case.status.set", case.case_id, "case", case.case_id, iso(now), event.id
        )
        try:
            dal.replace_case(
                change.updated,
                expected_version=case.version,
                also=[
                    *change.actions,
                    consumers.claim_action(event.id, FILE_ADDED_CONSUMER, clock),
                    audit_store.audit_put_action(audit),
                ],
            )
        except VersionConflict:
            continue  # the case moved or another delivery committed first: look again
        return True
    raise StillContended("the case kept changing; EventBridge will retry")
