"""Data access for planning. The only planning module that talks to DynamoDB.

Key design (single table):
  block    pk=PLANNING#LAB#<lab>  sk=BLOCK#<blockId>      blockId starts with its UTC start time
  calendar pk=PLANNING#LAB#<lab>  sk=#CALENDAR            the lab's publish counter (sorts before
                                                          every BLOCK#, so no block query sees it)
  session  pk=CASE#<case>         sk=PLANNING#<session>   lives with its case
Access patterns:
  a lab's blocks in time order (list, overlap check)   Query pk, sk between two block-id prefixes
  one block (booking, authorization by the case's lab) consistent GetItem
  a case's session                                     consistent GetItem (id on the case)
Publishing is one transaction: the new block and the lab's publish counter, conditioned on the
counter the overlap check read; two overlapping blocks published at once cannot both pass.
Booking is one transaction: the block's "still free" condition, the case's version, the
session, the timeline entry, the events and the audit record.
"""

from __future__ import annotations

from typing import Any

from caseroom import dynamo, paging, stored
from caseroom.cases.dal import case_pk
from caseroom.planning.records import Block, BlockStatus, Session

BLOCK_PREFIX = "BLOCK#"
SESSION_PREFIX = "PLANNING#"


def lab_blocks_pk(lab_id: str) -> str:
    return f"PLANNING#LAB#{lab_id}"


def _block_values(block: Block) -> dict[str, Any]:
    values: dict[str, Any] = {"pk": lab_blocks_pk(block.lab_id), "sk": BLOCK_PREFIX + block.block_id}
    values["kind"] = "planning-block"
    values.update(stored.to_values(block))
    return values


def _block_from(values: dict[str, Any]) -> Block:
    return stored.from_values(Block, values)


def _session_values(session: Session) -> dict[str, Any]:
    values: dict[str, Any] = {"pk": case_pk(session.case_id), "sk": SESSION_PREFIX + session.session_id}
    values["kind"] = "planning-session"
    values.update(stored.to_values(session))
    return values


def _session_from(values: dict[str, Any]) -> Session:
    return stored.from_values(Session, values)


CALENDAR_SK = "#CALENDAR"


def calendar_version(lab_id: str) -> int:
    """How many blocks the lab has published (0 before the first): the overlap check's snapshot."""
    response = dynamo.dynamodb().get_item(
        TableName=dynamo.table_name(),
        Key=dynamo.key(lab_blocks_pk(lab_id), CALENDAR_SK),
        ConsistentRead=True,
    )
    item = response.get("Item")
    return int(item["publishes"]["N"]) if item else 0


def publish_block_actions(block: Block, seen_version: int) -> list[dict[str, Any]]:
    """The block, written only if no block was published since the overlap check read
    `seen_version` (the counter moves with every publish of the lab)."""
    counter: dict[str, Any] = {
        "TableName": dynamo.table_name(),
        "Key": dynamo.key(lab_blocks_pk(block.lab_id), CALENDAR_SK),
        "UpdateExpression": "SET publishes = :next, kind = :kind",
        "ExpressionAttributeValues": {
            ":next": {"N": str(seen_version + 1)},
            ":kind": {"S": "planning-calendar"},
        },
    }
    if seen_version == 0:
        counter["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        counter["ConditionExpression"] = "publishes = :seen"
        counter["ExpressionAttributeValues"][":seen"] = {"N": str(seen_version)}
    return [
        {
            "Put": {
                "TableName": dynamo.table_name(),
                "Item": dynamo.to_item(_block_values(block)),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {"Update": counter},
    ]


def get_block(lab_id: str, block_id: str) -> Block | None:
    response = dynamo.dynamodb().get_item(
        TableName=dynamo.table_name(),
        Key=dynamo.key(lab_blocks_pk(lab_id), BLOCK_PREFIX + block_id),
        ConsistentRead=True,
    )
    item = response.get("Item")
    return _block_from(dynamo.from_item(item)) if item else None


def blocks_between(lab_id: str, first_id_prefix: str, last_id_prefix: str) -> list[Block]:
    """Every block whose id (start time) sorts between the two prefixes; a bounded window."""
    request: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
        "ExpressionAttributeValues": {
            ":pk": {"S": lab_blocks_pk(lab_id)},
            ":low": {"S": BLOCK_PREFIX + first_id_prefix},
            ":high": {"S": BLOCK_PREFIX + last_id_prefix + "~"},
        },
        "ConsistentRead": True,
    }
    return [_block_from(values) for values in dynamo.query_all(request)]


def list_blocks(
    lab_id: str, from_id_prefix: str, free_only: bool, page: paging.PageRequest
) -> tuple[list[Block], str | None]:
    """The lab's blocks from a start time on, in time order; one Query of `limit` items per page
    (a free-only page may come back short: the filter runs after the read).

    The start time moves with the clock (now, today), so it is not part of the cursor's binding:
    a later page continues after the last block it read. DynamoDB refuses a start key below a
    range condition, so a later page asks only for blocks (all after that block anyway)."""
    partition = lab_blocks_pk(lab_id)
    if not page.cursor:
        condition, bound = "pk = :pk AND sk >= :bound", BLOCK_PREFIX + from_id_prefix
    else:
        condition, bound = "pk = :pk AND begins_with(sk, :bound)", BLOCK_PREFIX
    query: dict[str, Any] = {
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":bound": {"S": bound}},
    }
    if free_only:
        query["FilterExpression"] = "#status = :free"
        query["ExpressionAttributeNames"] = {"#status": "status"}
        query["ExpressionAttributeValues"][":free"] = {"S": BlockStatus.FREE.value}
    listing = paging.Listing(
        "planning-blocks",
        paging.TABLE_KEY,
        pinned={"pk": partition},
        filters={"freeOnly": str(free_only).lower()},
    )
    items, next_cursor = paging.query_page(query, listing, page)
    return [_block_from(values) for values in items], next_cursor


def get_session(case_id: str, session_id: str) -> Session | None:
    response = dynamo.dynamodb().get_item(
        TableName=dynamo.table_name(),
        Key=dynamo.key(case_pk(case_id), SESSION_PREFIX + session_id),
        ConsistentRead=True,
    )
    item = response.get("Item")
    return _session_from(dynamo.from_item(item)) if item else None


# --- transaction actions ---------------------------------------------------------------------


def take_block_action(block: Block, case_id: str, session_id: str) -> dict[str, Any]:
    """Marks the block booked for this case, only if it is still free: the booking race's referee."""
    return {
        "Update": {
            "TableName": dynamo.table_name(),
            "Key": dynamo.key(lab_blocks_pk(block.lab_id), BLOCK_PREFIX + block.block_id),
            "UpdateExpression": "SET #status = :booked, caseId = :case, sessionId = :session",
            "ConditionExpression": "attribute_exists(pk) AND #status = :free",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":booked": {"S": BlockStatus.BOOKED.value},
                ":free": {"S": BlockStatus.FREE.value},
                ":case": {"S": case_id},
                ":session": {"S": session_id},
            },
        }
    }


def release_block_action(block: Block, session_id: str) -> dict[str, Any]:
    """Frees the block this session held (only if it still holds it)."""
    return {
        "Update": {
            "TableName": dynamo.table_name(),
            "Key": dynamo.key(lab_blocks_pk(block.lab_id), BLOCK_PREFIX + block.block_id),
            "UpdateExpression": "SET #status = :free REMOVE caseId, sessionId",
            "ConditionExpression": "sessionId = :session",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":free": {"S": BlockStatus.FREE.value},
                ":session": {"S": session_id},
            },
        }
    }


def put_session_action(session: Session, expected_version: int | None) -> dict[str, Any]:
    """New session (expected_version None) or a change to it conditioned on its version."""
    action: dict[str, Any] = {
        "TableName": dynamo.table_name(),
        "Item": dynamo.to_item(_session_values(session)),
    }
    if expected_version is None:
        action["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        action["ConditionExpression"] = "version = :expected"
        action["ExpressionAttributeValues"] = {":expected": {"N": str(expected_version)}}
    return {"Put": action}


def transact(actions: list[dict[str, Any]]) -> None:
    """Raises dynamo.ConditionFailed when any condition did not hold."""
    dynamo.transact(actions)
