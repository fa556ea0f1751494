"""Data access of the rooms. The only module of this context that touches DynamoDB.

Key design (single table, base-table reads only):
  message        pk=CHAT#<caseId>#<room>     sk=MSG#<messageId>   (time-ordered id: history
                 pages newest first, `after` resumes with sk > MSG#<id>)
  revision       pk=CHATREV#<caseId>#<room>  sk=<messageId>#<replacedAt>#<random>  (insert-only)
  read marker    pk=CHATREAD#<caseId>        sk=<room>#<userId>   readUpTo (a message id)
Connections that joined a room are audience members of CASE#<caseId>#<room> (caseroom.realtime).
"""

from __future__ import annotations

import secrets
from typing import Any

from caseroom import dynamo, paging, stored
from caseroom.chat.records import Message, Revision

ConditionFailed = dynamo.ConditionFailed
MESSAGE_PREFIX = "MSG#"


def room_pk(case_id: str, room: str) -> str:
    return f"CHAT#{case_id}#{room}"


def _message_key(case_id: str, room: str, message_id: str) -> dict[str, Any]:
    return dynamo.key(room_pk(case_id, room), MESSAGE_PREFIX + message_id)


def message_put(message: Message) -> dict[str, Any]:
    values = {
        "pk": room_pk(message.case_id, message.room),
        "sk": MESSAGE_PREFIX + message.message_id,
        "kind": "chat-message",
        **stored.to_values(message),
    }
    return {
        "Put": {
            "TableName": dynamo.table_name(),
            "Item": dynamo.to_item(values),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def message_replace(updated: Message, previous: Message) -> dict[str, Any]:
    """Overwrites a message if it is still as it was read (no concurrent edit or delete)."""
    values = {
        "pk": room_pk(updated.case_id, updated.room),
        "sk": MESSAGE_PREFIX + updated.message_id,
        "kind": "chat-message",
        **stored.to_values(updated),
    }
    condition = "attribute_exists(pk) AND #t = :t AND attribute_not_exists(deletedAt)"
    names = {"#t": "text"}
    exp_values = {":t": {"S": previous.text}}
    if previous.edited_at is not None:
        condition += " AND editedAt = :e"
        exp_values[":e"] = {"S": previous.edited_at}
    return {
        "Put": {
            "TableName": dynamo.table_name(),
            "Item": dynamo.to_item(values),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": exp_values,
        }
    }


def revision_put(revision: Revision) -> dict[str, Any]:
    values = {
        "pk": f"CHATREV#{revision.case_id}#{revision.room}",
        "sk": f"{revision.message_id}#{revision.replaced_at}#{secrets.token_hex(4)}",
        "kind": "chat-revision",
        **stored.to_values(revision),
    }
    return {
        "Put": {
            "TableName": dynamo.table_name(),
            "Item": dynamo.to_item(values),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def revisions(case_id: str, room: str, message_id: str) -> list[Revision]:
    request = {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :m)",
        "ExpressionAttributeValues": {
            ":pk": {"S": f"CHATREV#{case_id}#{room}"},
            ":m": {"S": message_id + "#"},
        },
        "ConsistentRead": True,
    }
    return [stored.from_values(Revision, v) for v in dynamo.query_all(request)]


def get_message(case_id: str, room: str, message_id: str) -> Message | None:
    response = dynamo.dynamodb().get_item(
        TableName=dynamo.table_name(), Key=_message_key(case_id, room, message_id), ConsistentRead=True
    )
    return stored.from_values(Message, dynamo.from_item(response["Item"])) if "Item" in response else None


def transact(actions: list[dict[str, Any]]) -> None:
    dynamo.transact(actions)


def history(
    case_id: str, room: str, after: str | None, page: paging.PageRequest
) -> tuple[list[Message], str | None]:
    """Newest first; with `after`, the messages after that id, oldest first (a reconnecting
    client resumes without gaps or duplicates)."""
    pk = room_pk(case_id, room)
    query: dict[str, Any] = {"ConsistentRead": True}
    if after is None:
        query["KeyConditionExpression"] = "pk = :pk"
        query["ExpressionAttributeValues"] = {":pk": {"S": pk}}
        query["ScanIndexForward"] = False
    else:
        query["KeyConditionExpression"] = "pk = :pk AND sk > :after"
        query["ExpressionAttributeValues"] = {":pk": {"S": pk}, ":after": {"S": MESSAGE_PREFIX + after}}
        query["ScanIndexForward"] = True
    listing = paging.Listing(
        name="chat-history", key_names=paging.TABLE_KEY, pinned={"pk": pk}, filters={"after": after or ""}
    )
    items, cursor = paging.query_page(query, listing, page)
    return [stored.from_values(Message, v) for v in items], cursor


def latest_message_id(case_id: str, room: str) -> str | None:
    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": room_pk(case_id, room)}},
        ScanIndexForward=False,
        Limit=1,
        ConsistentRead=True,
        ProjectionExpression="messageId",
    )
    items = response.get("Items", [])
    return str(dynamo.from_item(items[0])["messageId"]) if items else None


def unread_count(case_id: str, room: str, user_id: str, read_up_to: str | None, cap: int) -> int:
    """Messages after the reader's marker, not their own and not deleted (up to `cap`)."""
    values: dict[str, Any] = {":pk": {"S": room_pk(case_id, room)}, ":me": {"S": user_id}}
    condition = "pk = :pk"
    if read_up_to:
        condition += " AND sk > :after"
        values[":after"] = {"S": MESSAGE_PREFIX + read_up_to}
    request: dict[str, Any] = {
        "TableName": dynamo.table_name(),
        "KeyConditionExpression": condition,
        "FilterExpression": "authorId <> :me AND attribute_not_exists(deletedAt)",
        "ExpressionAttributeValues": values,
        "Select": "COUNT",
        "ConsistentRead": True,
    }
    total = 0
    while total < cap:
        response = dynamo.dynamodb().query(**request)
        total += int(response.get("Count", 0))
        last = response.get("LastEvaluatedKey")
        if not last:
            break
        request["ExclusiveStartKey"] = last
    return min(total, cap)


def _read_key(case_id: str, room: str, user_id: str) -> dict[str, Any]:
    return dynamo.key(f"CHATREAD#{case_id}", f"{room}#{user_id}")


def read_marker(case_id: str, room: str, user_id: str) -> str | None:
    response = dynamo.dynamodb().get_item(
        TableName=dynamo.table_name(), Key=_read_key(case_id, room, user_id), ConsistentRead=True
    )
    return str(dynamo.from_item(response["Item"])["readUpTo"]) if "Item" in response else None


def mark_read(case_id: str, room: str, user_id: str, message_id: str, at: str) -> bool:
    """Moves the reader's marker forward (never back). False when it was already there or past."""
    try:
        dynamo.update(
            {
                "TableName": dynamo.table_name(),
                "Key": _read_key(case_id, room, user_id),
                "UpdateExpression": "SET readUpTo = :m, readAt = :at, kind = :k",
                "ConditionExpression": "attribute_not_exists(readUpTo) OR readUpTo < :m",
                "ExpressionAttributeValues": {
                    ":m": {"S": message_id},
                    ":at": {"S": at},
                    ":k": {"S": "chat-read-marker"},
                },
            }
        )
    except ConditionFailed:
        return False
    return True
