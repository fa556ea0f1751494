"""Records and DynamoDB values: what is written reads back identical, types included."""

from __future__ import annotations

import pytest

from caseroom import dynamo, stored
from caseroom.audit import AuditRecord, Outcome
from caseroom.cases.case_types import CaseType, FileKind
from caseroom.cases.records import Attachment, Case
from caseroom.cases.statuses import Attention, CaseStatus

CASE = Case(
    case_id="7KQ2-M9XD-4RTA",
    owner_id="u-1",
    owner_name="Dr. Ana",
    owner_email="ana@clinic.example",
    lab_id="lab-1",
    patient_name="Li Wei",
    rx_description="Crown on 11",
    teeth=["11", "12"],
    case_type=CaseType.CROWN,
    status=CaseStatus.MISSING_FILES,
    attention=Attention.RED,
    created_at="2026-11-02T09:00:00Z",
    last_modified="2026-11-02T09:00:00Z",
    updated_at="2026-11-02T09:00:00Z",
    version=3,
    rx_version=2,
    attachments=[Attachment(kind=FileKind.SCAN, file_name="upper.stl")],
)


def test_a_case_round_trips_through_a_dynamodb_item() -> None:
    # Given a case written as item values, with table attributes it does not declare
    values = {"pk": "CASE#7KQ2-M9XD-4RTA", **stored.to_values(CASE)}
    item = dynamo.to_item(values)

    # When it is read back
    back = stored.from_values(Case, dynamo.from_item(item))

    # Then it is the same record: enums, ints, lists and nested records included
    assert back == CASE
    assert item["caseId"] == {"S": "7KQ2-M9XD-4RTA"}
    assert item["version"] == {"N": "3"}
    assert item["archived"] == {"BOOL": False}
    assert "dueDate" not in item  # None is left out, not stored as NULL
    assert item["attachments"] == {"L": [{"M": {"kind": {"S": "scan"}, "fileName": {"S": "upper.stl"}}}]}


def test_an_audit_record_keeps_its_outcome_enum() -> None:
    record = AuditRecord(
        actor_id="u-1",
        actor_role="clinician",
        action="case.read",
        case_id=None,
        object_type="case",
        object_id="X",
        at="2026-11-02T09:00:00Z",
        source_ip="127.0.0.1",
        request_id="r-1",
        outcome=Outcome.DENIED,
    )
    back = stored.from_values(AuditRecord, dynamo.from_item(dynamo.to_item(stored.to_values(record))))
    assert back == record
    assert back.outcome is Outcome.DENIED


@pytest.mark.parametrize(
    ("value", "attribute"),
    [
        (1.5, {"N": "1.5"}),
        (True, {"BOOL": True}),
        ({"a": [1, "x"]}, {"M": {"a": {"L": [{"N": "1"}, {"S": "x"}]}}}),
        ({"b", "a"}, {"SS": ["a", "b"]}),
    ],
)
def test_plain_values_map_to_dynamodb_types(value: object, attribute: dict[str, object]) -> None:
    assert dynamo.to_attribute(value) == attribute
    assert dynamo.from_attribute(attribute) == value


def test_values_dynamodb_cannot_hold_are_refused() -> None:
    with pytest.raises(TypeError, match="complex"):
        dynamo.to_attribute(1j)
