"""At-least-once delivery made safe: an event consumer claims (event id, consumer) once.

EventBridge may deliver an event twice; the claim is a conditional put, so exactly one
delivery proceeds. A consumer whose effect is a DynamoDB write commits the claim in the same
transaction (claim_action), so its effect happens exactly once; a consumer with an outside
effect (an email) claims first and releases the claim if its work fails, so a retry can run.
"""

from __future__ import annotations

from typing import Any

from caseroom import dynamo
from caseroom.clock import Clock

CLAIM_RETENTION_SECONDS = 7 * 24 * 3600  # longer than EventBridge's 24 h retry window


def claim_action(event_id: str, consumer: str, clock: Clock) -> dict[str, Any]:
    """The claim as a TransactWriteItems action: a consumer that commits its effect and its
    claim together can neither lose the event (crash after claiming) nor apply it twice."""
    now = int(clock.now().timestamp())
    return {
        "Put": {
            "TableName": dynamo.table_name(),
            "Item": dynamo.to_item(
                {
                    "pk": f"EVENT#{event_id}",
                    "sk": f"CONSUMER#{consumer}",
                    "kind": "claim",
                    "ttl": now + CLAIM_RETENTION_SECONDS,
                }
            ),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def claim(event_id: str, consumer: str, clock: Clock) -> bool:
    try:
        dynamo.put(claim_action(event_id, consumer, clock)["Put"])
    except dynamo.ConditionFailed:
        return False  # another delivery of this event already claimed it
    return True


def claimed(event_id: str, consumer: str) -> bool:
    response = dynamo.dynamodb().get_item(
        TableName=dynamo.table_name(),
        Key=dynamo.key(f"EVENT#{event_id}", f"CONSUMER#{consumer}"),
        ConsistentRead=True,
    )
    return "Item" in response


def release(event_id: str, consumer: str) -> None:
    dynamo.dynamodb().delete_item(
        TableName=dynamo.table_name(), Key=dynamo.key(f"EVENT#{event_id}", f"CONSUMER#{consumer}")
    )
