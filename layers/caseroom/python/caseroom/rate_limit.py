"""Token buckets kept on DynamoDB items: `rate` tokens a second, at most `burst`; each send
spends one. Spending is one conditional UpdateItem on the time the bucket was last written, so
two requests racing for the last token cannot both have it; the one that loses the race reads
the bucket again and tries once more (requests of one client run in parallel sandboxes: losing a
race is not being over the limit). Used by the room's WebSocket frames (a bucket per
connection) and its HTTPS send (a bucket per user)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from caseroom import dynamo
from caseroom.errors import RateLimited

SPEND_ATTEMPTS = 3  # three lost races in a row are a real flood


@dataclass(frozen=True)
class Bucket:
    rate_per_second: float
    burst: float

    def tokens_at(self, values: dict[str, Any] | None, now_ms: int) -> tuple[float, int]:
        """(tokens available now, when the bucket was last written; 0 for a new bucket)."""
        last = int((values or {}).get("bucketAt", 0))
        if not last:
            return self.burst, 0
        stored = float((values or {}).get("bucketTokens", self.burst))
        return min(self.burst, stored + max(0, now_ms - last) / 1000 * self.rate_per_second), last


def spend(
    bucket: Bucket,
    key: dict[str, Any],
    values: dict[str, Any] | None,
    now_ms: int,
    reread: Callable[[], dict[str, Any] | None],
    *,
    item_must_exist: bool,
    expires_epoch: int | None = None,
) -> None:
    """Spends one token of the bucket kept on the item `key` (whose current attributes are
    `values`); RateLimited when it is empty. item_must_exist: the bucket lives on an item that
    must still be there (a connection); otherwise the first spend creates the item, which
    expires (TTL) at expires_epoch."""
    for attempt in range(SPEND_ATTEMPTS):
        tokens, last = bucket.tokens_at(values, now_ms)
        if tokens < 1:
            raise RateLimited()
        conditions = ["attribute_exists(pk)"] if item_must_exist else []
        conditions.append("bucketAt = :last" if last else "attribute_not_exists(bucketAt)")
        update = "SET bucketTokens = :t, bucketAt = :now"
        names: dict[str, str] = {}
        attribute_values: dict[str, Any] = {
            ":t": {"N": f"{tokens - 1:.3f}"},
            ":now": {"N": str(max(now_ms, last))},
        }
        if last:
            attribute_values[":last"] = {"N": str(last)}
        if expires_epoch is not None:
            update += ", #ttl = :ttl"
            names["#ttl"] = "ttl"
            attribute_values[":ttl"] = {"N": str(expires_epoch)}
        request: dict[str, Any] = {
            "TableName": dynamo.table_name(),
            "Key": key,
            "UpdateExpression": update,
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeValues": attribute_values,
        }
        if names:
            request["ExpressionAttributeNames"] = names
        try:
            dynamo.update(request)
            return
        except dynamo.ConditionFailed as exc:
            values = reread()
            if (values is None and item_must_exist) or attempt == SPEND_ATTEMPTS - 1:
                raise RateLimited() from exc


def spend_per_user(bucket: Bucket, name: str, user_id: str, now_ms: int) -> None:
    """A user's own bucket `name` (pk=RATE#<userId>, sk=<name>): read consistently, then spent;
    the item expires a day after its last use."""
    key = dynamo.key(f"RATE#{user_id}", name)

    def read() -> dict[str, Any] | None:
        found = dynamo.dynamodb().get_item(TableName=dynamo.table_name(), Key=key, ConsistentRead=True)
        return dynamo.from_item(found["Item"]) if "Item" in found else None

    spend(bucket, key, read(), now_ms, read, item_must_exist=False, expires_epoch=now_ms // 1000 + 86_400)
