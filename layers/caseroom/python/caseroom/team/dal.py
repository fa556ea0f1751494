"""Data access for Team-Up. The only team module that talks to DynamoDB.

Key design (single table, see README "Data model"):
  invitation of an address  pk=CASE#<case>          sk=INVITE#<email>      latest invitation + outcome
  invitee's pending request pk=INVITEE#<email>      sk=REQ#<invitationId>  only while pending
  active member             pk=CASE#<case>          sk=MEMBER#<userId>     only while active; also
                            carries ownerList=SHARED#<user>#ACTIVE|ARCHIVED and the case's sort_*
                            columns, so the byOwner-* indexes serve "cases shared with me"
  network contact           pk=NET#<user>           sk=USER#<contact>
  network name entry        pk=NET#<user>           sk=NAME#<folded name>#<contact>
  network email entry       pk=NET#<user>           sk=EMAIL#<email>#<contact>
Access patterns:
  is the caller an active member (authorization)   consistent GetItem MEMBER#<user>
  the team of a case                                Query pk=CASE#<case>, sk begins_with MEMBER# / INVITE#
  my Team-Up requests, newest first                 Query pk=INVITEE#<my verified email> (consistent)
  cases shared with me sorted by column X           Query GSI byOwner-X, ownerList=SHARED#<me>#...,
                                                    then one consistent BatchGetItem of the page's
                                                    cases and my membership items (re-check)
  search my network by name prefix / email prefix   Query pk=NET#<me>, sk begins_with NAME#<folded> / EMAIL#
No Scan anywhere; every list is one Query sized by the page.
"""

from __future__ import annotations

from typing import Any

from caseroom import dynamo, paging, stored
from caseroom.cases import dal as cases_dal
from caseroom.cases.records import Case
from caseroom.cases.sorting import SortColumn, SortOrder
from caseroom.table_schema import CASE_SORT_INDEXES
from caseroom.team.records import Contact, Invitation, Member, fold

INVITE_PREFIX = "INVITE#"
MEMBER_PREFIX = "MEMBER#"
REQUEST_PREFIX = "REQ#"
MAX_TEAM_READ = 200  # a team is capped well below this (caseroom.team.logic.MAX_TEAM_SIZE)


def _table() -> str:
    return dynamo.table_name()


def invitation_key(case_id: str, email: str) -> dict[str, Any]:
    return dynamo.key(cases_dal.case_pk(case_id), INVITE_PREFIX + email)


def request_key(email: str, invitation_id: str) -> dict[str, Any]:
    return dynamo.key(f"INVITEE#{email}", REQUEST_PREFIX + invitation_id)


def member_key(case_id: str, user_id: str) -> dict[str, Any]:
    return dynamo.key(cases_dal.case_pk(case_id), MEMBER_PREFIX + user_id)


def shared_list(user_id: str, archived: bool) -> str:
    return f"SHARED#{user_id}#{'ARCHIVED' if archived else 'ACTIVE'}"


# --- items -------------------------------------------------------------------------------------


def _invitation_values(invitation: Invitation) -> dict[str, Any]:
    values: dict[str, Any] = {
        **_plain(invitation_key(invitation.case_id, invitation.email)),
        "kind": "invitation",
    }
    values.update(stored.to_values(invitation))
    return values


def _request_values(invitation: Invitation) -> dict[str, Any]:
    values: dict[str, Any] = {
        **_plain(request_key(invitation.email, invitation.invitation_id)),
        "kind": "team-request",
    }
    values.update(stored.to_values(invitation))
    return values


def _member_values(member: Member, case: Case) -> dict[str, Any]:
    values: dict[str, Any] = {**_plain(member_key(member.case_id, member.user_id)), "kind": "member"}
    values.update(stored.to_values(member))
    values.update(shared_row_columns(member.user_id, case))
    return values


def shared_row_columns(user_id: str, case: Case) -> dict[str, Any]:
    """The index columns of a member item: the case's sort keys under the member's shared list,
    and the case version they were copied from (an older copy never overwrites a newer one)."""
    columns: dict[str, Any] = {
        k: v for k, v in cases_dal.case_index_columns(case).items() if k.startswith("sort_")
    }
    columns["ownerList"] = shared_list(user_id, case.archived)
    columns["sharedVersion"] = case.version
    return columns


def _plain(key: dict[str, Any]) -> dict[str, str]:
    return {name: value["S"] for name, value in key.items()}


def put_action(
    values: dict[str, Any],
    condition: str | None = None,
    names: dict[str, str] | None = None,
    condition_values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    action: dict[str, Any] = {"TableName": _table(), "Item": dynamo.to_item(values)}
    if condition:
        action["ConditionExpression"] = condition
    if names:
        action["ExpressionAttributeNames"] = names
    if condition_values:
        action["ExpressionAttributeValues"] = condition_values
    return {"Put": action}


def invitation_put(invitation: Invitation, expected: Invitation | None) -> dict[str, Any]:
    """The case's invitation record; `expected` is what the writer read (None: nothing), so two
    racing writers cannot both win."""
    if expected is None:
        return put_action(_invitation_values(invitation), "attribute_not_exists(pk)")
    return put_action(
        _invitation_values(invitation),
        "invitationId = :id AND #s = :status",
        {"#s": "status"},
        {":id": {"S": expected.invitation_id}, ":status": {"S": expected.status.value}},
    )


def request_put(invitation: Invitation) -> dict[str, Any]:
    return put_action(_request_values(invitation), "attribute_not_exists(pk)")


def request_delete(invitation: Invitation) -> dict[str, Any]:
    return {"Delete": {"TableName": _table(), "Key": request_key(invitation.email, invitation.invitation_id)}}


def member_put(member: Member, case: Case) -> dict[str, Any]:
    return put_action(_member_values(member, case), "attribute_not_exists(pk)")


def member_delete(member: Member) -> dict[str, Any]:
    return {
        "Delete": {
            "TableName": _table(),
            "Key": member_key(member.case_id, member.user_id),
            "ConditionExpression": "attribute_exists(pk)",
        }
    }


ConditionFailed = dynamo.ConditionFailed


def transact(actions: list[dict[str, Any]]) -> None:
    dynamo.transact(actions)


def delete_action(pk: str, sk: str) -> dict[str, Any]:
    return {"Delete": {"TableName": _table(), "Key": dynamo.key(pk, sk)}}


# --- reads -------------------------------------------------------------------------------------


def _get(key: dict[str, Any]) -> dict[str, Any] | None:
    item = dynamo.dynamodb().get_item(TableName=_table(), Key=key, ConsistentRead=True).get("Item")
    return dynamo.from_item(item) if item else None


def get_member(case_id: str, user_id: str) -> Member | None:
    """The authorization read: consistent, on the base table."""
    values = _get(member_key(case_id, user_id))
    return stored.from_values(Member, values) if values else None


def get_invitation(case_id: str, email: str) -> Invitation | None:
    values = _get(invitation_key(case_id, email))
    return stored.from_values(Invitation, values) if values else None


def get_request(email: str, invitation_id: str) -> Invitation | None:
    values = _get(request_key(email, invitation_id))
    return stored.from_values(Invitation, values) if values else None


def _query_all(pk: str, prefix: str) -> list[dict[str, Any]]:
    response = dynamo.dynamodb().query(
        TableName=_table(),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": {"S": pk}, ":prefix": {"S": prefix}},
        ConsistentRead=True,
        Limit=MAX_TEAM_READ,
    )
    return [dynamo.from_item(item) for item in response.get("Items", [])]


def list_members(case_id: str) -> list[Member]:
    return [stored.from_values(Member, v) for v in _query_all(cases_dal.case_pk(case_id), MEMBER_PREFIX)]


def list_invitations(case_id: str) -> list[Invitation]:
    return [stored.from_values(Invitation, v) for v in _query_all(cases_dal.case_pk(case_id), INVITE_PREFIX)]


def list_requests(email: str, page: paging.PageRequest) -> tuple[list[Invitation], str | None]:
    partition = f"INVITEE#{email}"
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": REQUEST_PREFIX}},
        "ScanIndexForward": False,
        "ConsistentRead": True,
    }
    listing = paging.Listing("team-requests", paging.TABLE_KEY, pinned={"pk": partition})
    items, next_cursor = paging.query_page(query, listing, page)
    return [stored.from_values(Invitation, values) for values in items], next_cursor


# --- cases shared with me ----------------------------------------------------------------------


def list_shared_rows(
    user_id: str, archived: bool, sort: SortColumn, order: SortOrder, page: paging.PageRequest
) -> tuple[list[str], str | None]:
    """Case ids of one page of the caller's member items, from the (eventually consistent) index.
    The caller must re-check them with `confirm_shared` before showing anything."""
    index = CASE_SORT_INDEXES[sort.value]
    partition = shared_list(user_id, archived)
    query: dict[str, Any] = {
        "IndexName": index.name,
        "KeyConditionExpression": "#p = :p",
        "ExpressionAttributeNames": {"#p": index.partition_key},
        "ExpressionAttributeValues": {":p": {"S": partition}},
        "ScanIndexForward": order is SortOrder.ASC,
    }
    listing = paging.Listing(
        "shared-cases",
        paging.index_key(index),
        pinned={index.partition_key: partition},
        filters={"archived": str(archived).lower(), "sort": sort.value, "order": order.value},
    )
    items, next_cursor = paging.query_page(query, listing, page)
    return [str(values["caseId"]) for values in items], next_cursor


def confirm_shared(user_id: str, case_ids: list[str]) -> dict[str, tuple[Case, Member]]:
    """One consistent BatchGetItem of the cases and the caller's membership items: only cases
    whose membership still exists come back (an index that lags a removal shows nothing)."""
    if not case_ids:
        return {}
    keys = []
    for case_id in case_ids:
        keys.append(dynamo.key(cases_dal.case_pk(case_id), cases_dal.CASE_SK))
        keys.append(member_key(case_id, user_id))
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {_table(): {"Keys": keys, "ConsistentRead": True}}
    for _attempt in range(8):
        response = dynamo.dynamodb().batch_get_item(RequestItems=request)
        items.extend(response.get("Responses", {}).get(_table(), []))
        request = response.get("UnprocessedKeys") or {}
        if not request:
            break
    cases: dict[str, Case] = {}
    members: dict[str, Member] = {}
    for item in items:
        values = dynamo.from_item(item)
        if values.get("kind") == "case":
            case = cases_dal.case_from_values(values)
            cases[case.case_id] = case
        elif values.get("kind") == "member":
            member = stored.from_values(Member, values)
            members[member.case_id] = member
    return {cid: (cases[cid], members[cid]) for cid in case_ids if cid in cases and cid in members}


def refresh_shared_rows(case: Case) -> int:
    """Copies a case's current sort columns onto its members' items (the shared lists' order and
    archive filter). Conditional on the member item still existing (never resurrects a removed
    member) and on its copy being older than this case version (deliveries arrive unordered)."""
    updated = 0
    for member in list_members(case.case_id):
        columns = shared_row_columns(member.user_id, case)
        names = {f"#c{i}": name for i, name in enumerate(columns)}
        values = {f":c{i}": dynamo.to_attribute(value) for i, value in enumerate(columns.values())}
        assignments = ", ".join(f"#c{i} = :c{i}" for i in range(len(columns)))
        version_slot = list(columns).index("sharedVersion")
        try:
            dynamo.update(
                {
                    "TableName": _table(),
                    "Key": member_key(member.case_id, member.user_id),
                    "UpdateExpression": "SET " + assignments,
                    "ConditionExpression": (
                        f"attribute_exists(pk) AND (attribute_not_exists(#c{version_slot}) "
                        f"OR #c{version_slot} < :c{version_slot})"
                    ),
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            )
            updated += 1
        except dynamo.ConditionFailed:
            continue
    return updated


# --- network -----------------------------------------------------------------------------------


def _network_pk(owner_id: str) -> str:
    return f"NET#{owner_id}"


def contact_items(contact: Contact) -> list[dict[str, Any]]:
    """The three items of one contact: the contact itself, its name entry, its email entry."""
    base = stored.to_values(contact)
    pk = _network_pk(contact.owner_id)
    return [
        {"pk": pk, "sk": f"USER#{contact.user_id}", "kind": "contact", **base},
        {
            "pk": pk,
            "sk": f"NAME#{fold(contact.name)[:100]}#{contact.user_id}",
            "kind": "contact-name",
            **base,
        },
        {"pk": pk, "sk": f"EMAIL#{contact.email}#{contact.user_id}", "kind": "contact-email", **base},
    ]


def contact_puts(contact: Contact) -> list[dict[str, Any]]:
    return [put_action(values) for values in contact_items(contact)]


def get_contact(owner_id: str, user_id: str) -> Contact | None:
    values = _get(dynamo.key(_network_pk(owner_id), f"USER#{user_id}"))
    return stored.from_values(Contact, values) if values else None


def delete_contact(contact: Contact) -> None:
    transact([delete_action(v["pk"], v["sk"]) for v in contact_items(contact)])


def search_network(
    owner_id: str, by: str, prefix: str, page: paging.PageRequest
) -> tuple[list[Contact], str | None]:
    """by: "NAME" (prefix already folded), "EMAIL" (prefix normalized)."""
    partition = _network_pk(owner_id)
    key_prefix = f"{by}#{prefix}"
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": key_prefix}},
    }
    listing = paging.Listing(
        "network", paging.TABLE_KEY, pinned={"pk": partition}, filters={"search": key_prefix}
    )
    items, next_cursor = paging.query_page(query, listing, page)
    return [stored.from_values(Contact, values) for values in items], next_cursor
