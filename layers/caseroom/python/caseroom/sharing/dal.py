"""Data access for share links. The only sharing module that talks to DynamoDB.

Key design (single table):
  link            pk=CASE#<caseId>        sk=SHARELINK#<linkId>      (the owner lists a case's links)
  policy          pk=CASE#<caseId>        sk=SHAREPOLICY             (may active members create links)
  token entry     pk=SHARETOKEN#<sha256>  sk=TOKEN                   -> caseId, linkId (never the token)
  email challenge pk=SHARELINK#<linkId>   sk=CHALLENGE#<challengeId>
  guest session   pk=SHARELINK#<linkId>   sk=SESSION#<sha256 of the session token>
  access log      pk=SHARELINK#<linkId>   sk=LOG#<at>#<requestId>
  guess counter   pk=SHARETHROTTLE#<key>  sk=<minute>                (failed token look-ups per address)
Access patterns: token -> link is two consistent GetItems (entry, then the link itself, so a revoke
is seen at once); a case's links and a link's log are one Query each, sized by the page.
Everything carries a TTL (RETENTION after the link's expiry), but reads check expiry themselves:
DynamoDB deletes expired items up to two days late.
"""

from __future__ import annotations

from typing import Any

from caseroom import dynamo, paging, stored
from caseroom.errors import VersionConflict
from caseroom.sharing.records import (
    EmailChallenge,
    GuestSession,
    LinkAccess,
    ShareLink,
    SharePolicy,
    TokenEntry,
)

# Links, their token entries and logs stay this long after expiry: the owner still reads the
# log, and a late guest gets 410 (not 404) until then.
RETENTION_SECONDS = 30 * 24 * 3600


def _link_key(case_id: str, link_id: str) -> dict[str, Any]:
    return dynamo.key(f"CASE#{case_id}", f"SHARELINK#{link_id}")


def _token_key(token_hash: str) -> dict[str, Any]:
    return dynamo.key(f"SHARETOKEN#{token_hash}", "TOKEN")


def _get(key: dict[str, Any]) -> dict[str, Any] | None:
    item = dynamo.dynamodb().get_item(TableName=dynamo.table_name(), Key=key, ConsistentRead=True).get("Item")
    return dynamo.from_item(item) if item else None


def create_link(link: ShareLink, ttl: int, also: list[dict[str, Any]]) -> None:
    link_values: dict[str, Any] = {
        "pk": f"CASE#{link.case_id}",
        "sk": f"SHARELINK#{link.link_id}",
        "kind": "share-link",
    }
    link_values.update(stored.to_values(link))
    link_values["ttl"] = ttl
    token_values = {
        "pk": f"SHARETOKEN#{link.token_hash}",
        "sk": "TOKEN",
        "kind": "share-token",
        **stored.to_values(TokenEntry(case_id=link.case_id, link_id=link.link_id)),
        "ttl": ttl,
    }
    dynamo.transact(
        [
            {
                "Put": {
                    "TableName": dynamo.table_name(),
                    "Item": dynamo.to_item(values),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for values in (link_values, token_values)
        ]
        + also
    )


def _policy_key(case_id: str) -> dict[str, Any]:
    return dynamo.key(f"CASE#{case_id}", "SHAREPOLICY")


def get_policy(case_id: str) -> SharePolicy:
    """The case's share-link policy (a consistent read: it decides what members may do)."""
    values = _get(_policy_key(case_id))
    return stored.from_values(SharePolicy, values) if values else SharePolicy(case_id=case_id)


def put_policy(policy: SharePolicy, also: list[dict[str, Any]]) -> None:
    values = {"pk": f"CASE#{policy.case_id}", "sk": "SHAREPOLICY", "kind": "share-policy"}
    values.update(stored.to_values(policy))
    dynamo.transact([{"Put": {"TableName": dynamo.table_name(), "Item": dynamo.to_item(values)}}, *also])


def get_link(case_id: str, link_id: str) -> ShareLink | None:
    values = _get(_link_key(case_id, link_id))
    return stored.from_values(ShareLink, values) if values else None


def token_entry(token_hash: str) -> TokenEntry | None:
    values = _get(_token_key(token_hash))
    return stored.from_values(TokenEntry, values) if values else None


def list_links(case_id: str, page: paging.PageRequest) -> tuple[list[ShareLink], str | None]:
    partition = f"CASE#{case_id}"
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": "SHARELINK#"}},
        "ScanIndexForward": False,
        "ConsistentRead": True,
    }
    listing = paging.Listing("share-links", paging.TABLE_KEY, pinned={"pk": partition})
    items, next_cursor = paging.query_page(query, listing, page)
    return [stored.from_values(ShareLink, values) for values in items], next_cursor


def mark(
    case_id: str, link_id: str, changes: dict[str, str], unless_set: str, also: list[dict[str, Any]]
) -> bool:
    """Sets `changes` (camelCase attribute -> value) on the link if `unless_set` is not set yet;
    False when it already was (revoked twice, first opening already recorded)."""
    names = {f"#a{i}": name for i, name in enumerate(changes)}
    values = {f":v{i}": {"S": value} for i, value in enumerate(changes.values())}
    update = {
        "Update": {
            "TableName": dynamo.table_name(),
            "Key": _link_key(case_id, link_id),
            "UpdateExpression": "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(changes))),
            "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(#guard)",
            "ExpressionAttributeNames": {**names, "#guard": unless_set},
            "ExpressionAttributeValues": values,
        }
    }
    try:
        dynamo.transact([update, *also])
    except dynamo.ConditionFailed:
        return False
    return True


# --- email one-time codes and guest sessions ----------------------------------------------------


def put_challenge(challenge: EmailChallenge, ttl: int) -> None:
    values = {
        "pk": f"SHARELINK#{challenge.link_id}",
        "sk": f"CHALLENGE#{challenge.challenge_id}",
        "kind": "share-challenge",
        **stored.to_values(challenge),
        "ttl": ttl,
    }
    dynamo.put(
        {
            "TableName": dynamo.table_name(),
            "Item": dynamo.to_item(values),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    )


def get_challenge(link_id: str, challenge_id: str) -> EmailChallenge | None:
    values = _get(dynamo.key(f"SHARELINK#{link_id}", f"CHALLENGE#{challenge_id}"))
    return stored.from_values(EmailChallenge, values) if values else None


def count_attempt(challenge: EmailChallenge, max_attempts: int) -> bool:
    """Counts one attempt at the code; False when the attempts are used up (or it was used)."""
    update = {
        "Update": {
            "TableName": dynamo.table_name(),
            "Key": dynamo.key(f"SHARELINK#{challenge.link_id}", f"CHALLENGE#{challenge.challenge_id}"),
            "UpdateExpression": "SET attempts = attempts + :one",
            "ConditionExpression": "attempts < :max AND used = :no",
            "ExpressionAttributeValues": {
                ":one": {"N": "1"},
                ":max": {"N": str(max_attempts)},
                ":no": {"BOOL": False},
            },
        }
    }
    try:
        dynamo.transact([update])
    except dynamo.ConditionFailed:
        return False
    return True


def consume_challenge(challenge: EmailChallenge, session_hash: str, session: GuestSession, ttl: int) -> None:
    """Marks the code used and opens the guest's session, together (a code opens one session)."""
    session_values = {
        "pk": f"SHARELINK#{session.link_id}",
        "sk": f"SESSION#{session_hash}",
        "kind": "share-session",
        **stored.to_values(session),
        "ttl": ttl,
    }
    try:
        dynamo.transact(
            [
                {
                    "Update": {
                        "TableName": dynamo.table_name(),
                        "Key": dynamo.key(
                            f"SHARELINK#{challenge.link_id}", f"CHALLENGE#{challenge.challenge_id}"
                        ),
                        "UpdateExpression": "SET used = :yes",
                        "ConditionExpression": "used = :no",
                        "ExpressionAttributeValues": {":yes": {"BOOL": True}, ":no": {"BOOL": False}},
                    }
                },
                {
                    "Put": {
                        "TableName": dynamo.table_name(),
                        "Item": dynamo.to_item(session_values),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    except dynamo.ConditionFailed as exc:
        raise VersionConflict("The code was already used.") from exc


def get_session(link_id: str, session_hash: str) -> GuestSession | None:
    values = _get(dynamo.key(f"SHARELINK#{link_id}", f"SESSION#{session_hash}"))
    return stored.from_values(GuestSession, values) if values else None


def session_is_live(link_id: str, session_hash: str, now_iso: str) -> bool:
    session = get_session(link_id, session_hash)
    return session is not None and now_iso < session.expires_at


# --- access log and guessing ------------------------------------------------------------------


def log_put_action(entry: LinkAccess, ttl: int) -> dict[str, Any]:
    values = {
        "pk": f"SHARELINK#{entry.link_id}",
        "sk": f"LOG#{entry.at}#{entry.request_id}",
        "kind": "share-log",
        **stored.to_values(entry),
        "ttl": ttl,
    }
    return {
        "Put": {
            "TableName": dynamo.table_name(),
            "Item": dynamo.to_item(values),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def append_log(entry: LinkAccess, ttl: int) -> None:
    dynamo.put(log_put_action(entry, ttl)["Put"])


def list_log(link_id: str, page: paging.PageRequest) -> tuple[list[LinkAccess], str | None]:
    partition = f"SHARELINK#{link_id}"
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": "LOG#"}},
        "ScanIndexForward": False,
        "ConsistentRead": True,
    }
    listing = paging.Listing("share-link-log", paging.TABLE_KEY, pinned={"pk": partition})
    items, next_cursor = paging.query_page(query, listing, page)
    return [stored.from_values(LinkAccess, values) for values in items], next_cursor


def count_failure(key: str, minute: str, ttl: int) -> int:
    """Adds one failed look-up to `key`'s counter for this minute; returns the new count."""
    response = dynamo.dynamodb().update_item(
        TableName=dynamo.table_name(),
        Key=dynamo.key(f"SHARETHROTTLE#{key}", minute),
        UpdateExpression="ADD failures :one SET #ttl = :ttl",
        ExpressionAttributeNames={"#ttl": "ttl"},
        ExpressionAttributeValues={":one": {"N": "1"}, ":ttl": {"N": str(ttl)}},
        ReturnValues="UPDATED_NEW",
    )
    return int(response["Attributes"]["failures"]["N"])


def failures(key: str, minute: str) -> int:
    values = _get(dynamo.key(f"SHARETHROTTLE#{key}", minute))
    return int(values.get("failures", 0)) if values else 0
