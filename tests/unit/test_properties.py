"""Property-based tests (hypothesis): the access table, tooth notations and the status machine
hold for every input, not just the examples the other tests pick."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caseroom import access
from caseroom.access import Action, Relationship, Resource
from caseroom.auth import Principal, Role
from caseroom.cases.case_types import CaseType
from caseroom.cases.records import Case
from caseroom.cases.statuses import Attention, CaseStatus
from caseroom.cases.teeth import (
    FDI_TO_UNIVERSAL,
    UNIVERSAL_TO_FDI,
    VALID_FDI,
    ToothNotation,
    to_canonical,
    to_universal,
)
from caseroom.cases.transitions import (
    OPEN_STATUSES,
    TRANSITIONS,
    Mover,
    Via,
    allowed_targets,
    is_allowed,
)
from caseroom.errors import InvalidTooth

# --- the access table ------------------------------------------------------------------------

ids = st.sampled_from(["u-a", "u-b", "u-c"])
lab_ids = st.sampled_from([None, "lab-1", "lab-2"])
principals = st.builds(
    Principal,
    user_id=ids,
    email=st.just("x@test"),
    name=st.just("X"),
    role=st.sampled_from(list(Role)),
    lab_id=lab_ids,
)


def _case(owner: str, lab: str) -> Case:
    return Case(
        case_id="ABCD-EFGH-JKMN",
        owner_id=owner,
        owner_name="Dr",
        owner_email="d@test",
        lab_id=lab,
        patient_name="P",
        rx_description="R",
        teeth=["11"],
        case_type=CaseType.CROWN,
        status=CaseStatus.PROCESSING,
        attention=Attention.YELLOW,
        created_at="2026-11-02T09:00:00Z",
        last_modified="2026-11-02T09:00:00Z",
        updated_at="2026-11-02T09:00:00Z",
        due_date=None,
        attachments=[],
    )


cases = st.builds(_case, owner=ids, lab=st.sampled_from(["lab-1", "lab-2"]))
resources = st.one_of(
    st.none(), st.builds(Resource, kind=st.just("file"), resource_id=st.just("f"), created_by=ids)
)


@given(
    principals,
    cases,
    resources,
    st.sampled_from([a for a in Action if access.RIGHTS[a].scope.value == "case"]),
)
@settings(max_examples=400, derandomize=True)
def test_an_action_is_allowed_exactly_when_a_held_relationship_is_in_its_row(
    who: Principal, case: Case, resource: Resource | None, action: Action
) -> None:
    held = access.relationships(who, case, resource)
    assert access.allows(action, held) == bool(held & access.RIGHTS[action].granted_to)
    # Relationships are only ever what the facts give: never granted by role alone.
    if Relationship.OWNER in held:
        assert who.role is Role.CLINICIAN and who.user_id == case.owner_id
    if Relationship.CASE_LAB in held:
        assert who.role is Role.LAB and who.lab_id == case.lab_id
    if Relationship.UPLOADER in held:
        assert resource is not None and resource.created_by == who.user_id
        assert held & access.SEES_CASE, "an uploader who lost the case lost their uploads"


@given(principals, cases, st.sampled_from(list(Action)))
@settings(max_examples=300, derandomize=True)
def test_strangers_and_patients_are_allowed_nothing_on_a_case(
    who: Principal, case: Case, action: Action
) -> None:
    stranger = who.user_id != case.owner_id and who.lab_id != case.lab_id
    if stranger or who.role is Role.PATIENT:
        assert not access.relationships(who, case)
        if access.RIGHTS[action].scope.value == "case":
            assert not access.allows(action, access.relationships(who, case))


def test_every_row_is_an_allow_list_of_known_relationships() -> None:
    for action, rule in access.RIGHTS.items():
        assert rule.granted_to, f"{action} grants nobody: remove it or give it a row"
        assert rule.granted_to <= set(Relationship)


# --- tooth notation --------------------------------------------------------------------------


@given(st.lists(st.sampled_from(sorted(VALID_FDI)), max_size=12))
@settings(max_examples=300, derandomize=True)
def test_fdi_and_universal_round_trip(teeth: list[str]) -> None:
    canonical = to_canonical(teeth, ToothNotation.FDI)
    assert set(canonical) == set(teeth)
    assert to_canonical(to_universal(canonical), ToothNotation.UNIVERSAL) == canonical


@given(st.lists(st.sampled_from(sorted(UNIVERSAL_TO_FDI)), min_size=1, max_size=12), st.randoms())
@settings(max_examples=300, derandomize=True)
def test_universal_order_and_case_do_not_matter(teeth: list[str], rnd: random.Random) -> None:
    shuffled = [t.lower() if rnd.random() < 0.5 else t for t in teeth]
    rnd.shuffle(shuffled)
    assert to_canonical(shuffled, ToothNotation.UNIVERSAL) == to_canonical(teeth, ToothNotation.UNIVERSAL)


@given(st.text(max_size=4), st.sampled_from(list(ToothNotation)))
@settings(max_examples=500, derandomize=True)
def test_anything_else_is_refused_without_echo(raw: str, notation: ToothNotation) -> None:
    known = VALID_FDI if notation is ToothNotation.FDI else set(UNIVERSAL_TO_FDI)
    value = raw.strip().upper()
    value = value.lstrip("0") if notation is ToothNotation.UNIVERSAL and value.isdigit() else value
    if value in known:
        return
    with pytest.raises(InvalidTooth) as refused:
        to_canonical([raw], notation)
    with pytest.raises(InvalidTooth) as reference:
        to_canonical(["not a tooth"], notation)
    # The message is the same whatever was sent: it names the position, never the value.
    assert refused.value.message == reference.value.message


def test_the_two_notations_are_a_bijection() -> None:
    assert len(FDI_TO_UNIVERSAL) == len(UNIVERSAL_TO_FDI) == len(VALID_FDI) == 52


# --- the status machine ----------------------------------------------------------------------

statuses = st.sampled_from(list(CaseStatus))
movers = st.sampled_from(list(Mover))
vias = st.sampled_from(list(Via))


@given(statuses, statuses, movers, vias)
@settings(max_examples=500, derandomize=True)
def test_a_move_is_allowed_exactly_when_declared(
    source: CaseStatus, target: CaseStatus, mover: Mover, via: Via
) -> None:
    declared = any((t.source, t.target, t.mover, t.via) == (source, target, mover, via) for t in TRANSITIONS)
    assert is_allowed(source, target, mover, via) == declared
    assert (target in allowed_targets(source, mover, via)) == declared


@given(st.lists(st.tuples(statuses, movers, vias), max_size=30))
@settings(max_examples=200, derandomize=True)
def test_final_statuses_are_final_on_any_walk(steps: list[tuple[CaseStatus, Mover, Via]]) -> None:
    status = CaseStatus.PROCESSING
    for target, mover, via in steps:
        if is_allowed(status, target, mover, via):
            assert status in OPEN_STATUSES, "a final status moved on"
            status = target


def test_every_open_status_can_be_left_and_no_move_loops_in_place() -> None:
    for status in OPEN_STATUSES:
        assert any(t.source is status for t in TRANSITIONS), status
    assert all(t.source is not t.target for t in TRANSITIONS)
