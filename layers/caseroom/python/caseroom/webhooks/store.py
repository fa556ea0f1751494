"""Data access for webhooks. The only webhooks module that talks to DynamoDB.

Key design (single table):
  endpoint   pk=USER#<ownerId>        sk=WEBHOOK#<endpointId>   url, eventTypes, secret(s), state
  delivery   pk=WHEP#<endpointId>     sk=DLV#<deliveryId>       deliveryId = <epoch ms, 13 digits><8 hex>
Access patterns:
  my endpoints / an event's endpoints   Query USER#<ownerId>, sk begins_with WEBHOOK# (<= 10 items)
  one endpoint (authorization)          consistent GetItem under the caller's own USER# partition
  delivery log, newest first            Query WHEP#<endpointId>, descending, Limit = page
Endpoints live under their owner's partition, so an endpoint id is only ever looked up inside
the caller's partition: another user's id is simply not found.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from caseroom import dynamo, paging
from caseroom.clock import iso

ENDPOINT_PREFIX = "WEBHOOK#"
DELIVERY_PREFIX = "DLV#"
DELIVERY_RETENTION_SECONDS = 30 * 24 * 3600
MAX_ENDPOINTS_PER_USER = 10


class DeliveryStatus:
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # gave up: in the DLQ


@dataclass(frozen=True)
class Endpoint:
    endpoint_id: str
    owner_id: str
    owner_email: str
    owner_name: str
    url: str
    event_types: tuple[str, ...]
    description: str
    enabled: bool
    created_at: str
    secret: str
    secret_rotated_at: str | None = None
    previous_secret: str | None = None
    previous_secret_expires_at: str | None = None
    disabled_reason: str | None = None
    disabled_at: str | None = None
    last_success_at: str | None = None


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    endpoint_id: str
    owner_id: str
    message_id: str
    event_type: str
    event_id: str
    case_id: str
    body: str  # the exact JSON sent (and signed) on every attempt
    status: str
    attempts: int
    created_at: str
    window_started_at: str  # retries stop a day after this (a manual redelivery restarts it)
    last_attempt_at: str | None = None
    next_attempt_at: str | None = None
    last_status_code: int | None = None
    last_error: str | None = None


_ENDPOINT_NAMES = {
    "endpoint_id": "endpointId",
    "owner_id": "ownerId",
    "owner_email": "ownerEmail",
    "owner_name": "ownerName",
    "url": "url",
    "event_types": "eventTypes",
    "description": "description",
    "enabled": "enabled",
    "created_at": "createdAt",
    "secret": "secret",
    "secret_rotated_at": "secretRotatedAt",
    "previous_secret": "previousSecret",
    "previous_secret_expires_at": "previousSecretExpiresAt",
    "disabled_reason": "disabledReason",
    "disabled_at": "disabledAt",
    "last_success_at": "lastSuccessAt",
}
_DELIVERY_NAMES = {
    "delivery_id": "deliveryId",
    "endpoint_id": "endpointId",
    "owner_id": "ownerId",
    "message_id": "messageId",
    "event_type": "eventType",
    "event_id": "eventId",
    "case_id": "caseId",
    "body": "body",
    "status": "status",
    "attempts": "attempts",
    "created_at": "createdAt",
    "window_started_at": "windowStartedAt",
    "last_attempt_at": "lastAttemptAt",
    "next_attempt_at": "nextAttemptAt",
    "last_status_code": "lastStatusCode",
    "last_error": "lastError",
}


def new_endpoint_id() -> str:
    return "ep_" + secrets.token_hex(10)


def new_delivery_id(now: datetime) -> str:
    return f"{int(now.timestamp() * 1000):013d}{secrets.token_hex(4)}"


def endpoint_key(owner_id: str, endpoint_id: str) -> dict[str, Any]:
    return dynamo.key(f"USER#{owner_id}", ENDPOINT_PREFIX + endpoint_id)


def delivery_key(endpoint_id: str, delivery_id: str) -> dict[str, Any]:
    return dynamo.key(f"WHEP#{endpoint_id}", DELIVERY_PREFIX + delivery_id)


def _endpoint_values(endpoint: Endpoint) -> dict[str, Any]:
    values = {_ENDPOINT_NAMES[k]: v for k, v in asdict(endpoint).items()}
    values["eventTypes"] = list(endpoint.event_types)
    key = endpoint_key(endpoint.owner_id, endpoint.endpoint_id)
    return {"pk": key["pk"]["S"], "sk": key["sk"]["S"], "kind": "webhook-endpoint", **values}


def _endpoint_from(values: dict[str, Any]) -> Endpoint:
    fields: dict[str, Any] = {attr: values.get(name) for attr, name in _ENDPOINT_NAMES.items()}
    fields["event_types"] = tuple(values.get("eventTypes", []))
    fields["enabled"] = bool(values.get("enabled", False))
    fields["description"] = str(values.get("description") or "")
    return Endpoint(**fields)


def _delivery_values(delivery: Delivery) -> dict[str, Any]:
    values = {_DELIVERY_NAMES[k]: v for k, v in asdict(delivery).items()}
    key = delivery_key(delivery.endpoint_id, delivery.delivery_id)
    created = datetime.fromisoformat(delivery.created_at.replace("Z", "+00:00"))
    return {
        "pk": key["pk"]["S"],
        "sk": key["sk"]["S"],
        "kind": "webhook-delivery",
        "ttl": int(created.timestamp()) + DELIVERY_RETENTION_SECONDS,
        **values,
    }


def _delivery_from(values: dict[str, Any]) -> Delivery:
    fields: dict[str, Any] = {attr: values.get(name) for attr, name in _DELIVERY_NAMES.items()}
    fields["attempts"] = int(values.get("attempts", 0))
    return Delivery(**fields)


# --- endpoints ---------------------------------------------------------------------------------


def endpoints_of(owner_id: str) -> list[Endpoint]:
    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": {"S": f"USER#{owner_id}"}, ":prefix": {"S": ENDPOINT_PREFIX}},
        ConsistentRead=True,
        Limit=MAX_ENDPOINTS_PER_USER + 1,
    )
    return [_endpoint_from(dynamo.from_item(i)) for i in response.get("Items", [])]


def get_endpoint(owner_id: str, endpoint_id: str) -> Endpoint | None:
    response = dynamo.dynamodb().get_item(
        TableName=dynamo.table_name(), Key=endpoint_key(owner_id, endpoint_id), ConsistentRead=True
    )
    return _endpoint_from(dynamo.from_item(response["Item"])) if "Item" in response else None


def put_endpoint(endpoint: Endpoint, also: list[dict[str, Any]] | None = None) -> None:
    dynamo.transact(
        [
            {
                "Put": {
                    "TableName": dynamo.table_name(),
                    "Item": dynamo.to_item(_endpoint_values(endpoint)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            *(also or []),
        ]
    )


def replace_endpoint(before: Endpoint, after: Endpoint, also: list[dict[str, Any]] | None = None) -> bool:
    """Writes `after` only if the stored endpoint is still `before` (its secret and state); False if not."""
    action = {
        "Put": {
            "TableName": dynamo.table_name(),
            "Item": dynamo.to_item(_endpoint_values(after)),
            "ConditionExpression": "attribute_exists(pk) AND secret = :secret AND enabled = :enabled",
            "ExpressionAttributeValues": {
                ":secret": {"S": before.secret},
                ":enabled": {"BOOL": before.enabled},
            },
        }
    }
    try:
        dynamo.transact([action, *(also or [])])
    except dynamo.ConditionFailed:
        return False
    return True


def delete_endpoint(owner_id: str, endpoint_id: str, also: list[dict[str, Any]] | None = None) -> None:
    dynamo.transact(
        [
            {
                "Delete": {
                    "TableName": dynamo.table_name(),
                    "Key": endpoint_key(owner_id, endpoint_id),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            *(also or []),
        ]
    )


def disable_endpoint(endpoint: Endpoint, reason: str, now: datetime) -> bool:
    """Disables an enabled endpoint; False when it was disabled (or deleted) already, so the
    owner is told once."""
    try:
        dynamo.dynamodb().update_item(
            TableName=dynamo.table_name(),
            Key=endpoint_key(endpoint.owner_id, endpoint.endpoint_id),
            UpdateExpression="SET enabled = :off, disabledReason = :reason, disabledAt = :now",
            ConditionExpression="attribute_exists(pk) AND enabled = :on",
            ExpressionAttributeValues={
                ":off": {"BOOL": False},
                ":on": {"BOOL": True},
                ":reason": {"S": reason},
                ":now": {"S": iso(now)},
            },
        )
    except dynamo.dynamodb().exceptions.ConditionalCheckFailedException:
        return False
    return True


def record_success(endpoint: Endpoint, now: datetime) -> None:
    try:
        dynamo.dynamodb().update_item(
            TableName=dynamo.table_name(),
            Key=endpoint_key(endpoint.owner_id, endpoint.endpoint_id),
            UpdateExpression="SET lastSuccessAt = :now",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":now": {"S": iso(now)}},
        )
    except dynamo.dynamodb().exceptions.ConditionalCheckFailedException:
        return  # deleted meanwhile


# --- deliveries --------------------------------------------------------------------------------


def create_delivery(delivery: Delivery) -> bool:
    """Stores a new delivery; False when it exists (an event's delivery id is deterministic)."""
    action = {
        "Put": {
            "TableName": dynamo.table_name(),
            "Item": dynamo.to_item(_delivery_values(delivery)),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    try:
        dynamo.transact([action])
    except dynamo.ConditionFailed:
        return False
    return True


def get_delivery(endpoint_id: str, delivery_id: str, now_epoch: int | None = None) -> Delivery | None:
    """One delivery; with `now_epoch`, None once it is past its retention (not yet deleted)."""
    response = dynamo.dynamodb().get_item(
        TableName=dynamo.table_name(), Key=delivery_key(endpoint_id, delivery_id), ConsistentRead=True
    )
    if "Item" not in response:
        return None
    values = dynamo.from_item(response["Item"])
    if now_epoch is not None and int(values.get("ttl", 0)) <= now_epoch:
        return None
    return _delivery_from(values)


def save_delivery(updated: Delivery, expected_attempts: int) -> bool:
    """Writes the delivery's new state unless another attempt recorded itself first."""
    try:
        dynamo.put(
            {
                "TableName": dynamo.table_name(),
                "Item": dynamo.to_item(_delivery_values(updated)),
                "ConditionExpression": "attribute_exists(pk) AND attempts = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(expected_attempts)}},
            }
        )
    except dynamo.ConditionFailed:
        return False
    return True


def list_deliveries(endpoint_id: str, page: paging.PageRequest) -> tuple[list[Delivery], str | None]:
    """Newest first. Deliveries past their retention are left out: DynamoDB's TTL deletes them
    "typically within two days", so the read filters itself (a page may come back short)."""
    now_epoch = int(page.now.timestamp())
    partition = f"WHEP#{endpoint_id}"
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {
            ":pk": {"S": partition},
            ":prefix": {"S": DELIVERY_PREFIX},
            ":now": {"N": str(now_epoch)},
        },
        "FilterExpression": "#ttl > :now",
        "ExpressionAttributeNames": {"#ttl": "ttl"},
        "ScanIndexForward": False,
    }
    listing = paging.Listing("webhook-deliveries", paging.TABLE_KEY, pinned={"pk": partition})
    items, next_cursor = paging.query_page(query, listing, page)
    return [_delivery_from(values) for values in items], next_cursor


__all__ = ["Delivery", "DeliveryStatus", "Endpoint", "replace"]
