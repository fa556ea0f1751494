"""Team-Up's pure rules: who holds the member relationship, and the search folding."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from caseroom import access
from caseroom.access import Action, Relationship
from caseroom.auth import Principal
from caseroom.team.records import Member, ProfessionalRole, fold, normalize_email
from tests.unit.test_properties import _case, principals

CASE = _case("u-owner", "lab-1")


def _member(case_id: str, user_id: str) -> Member:
    return Member(
        case_id=case_id,
        user_id=user_id,
        email="m@test",
        name="M",
        account_role="clinician",
        professional_role=ProfessionalRole.SURGEON,
        joined_at="2026-11-02T09:00:00Z",
        invitation_id="iv1",
    )


@given(
    who=principals,
    member_of=st.sampled_from(["u-a", "u-b"]),
    case_id=st.sampled_from([CASE.case_id, "ZZZZ-ZZZZ-ZZZZ"]),
)
def test_only_the_membership_of_this_caller_on_this_case_makes_a_member(
    who: Principal, member_of: str, case_id: str
) -> None:
    held = access.relationships(who, CASE, membership=_member(case_id, member_of))
    is_member = member_of == who.user_id and case_id == CASE.case_id and who.role in access.MEMBER_ROLES
    assert (Relationship.MEMBER in held) == is_member


def test_a_member_reads_and_contributes_but_never_governs() -> None:
    held = frozenset({Relationship.MEMBER})
    for action in (
        Action.CASE_READ,
        Action.FILE_DOWNLOAD,
        Action.UPLOAD_REQUEST,
        Action.TEAM_READ,
        Action.TEAM_LEAVE,
    ):
        assert access.allows(action, held), action
    for action in (
        Action.CASE_MODIFY,
        Action.CASE_AUDIT_READ,
        Action.CASE_STATUS_SET,
        Action.CASE_ARCHIVE,
        Action.TEAM_INVITE,
        Action.TEAM_MEMBER_REMOVE,
        Action.TEAM_OWNERSHIP_TRANSFER,
        Action.PLANNING_BOOK,
    ):
        assert not access.allows(action, held), action


def test_search_folding_is_case_and_accent_insensitive() -> None:
    assert fold("Ștefan") == "stefan"
    assert fold("ÉLODIE Côté") == "elodie cote"
    assert fold("stef") and fold("Ștefan").startswith(fold("STEF"))
    assert normalize_email("  Sam@Surgery.TEST ") == "sam@surgery.test"
