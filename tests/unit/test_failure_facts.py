"""What an unexpected error may log, and which AWS failures mean "the database is busy"."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from caseroom.errors import is_transient_database_failure
from caseroom.observability import failure_facts

PATIENT = "Zebulon Quixote-Patientname"


def _client_error(operation: str, code: str, reasons: list[str] | None = None) -> ClientError:
    response: dict = {"Error": {"Code": code, "Message": f"item of {PATIENT}"}}
    if reasons is not None:
        response["CancellationReasons"] = [
            {"Code": r, "Message": PATIENT, "Item": {"name": {"S": PATIENT}}} for r in reasons
        ]
    return ClientError(response, operation)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "busy"),
    [
        (
            _client_error(
                "TransactWriteItems", "TransactionCanceledException", ["None", "TransactionConflict"]
            ),
            True,
        ),
        (
            _client_error(
                "TransactWriteItems", "TransactionCanceledException", ["ProvisionedThroughputExceeded"]
            ),
            True,
        ),
        (
            _client_error("TransactWriteItems", "TransactionCanceledException", ["ConditionalCheckFailed"]),
            False,
        ),
        (_client_error("PutItem", "ProvisionedThroughputExceededException"), True),
        (_client_error("Query", "ThrottlingException"), True),
        (_client_error("GetItem", "ValidationException"), False),
        # Another service throttling after a committed write is not "the database is busy"
        (_client_error("CreateSchedule", "ThrottlingException"), False),
        (ValueError(PATIENT), False),
    ],
)
def test_only_dynamodbs_transient_answers_are_busy(error: BaseException, busy: bool) -> None:
    facts = failure_facts(error)
    assert is_transient_database_failure(facts) is busy
    assert PATIENT not in repr(facts)


def test_a_wrapped_client_error_is_seen_through() -> None:
    class PersistenceLayerError(Exception):  # how Powertools idempotency reports a failed save
        pass

    try:
        try:
            raise _client_error("PutItem", "ThrottlingException")
        except ClientError as inner:
            raise PersistenceLayerError(f"failed for {PATIENT}") from inner
    except PersistenceLayerError as wrapped:
        facts = failure_facts(wrapped)
    assert facts["error_type"] == "PersistenceLayerError"
    assert (facts["aws_operation"], facts["aws_error_code"]) == ("PutItem", "ThrottlingException")
    assert is_transient_database_failure(facts)
    assert PATIENT not in repr(facts)
