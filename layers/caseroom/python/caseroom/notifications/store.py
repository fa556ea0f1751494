"""Data access for notifications. The only notifications module that talks to DynamoDB.

Key design (single table):
  preferences   pk=USER#<userId>              sk=NOTIFY#PREFS      prefs (kind -> mode), digestHourUtc
  feed item     pk=FEED#<audience>            sk=N#<feedId>        feedId = <epoch ms, 13 digits>-<noticeId>
  feed counter  pk=FEED#<audience>            sk=COUNTER           unreadByDay, readUpTo (a feedId watermark)
  digest item   pk=DIGEST#<userId>#<day>      sk=<feedId>          title, email
  claims        pk=EVENT#<source>             sk=CONSUMER#<what>   (caseroom.consumers' shape)
Audiences: USER#<userId> (a user's own feed) and LAB#<labId> (the lab's shared feed).
Access patterns:
  my feed, newest first             Query FEED#<audience>, sk begins_with N#, descending, Limit = page
  unread count                      consistent GetItem of the counter (sum of its live days)
  mark all read                     one UpdateItem: unread = 0, readUpTo = now (items up to it read)
  a day's digest                    Query DIGEST#<userId>#<day>
Expiry: a feed item lives FEED_RETENTION_DAYS whole days counted from the start of the UTC day
it was created; its `ttl` is the first second it is gone. DynamoDB deletes it "typically within
two days" after that, so every read filters on `ttl` itself. The unread count cannot drift
when unread items expire: the counter keeps unread counts per creation day (unreadByDay) and
the count sums only the days still alive, the same rule the feed filters by. Mark-all-read
empties the map in the same update that moves the watermark.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from caseroom import dynamo, paging
from caseroom.clock import iso

PREFS_SK = "NOTIFY#PREFS"
COUNTER_SK = "COUNTER"
FEED_PREFIX = "N#"
FEED_RETENTION_DAYS = 365
DAY_SECONDS = 24 * 3600
DIGEST_RETENTION_SECONDS = 14 * 24 * 3600
CLAIM_RETENTION_SECONDS = 7 * 24 * 3600
FEED_ID = re.compile(r"^\d{13}-[0-9a-f]{20}$")


@dataclass(frozen=True)
class FeedItem:
    feed_id: str
    kind: str
    title: str
    case_id: str
    event_type: str
    event_id: str
    subject_id: str
    created_at: str
    read: bool


@dataclass(frozen=True)
class Preferences:
    modes: dict[str, str]
    digest_hour_utc: int | None


def feed_pk(audience: str) -> str:
    return f"FEED#{audience}"


def feed_id_at(moment: datetime, notice_id: str) -> str:
    return f"{int(moment.timestamp() * 1000):013d}-{notice_id}"


def feed_day(feed_id: str) -> str:
    """The UTC creation day of a feed item (YYYYMMDD), from its id's epoch milliseconds."""
    return datetime.fromtimestamp(int(feed_id[:13]) // 1000, UTC).strftime("%Y%m%d")


def feed_expiry(feed_id: str) -> int:
    """The first second (epoch) the item is gone: its creation day's start + the retention."""
    day_start = int(feed_id[:13]) // 1000 // DAY_SECONDS * DAY_SECONDS
    return day_start + FEED_RETENTION_DAYS * DAY_SECONDS


def first_live_day(now: datetime) -> str:
    """Items created on this UTC day or later are alive at `now`."""
    today = int(now.timestamp()) // DAY_SECONDS * DAY_SECONDS
    return datetime.fromtimestamp(today - (FEED_RETENTION_DAYS - 1) * DAY_SECONDS, UTC).strftime("%Y%m%d")


def _watermark(moment: datetime) -> str:
    # Every feed id created up to this millisecond sorts at or below it ('~' > any hex digit).
    return f"{int(moment.timestamp() * 1000):013d}-~"


def _claim_put(source: str, what: str, now_epoch: int) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": dynamo.table_name(),
            "Item": dynamo.to_item(
                {
                    "pk": f"EVENT#{source}",
                    "sk": f"CONSUMER#{what}",
                    "kind": "claim",
                    "ttl": now_epoch + CLAIM_RETENTION_SECONDS,
                }
            ),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def _claimed(source: str, what: str) -> bool:
    response = dynamo.dynamodb().get_item(
        TableName=dynamo.table_name(),
        Key=dynamo.key(f"EVENT#{source}", f"CONSUMER#{what}"),
        ConsistentRead=True,
    )
    return "Item" in response


# --- preferences ---------------------------------------------------------------------------


def get_preferences(user_id: str) -> Preferences:
    response = dynamo.dynamodb().get_item(
        TableName=dynamo.table_name(), Key=dynamo.key(f"USER#{user_id}", PREFS_SK), ConsistentRead=True
    )
    values = dynamo.from_item(response["Item"]) if "Item" in response else {}
    hour = values.get("digestHourUtc")
    return Preferences(
        modes={str(k): str(v) for k, v in (values.get("prefs") or {}).items()},
        digest_hour_utc=int(hour) if hour is not None else None,
    )


def put_preferences(user_id: str, preferences: Preferences, now: datetime) -> None:
    item: dict[str, Any] = {
        "pk": f"USER#{user_id}",
        "sk": PREFS_SK,
        "kind": "notification-preferences",
        "prefs": preferences.modes,
        "updatedAt": iso(now),
    }
    if preferences.digest_hour_utc is not None:
        item["digestHourUtc"] = preferences.digest_hour_utc
    dynamo.dynamodb().put_item(TableName=dynamo.table_name(), Item=dynamo.to_item(item))


# --- feed ------------------------------------------------------------------------------------


def add_to_feed(
    audience: str, item: dict[str, str], notice_id: str, source: str, now: datetime
) -> str | None:
    """Adds a feed item once per (source, audience) and counts it unread; returns its feed id,
    or None when this notice is already in the feed (a redelivered event)."""
    table = dynamo.table_name()
    now_epoch = int(now.timestamp())
    feed_id = feed_id_at(now, notice_id)
    claim = _claim_put(source, f"feed:{audience}", now_epoch)
    values = {
        "pk": feed_pk(audience),
        "sk": FEED_PREFIX + feed_id,
        "kind": "feed-item",
        "feedId": feed_id,
        "createdAt": iso(now),
        "ttl": feed_expiry(feed_id),
        **item,
    }
    count_unread = {
        "Update": {
            "TableName": table,
            "Key": dynamo.key(feed_pk(audience), COUNTER_SK),
            # The map exists from the counter's first write on (see _ensure_counter).
            "UpdateExpression": "ADD unreadByDay.#day :one",
            # After a "mark all read" newer than this item, the item is read already: not counted.
            "ConditionExpression": "attribute_exists(unreadByDay) AND "
            "(attribute_not_exists(readUpTo) OR readUpTo < :id)",
            "ExpressionAttributeNames": {"#day": feed_day(feed_id)},
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":id": {"S": feed_id}},
        }
    }
    for _attempt in range(2):
        try:
            dynamo.transact(
                [claim, {"Put": {"TableName": table, "Item": dynamo.to_item(values)}}, count_unread]
            )
            return feed_id
        except dynamo.ConditionFailed:
            if _claimed(source, f"feed:{audience}"):
                return None
        if "unreadByDay" in _counter(audience):
            break
        _ensure_counter(audience)  # the audience's first notice: create the counter, then again
    # Lost a race with "mark all read": store the item as read, uncounted.
    values["readAt"] = iso(now)
    try:
        dynamo.transact([claim, {"Put": {"TableName": table, "Item": dynamo.to_item(values)}}])
    except dynamo.ConditionFailed:
        return None
    return feed_id


def _counter(audience: str) -> dict[str, Any]:
    response = dynamo.dynamodb().get_item(
        TableName=dynamo.table_name(), Key=dynamo.key(feed_pk(audience), COUNTER_SK), ConsistentRead=True
    )
    return dynamo.from_item(response["Item"]) if "Item" in response else {}


def _ensure_counter(audience: str) -> None:
    """Creates the counter with an empty per-day map if it has none (a nested ADD needs the
    map to exist); never touches an existing one."""
    with contextlib.suppress(dynamo.ConditionFailed):  # created meanwhile by another notice
        dynamo.update(
            {
                "TableName": dynamo.table_name(),
                "Key": dynamo.key(feed_pk(audience), COUNTER_SK),
                "UpdateExpression": "SET unreadByDay = :empty",
                "ConditionExpression": "attribute_not_exists(unreadByDay)",
                "ExpressionAttributeValues": {":empty": {"M": {}}},
            }
        )


def unread_count(audience: str, now: datetime) -> int:
    """Unread items still alive at `now`: expired days drop out by themselves."""
    by_day = _counter(audience).get("unreadByDay") or {}
    live = first_live_day(now)
    return sum(max(0, int(count)) for day, count in by_day.items() if day >= live)


def _alive(values: dict[str, Any], now: datetime) -> bool:
    return int(values.get("ttl", 0)) > int(now.timestamp())


def list_feed(audience: str, page: paging.PageRequest) -> tuple[list[FeedItem], str | None]:
    """Newest first; expired items are left out (a page may then come back short)."""
    partition = feed_pk(audience)
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": FEED_PREFIX}},
        "ScanIndexForward": False,
        "FilterExpression": "#ttl > :now",
        "ExpressionAttributeNames": {"#ttl": "ttl"},
    }
    query["ExpressionAttributeValues"][":now"] = {"N": str(int(page.now.timestamp()))}
    listing = paging.Listing("notifications", paging.TABLE_KEY, pinned={"pk": partition})
    items, next_cursor = paging.query_page(query, listing, page)
    watermark = str(_counter(audience).get("readUpTo", ""))
    return [_feed_item(values, watermark) for values in items], next_cursor


def _feed_item(values: dict[str, Any], watermark: str) -> FeedItem:
    feed_id = str(values["feedId"])
    return FeedItem(
        feed_id=feed_id,
        kind=str(values.get("noticeKind", "")),
        title=str(values.get("title", "")),
        case_id=str(values.get("caseId", "")),
        event_type=str(values.get("eventType", "")),
        event_id=str(values.get("eventId", "")),
        subject_id=str(values.get("subjectId", "")),
        created_at=str(values.get("createdAt", "")),
        read="readAt" in values or (bool(watermark) and feed_id <= watermark),
    )


def mark_read(audience: str, feed_id: str, now: datetime) -> bool | None:
    """Marks one item read. True: it was unread; False: it was read already; None: no such item."""
    table = dynamo.table_name()
    key = dynamo.key(feed_pk(audience), FEED_PREFIX + feed_id)
    for _attempt in range(3):
        counter = _counter(audience)
        watermark = str(counter.get("readUpTo", ""))
        item = dynamo.dynamodb().get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        if item is None or not _alive(dynamo.from_item(item), now):
            return None
        if "readAt" in item or (watermark and feed_id <= watermark):
            return False
        same_watermark = (
            ("readUpTo = :w", {":w": {"S": watermark}})
            if watermark
            else ("attribute_not_exists(readUpTo)", {})
        )
        try:
            dynamo.transact(
                [
                    {
                        "Update": {
                            "TableName": table,
                            "Key": key,
                            "UpdateExpression": "SET readAt = :now",
                            "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(readAt)",
                            "ExpressionAttributeValues": {":now": {"S": iso(now)}},
                        }
                    },
                    {
                        "Update": {
                            "TableName": table,
                            "Key": dynamo.key(feed_pk(audience), COUNTER_SK),
                            "UpdateExpression": "ADD unreadByDay.#day :minus",
                            "ConditionExpression": f"unreadByDay.#day > :zero AND {same_watermark[0]}",
                            "ExpressionAttributeNames": {"#day": feed_day(feed_id)},
                            "ExpressionAttributeValues": {
                                ":minus": {"N": "-1"},
                                ":zero": {"N": "0"},
                                **same_watermark[1],
                            },
                        }
                    },
                ]
            )
            return True
        except dynamo.ConditionFailed:
            continue  # a concurrent read or "mark all": look again
    return False


def mark_all_read(audience: str, now: datetime) -> None:
    dynamo.dynamodb().update_item(
        TableName=dynamo.table_name(),
        Key=dynamo.key(feed_pk(audience), COUNTER_SK),
        UpdateExpression="SET unreadByDay = :empty, readUpTo = :w",
        ExpressionAttributeValues={":empty": {"M": {}}, ":w": {"S": _watermark(now)}},
    )


# --- digests -----------------------------------------------------------------------------------


def digest_pk(user_id: str, day: str) -> str:
    return f"DIGEST#{user_id}#{day}"


def add_digest_item(user_id: str, day: str, feed_id: str, title: str, email: str, now: datetime) -> bool:
    try:
        dynamo.put(
            {
                "TableName": dynamo.table_name(),
                "Item": dynamo.to_item(
                    {
                        "pk": digest_pk(user_id, day),
                        "sk": feed_id,
                        "kind": "digest-item",
                        "title": title,
                        "email": email,
                        "ttl": int(now.timestamp()) + DIGEST_RETENTION_SECONDS,
                    }
                ),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        )
    except dynamo.ConditionFailed:
        return False
    return True


def digest_items(user_id: str, day: str, limit: int = 500) -> list[dict[str, Any]]:
    """Oldest first; a day of notices for one user is small, and the email lists at most `limit`."""
    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": digest_pk(user_id, day)}},
        ConsistentRead=True,
        Limit=limit,
    )
    return [dynamo.from_item(i) for i in response.get("Items", [])]


# --- audit (same stored shape as caseroom.audit.AuditRecord, without loading pydantic) ----------


def audit_email_sent(case_id: str, action: str, event_source: str, now: datetime) -> None:
    at = iso(now)
    partition = f"AUDIT#CASE#{case_id}" if case_id else "AUDIT#ACTOR#system:notifications"
    dynamo.put(
        {
            "TableName": dynamo.table_name(),
            "Item": dynamo.to_item(
                {
                    "pk": partition,
                    "sk": f"{at}#{event_source}#{secrets.token_hex(4)}",
                    "kind": "audit",
                    "actorId": "system:notifications",
                    "actorRole": "system",
                    "action": action,
                    "caseId": case_id or None,
                    "objectType": "email",
                    "objectId": event_source,
                    "at": at,
                    "sourceIp": "internal",
                    "requestId": event_source,
                    "outcome": "allowed",
                }
            ),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    )
