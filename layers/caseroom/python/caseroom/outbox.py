"""Puts an event into the outbox as one action of the caller's transaction."""

from __future__ import annotations

from typing import Any

from caseroom import dynamo


def outbox_put_action(attributes: dict[str, object]) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": dynamo.table_name(),
            "Item": dynamo.to_item(attributes),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
