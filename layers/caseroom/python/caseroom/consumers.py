"""At-least-once delivery made safe: an event consumer claims (event id, consumer) once.

EventBridge may deliver an event twice; the claim is a conditional put, so exactly one
delivery proceeds. A consumer whose work then fails releases the claim so a retry can run.
"""

from __future__ import annotations

from caseroom import dynamo
from caseroom.clock import Clock

CLAIM_RETENTION_SECONDS = 7 * 24 * 3600  # longer than EventBridge's 24 h retry window


def claim(event_id: str, consumer: str, clock: Clock) -> bool:
    now = int(clock.now().timestamp())
    try:
        dynamo.put(
            {
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
        )
    except dynamo.ConditionFailed:
        return False  # another delivery of this event already claimed it
    return True


def release(event_id: str, consumer: str) -> None:
    dynamo.dynamodb().delete_item(
        TableName=dynamo.table_name(), Key=dynamo.key(f"EVENT#{event_id}", f"CONSUMER#{consumer}")
    )
