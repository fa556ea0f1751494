"""Who may see a case: the one authorization check every bounded context runs before it touches
a case or anything in it. Kept apart from the cases use cases (cases/logic.py) so the files and
planning functions authorize without importing the cases API."""

from __future__ import annotations

from caseroom import audit_store, ids
from caseroom.audit import Outcome, RequestMeta, user_record
from caseroom.auth import Principal, Role
from caseroom.cases import dal
from caseroom.cases.records import Case
from caseroom.clock import Clock, iso
from caseroom.errors import CaseNotFound


def may_see(who: Principal, case: Case) -> bool:
    """The case's owner clinician and members of the case's lab; nobody else."""
    if who.user_id == case.owner_id:
        return True
    return who.role is Role.LAB and who.lab_id is not None and who.lab_id == case.lab_id


def only_if_visible(
    who: Principal, case: Case | None, case_id: str | None, meta: RequestMeta, action: str, clock: Clock
) -> Case:
    # Anyone else learns nothing: 404, and the probe is audited under their name.
    if case is None or not may_see(who, case):
        denied = user_record(
            who,
            meta,
            action,
            case_id=case_id,
            object_type="case",
            object_id=case_id or "-",
            at=iso(clock.now()),
            outcome=Outcome.DENIED,
        )
        audit_store.append(denied)
        raise CaseNotFound()
    return case


def authorized_case(who: Principal, case_id: str, meta: RequestMeta, action: str, clock: Clock) -> Case:
    """The case if `who` may see it (its owner or a member of its lab), else 404 + a denied
    audit record. A consistent read of the case item alone."""
    normalized = ids.normalize_case_id(case_id)
    case = dal.get_case(normalized) if normalized else None
    return only_if_visible(who, case, normalized, meta, action, clock)
