"""Paging through the APIs while items move, and what happens to a cursor that is not ours.

Each list here is read one item per page, and between two pages the item just read changes in
a way that moves it in the list's order (the lab moves it along, the clinician changes its Rx).
Every case must still be seen, first sightings in the order the list had before anything moved:
the next page starts where the last item WAS, not where it is now.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseroom import dynamo
from caseroom.audit import Outcome
from caseroom.auth import Principal
from caseroom.clock import FixedClock
from tests.conftest import CLINICIAN, CLINICIAN_2, LAB_TECH, OTHER_LAB
from tests.integration.test_cases_api import Call, call, create, move
from tests.integration.test_planning import Api, api, publish

__all__ = ["api", "call"]  # the fixtures are shared

# Where each new case starts, so the lists start with several colours and statuses.
START_STATUSES: tuple[tuple[str, ...], ...] = (
    ("Missing CBCT/Models",),  # red
    (),  # Processing, yellow
    ("Received",),  # green
    ("Received", "Manufacturing"),  # white
    (),  # yellow
)
# What the lab does to a case it has just seen: the next step of this walk.
LAB_WALK = {
    "Missing CBCT/Models": "Processing",
    "Processing": "Received",
    "Received": "Manufacturing",
    "Manufacturing": "Finished",
}
NAMES = ("Quinn Abara", "Ada Zhou", "Mia Lopez", "Bo Kim", "Zoe Hart")

Mutation = Callable[[Call, FixedClock, dict[str, Any]], None]


def lab_moves_it(call: Call, _clock: FixedClock, item: dict[str, Any]) -> None:
    current = call("GET", "/cases/{caseId}", f"/cases/{item['caseId']}", who=LAB_TECH)[1]
    if current["status"] in LAB_WALK:
        move(call, item["caseId"], LAB_WALK[current["status"]], version=current["version"])


def clinician_changes_the_rx(call: Call, clock: FixedClock, item: dict[str, Any]) -> None:
    clock.advance(hours=1)  # Last Modified and the due date move
    current = call("GET", "/cases/{caseId}", f"/cases/{item['caseId']}")[1]
    if current["status"] in ("Missing CBCT/Models", "Processing", "Received"):
        path = f"/cases/{item['caseId']}"
        body = {"version": current["version"], "rxDescription": f"changed at {clock.now()}"}
        status, changed = call("PATCH", "/cases/{caseId}", path, body=body)
        assert status == 200, changed


def seed(call: Call, clock: FixedClock) -> list[str]:
    ids = []
    for statuses, name in zip(START_STATUSES, NAMES, strict=True):
        clock.advance(minutes=7)
        case_id = create(call, patientName=name)["caseId"]
        if statuses:
            move(call, case_id, *statuses)
        ids.append(case_id)
    return ids


def walk(
    call: Call, clock: FixedClock, who: Principal, route: str, query: dict[str, str], mutate: Mutation
) -> list[str]:
    """Reads the list one item per page, changing each item right after its page first showed it."""
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(30):
        status, page = call(
            "GET", route, who=who, query={**query, "limit": "1", **({"cursor": cursor} if cursor else {})}
        )
        assert status == 200, page
        for item in page["items"]:
            if item["caseId"] not in seen:  # each case moves once, as a lab works its queue
                mutate(call, clock, item)
            seen.append(item["caseId"])
        cursor = page.get("nextCursor")
        if not cursor:
            return seen
    raise AssertionError("the walk did not end")


def first_sightings(seen: list[str]) -> list[str]:
    return list(dict.fromkeys(seen))


def test_the_lab_working_its_queue_sees_every_case(call: Call, clock: FixedClock) -> None:
    # Given a lab queue of five cases in four colours
    ids = seed(call, clock)
    before = [c["caseId"] for c in call("GET", "/lab/cases", who=LAB_TECH)[1]["items"]]
    assert sorted(before) == sorted(ids)
    # When the lab reads one case per page and moves each case on before reading the next page
    seen = walk(call, clock, LAB_TECH, "/lab/cases", {}, lab_moves_it)
    # Then it saw every case, in the order the queue had before it started
    assert first_sightings(seen) == before


@pytest.mark.parametrize("sort", ["attention", "status", "lastModified", "dueDate", "patient", "caseId"])
@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("mutate", [lab_moves_it, clinician_changes_the_rx], ids=["lab-moves", "rx-change"])
def test_my_cases_in_any_order_while_cases_move(
    call: Call, clock: FixedClock, sort: str, order: str, mutate: Mutation
) -> None:
    ids = seed(call, clock)
    query = {"sort": sort, "order": order}
    before = [c["caseId"] for c in call("GET", "/cases", query=query)[1]["items"]]
    assert sorted(before) == sorted(ids)
    seen = walk(call, clock, CLINICIAN, "/cases", query, mutate)
    assert first_sightings(seen) == before


# --- cursors that are not ours -------------------------------------------------------------------


def cursor_of(call: Call, who: Principal = CLINICIAN, route: str = "/cases", **query: str) -> str:
    status, page = call("GET", route, who=who, query={"limit": "1", **query})
    assert status == 200 and page["nextCursor"], page
    return str(page["nextCursor"])


def denied_cursor_records(user_id: str) -> list[dict[str, Any]]:
    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"AUDIT#ACTOR#{user_id}"}},
    )
    records = [dynamo.from_item(item) for item in response["Items"]]
    return [r for r in records if r["action"] == "list.page"]


def test_a_refused_cursor_is_400_and_audited_under_the_caller(call: Call) -> None:
    for _ in range(3):
        create(call)
    cursor = cursor_of(call)
    # Another clinician replays my cursor
    status, body = call("GET", "/cases", who=CLINICIAN_2, query={"cursor": cursor})
    assert (status, body["code"]) == (400, "INVALID_CURSOR")
    assert cursor not in str(body)
    [record] = denied_cursor_records(CLINICIAN_2.user_id)
    assert (record["outcome"], record["objectType"], record["objectId"]) == (
        Outcome.DENIED.value,
        "cursor",
        "owner-cases",
    )
    assert (record["actorRole"], record["sourceIp"]) == ("clinician", "203.0.113.7")
    # My own cursor still works for me, and leaves no denied record
    assert call("GET", "/cases", query={"cursor": cursor, "limit": "1"})[0] == 200
    assert denied_cursor_records(CLINICIAN.user_id) == []


def test_a_cursor_lives_twelve_hours(call: Call, clock: FixedClock) -> None:
    for _ in range(2):
        create(call)
    cursor = cursor_of(call)
    clock.advance(hours=11, minutes=59)
    assert call("GET", "/cases", query={"cursor": cursor})[0] == 200
    clock.advance(minutes=1)
    status, body = call("GET", "/cases", query={"cursor": cursor})
    assert (status, body["code"]) == (400, "INVALID_CURSOR")


@pytest.mark.parametrize(
    ("query", "who", "route"),
    [
        ({"sort": "patient"}, CLINICIAN, "/cases"),  # another sort
        ({"order": "desc"}, CLINICIAN, "/cases"),  # another order
        ({"archived": "true"}, CLINICIAN, "/cases"),  # another filter
        ({}, LAB_TECH, "/lab/cases"),  # another list, another reader
        ({}, CLINICIAN_2, "/cases"),  # another reader
    ],
)
def test_a_cursor_opens_only_its_own_list(
    call: Call, query: dict[str, str], who: Principal, route: str
) -> None:
    for _ in range(2):
        create(call)
    cursor = cursor_of(call)
    status, body = call("GET", route, who=who, query={**query, "cursor": cursor})
    assert (status, body["code"]) == (400, "INVALID_CURSOR")


def test_a_lab_queue_cursor_is_bound_to_the_lab(call: Call) -> None:
    for _ in range(2):
        create(call)
    cursor = cursor_of(call, LAB_TECH, "/lab/cases")
    other_member = Principal(
        user_id=LAB_TECH.user_id, email=LAB_TECH.email, name=LAB_TECH.name, role=LAB_TECH.role, lab_id="lab-2"
    )
    for stranger in (OTHER_LAB, other_member):
        status, body = call("GET", "/lab/cases", who=stranger, query={"cursor": cursor})
        assert (status, body["code"]) == (400, "INVALID_CURSOR")
    assert call("GET", "/lab/cases", who=LAB_TECH, query={"cursor": cursor})[0] == 200


def test_the_old_unsigned_cursor_format_is_refused(call: Call) -> None:
    # What a cursor used to be: base64 JSON naming any case key a client liked.
    forged = base64.urlsafe_b64encode(b'{"f":"0123456789abcdef","k":{"pk":"CASE#7KQ2-M9XD-4RTA"}}')
    status, body = call("GET", "/cases", query={"cursor": forged.decode().rstrip("=")})
    assert (status, body["code"]) == (400, "INVALID_CURSOR")


def test_an_empty_cursor_asks_for_the_first_page(call: Call) -> None:
    case_id = create(call)["caseId"]
    status, page = call("GET", "/cases", query={"cursor": ""})
    assert (status, [c["caseId"] for c in page["items"]]) == (200, [case_id])


def test_the_planning_blocks_cursor_outlives_the_minute(api: Api, clock: FixedClock) -> None:
    # Given three free blocks and a first page of one
    starts = ["2026-11-05T10:00", "2026-11-05T12:00", "2026-11-06T10:00"]
    ids = []
    for start in starts:
        status, block = publish(api, start=start)
        assert status == 201, block
        ids.append(block["blockId"])
    status, first = api("GET", "/lab/planning/blocks", who=LAB_TECH, query={"limit": "1"})
    assert status == 200 and first["nextCursor"]
    # When the lab turns the page two hours later (the start of the list moved meanwhile)
    clock.advance(hours=2)
    seen = [b["blockId"] for b in first["items"]]
    cursor = first["nextCursor"]
    while cursor:
        status, page = api(
            "GET", "/lab/planning/blocks", who=LAB_TECH, query={"limit": "1", "cursor": cursor}
        )
        assert status == 200, page
        seen += [b["blockId"] for b in page["items"]]
        cursor = page.get("nextCursor")
    # Then it reads on, every block once
    assert seen == ids


TAMPERING = st.one_of(
    st.tuples(st.just("flip"), st.integers(min_value=0), st.integers(min_value=0, max_value=7)),
    st.tuples(st.just("cut"), st.integers(min_value=0), st.just(0)),
    st.tuples(
        st.just("extend"), st.integers(min_value=1, max_value=40), st.integers(min_value=0, max_value=63)
    ),
)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def tampered(cursor: str, how: tuple[str, int, int]) -> str:
    kind, a, b = how
    if kind == "flip":
        data = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        data[a % len(data)] ^= 1 << b
        return base64.urlsafe_b64encode(bytes(data)).decode().rstrip("=")
    if kind == "cut":
        return cursor[: a % len(cursor)] or "A"
    return cursor + ALPHABET[b] * a


@settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(how=TAMPERING)
def test_a_tampered_cursor_through_the_api_is_always_400(call: Call, how: tuple[str, int, int]) -> None:
    # (the fixture's table persists across examples: a few cases, many refused page turns)
    if not call("GET", "/cases")[1]["items"]:
        for name in NAMES[:3]:
            create(call, patientName=name)
    cursor = cursor_of(call, sort="patient")
    status, body = call("GET", "/cases", query={"sort": "patient", "cursor": tampered(cursor, how)})
    assert (status, body["code"]) == (400, "INVALID_CURSOR")
    assert "items" not in body
