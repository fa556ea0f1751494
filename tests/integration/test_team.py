"""Team-Up through the cases API's Lambda handler, against moto: invitations, membership,
removal taking effect at once, ownership hand-over, cases shared with me, the network."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from caseroom.auth import Principal
from caseroom.cases import routes as case_routes
from caseroom.cases.logic import CaseService
from caseroom.clock import FixedClock
from caseroom.team import dal as team_dal
from caseroom.team import routes as team_routes
from caseroom.team.logic import TeamService
from local.mailbox import sent_emails
from tests.conftest import (
    CLINICIAN,
    CLINICIAN_2,
    LAB_TECH,
    PATIENT,
    PENDING_COLLEAGUE,
    SURGEON,
    http_event,
    lambda_context,
)
from tests.integration.workflow_support import outbox_types

CROWN = {"patientName": "Maria Garcia", "rxDescription": "Crown", "teeth": ["11"], "caseType": "crown"}
INVITE = "/cases/{caseId}/team/invitations"
ACCEPT = "/me/team-requests/{invitationId}/accept"
DECLINE = "/me/team-requests/{invitationId}/decline"
MEMBER = "/cases/{caseId}/team/members/{userId}"

Call = Callable[..., tuple[int, dict[str, Any]]]


@pytest.fixture
def call(aws_backend: None, clock: FixedClock) -> Iterator[Call]:
    from functions.cases_api.handler import lambda_handler

    case_routes.use_service(CaseService(clock=clock))
    team_routes.use_service(TeamService(clock=clock))
    counter = iter(range(1_000_000))

    def invoke(
        method: str, route: str, path: str | None = None, who: Principal | None = CLINICIAN, **kwargs: Any
    ) -> tuple[int, dict[str, Any]]:
        event = http_event(method, route, path or route, who, request_id=f"req-{next(counter)}", **kwargs)
        response = lambda_handler(event, lambda_context())
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else {}

    yield invoke
    case_routes.use_service(None)
    team_routes.use_service(None)


def new_case(call: Call, who: Principal = CLINICIAN, **overrides: Any) -> str:
    status, body = call("POST", "/cases", who=who, body={**CROWN, **overrides})
    assert status == 201, body
    return str(body["caseId"])


def invite(
    call: Call, case_id: str, email: str, role: str = "surgeon", **extra: Any
) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"email": email, "professionalRole": role, **extra}
    return call("POST", INVITE, INVITE.format(caseId=case_id), body=body)


def join(call: Call, case_id: str, who: Principal, role: str = "surgeon") -> str:
    status, body = invite(call, case_id, who.email, role)
    assert status == 201, body
    status, accepted = call("POST", ACCEPT, ACCEPT.format(invitationId=body["invitationId"]), who=who)
    assert status == 200, accepted
    return str(body["invitationId"])


def get_case(call: Call, case_id: str, who: Principal) -> tuple[int, dict[str, Any]]:
    return call("GET", "/cases/{caseId}", f"/cases/{case_id}", who=who)


def test_invite_email_request_accept_then_the_member_sees_the_case(call: Call, clock: FixedClock) -> None:
    # Given a case of Ana's and a colleague who is not on it
    case_id = new_case(call)
    assert get_case(call, case_id, SURGEON)[0] == 404
    # When Ana invites them by email (mixed case, spaces)
    status, invitation = invite(call, case_id, "  Sam@Surgery.TEST ", "surgeon")
    # Then the invitation is Pending, addressed to the normalized address, and an email went out
    assert status == 201, invitation
    assert (invitation["status"], invitation["email"], invitation["emailSent"]) == (
        "pending",
        "sam@surgery.test",
        True,
    )
    mail = next(m for m in sent_emails() if m["to"] == ["sam@surgery.test"])
    assert f"/#/team-requests/{invitation['invitationId']}" in mail["body"]
    assert "Maria" not in mail["body"] and "Maria" not in mail["subject"]  # no patient data by email
    # ...a pending member still sees nothing of the case
    assert get_case(call, case_id, SURGEON)[0] == 404
    # ...and the invitation is among their Team-Up requests, without patient data
    status, requests = call("GET", "/me/team-requests", who=SURGEON)
    assert status == 200
    [request] = requests["items"]
    assert request["invitationId"] == invitation["invitationId"]
    assert request["invitedByName"] == CLINICIAN.name and "patientName" not in request
    # When they accept, a minute later (team entries sort by time inside a case version)
    clock.advance(minutes=1)
    status, member = call("POST", ACCEPT, ACCEPT.format(invitationId=invitation["invitationId"]), who=SURGEON)
    assert status == 200, member
    assert member["professionalRole"] == "surgeon"
    # Then they see the case, its timeline and its team, with their role; the request is gone
    assert get_case(call, case_id, SURGEON)[0] == 200
    status, team = call("GET", "/cases/{caseId}/team", f"/cases/{case_id}/team", who=SURGEON)
    assert status == 200
    assert [(m["userId"], m["professionalRole"]) for m in team["members"]] == [(SURGEON.user_id, "surgeon")]
    assert team["pending"] == []  # pending invitations are the owner's business
    assert call("GET", "/me/team-requests", who=SURGEON)[1]["items"] == []
    # ...but not what only the owner may do
    status, body = call("GET", "/cases/{caseId}/audit", f"/cases/{case_id}/audit", who=SURGEON)
    assert (status, body["code"]) == (403, "ROLE_NOT_ALLOWED")
    # And the changes are domain events, timeline entries and audit records
    assert {"CaseMemberInvited", "CaseMemberJoined"} <= set(outbox_types(case_id))  # one clock: unordered
    status, timeline = call("GET", "/cases/{caseId}/timeline", f"/cases/{case_id}/timeline", who=SURGEON)
    team_entries = [(e["teamChange"], e["memberRole"]) for e in timeline["items"] if e["kind"] == "team"]
    assert team_entries == [("invited", "surgeon"), ("joined", "surgeon")]
    audit = call("GET", "/cases/{caseId}/audit", f"/cases/{case_id}/audit")[1]["items"]
    assert {"team.invite", "team.request.respond"} <= {a["action"] for a in audit}


def test_removal_takes_effect_at_once_and_the_shared_list_never_shows_the_case_again(
    call: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an active member who lists the case among the cases shared with them
    case_id = new_case(call)
    join(call, case_id, SURGEON)
    status, shared = call("GET", "/shared/cases", who=SURGEON)
    assert status == 200 and [c["caseId"] for c in shared["items"]] == [case_id]
    assert shared["items"][0]["patientName"] == "Maria Garcia"
    # When the owner removes them
    status, body = call("DELETE", MEMBER, MEMBER.format(caseId=case_id, userId=SURGEON.user_id))
    assert status == 200, body
    # Then their next request is denied like a case that does not exist
    status, body = get_case(call, case_id, SURGEON)
    assert (status, body["code"]) == (404, "CASE_NOT_FOUND")
    # ...and even an index that has not caught up does not show them the case: the page is
    # re-checked with a consistent read of the membership
    monkeypatch.setattr(team_dal, "list_shared_rows", lambda *a, **k: ([case_id], None))
    assert call("GET", "/shared/cases", who=SURGEON)[1]["items"] == []
    monkeypatch.undo()
    assert call("GET", "/shared/cases", who=SURGEON)[1]["items"] == []
    assert "CaseMemberRemoved" in outbox_types(case_id)
    # ...and removing them again is a clear error
    status, body = call("DELETE", MEMBER, MEMBER.format(caseId=case_id, userId=SURGEON.user_id))
    assert (status, body["code"]) == (404, "MEMBER_NOT_FOUND")


def test_a_member_can_leave_and_be_invited_again(call: Call) -> None:
    case_id = new_case(call)
    join(call, case_id, SURGEON)
    status, body = call("POST", "/cases/{caseId}/team/leave", f"/cases/{case_id}/team/leave", who=SURGEON)
    assert status == 200, body
    assert get_case(call, case_id, SURGEON)[0] == 404
    assert "CaseMemberLeft" in outbox_types(case_id)
    join(call, case_id, SURGEON, role="prosthodontist")
    team = call("GET", "/cases/{caseId}/team", f"/cases/{case_id}/team")[1]
    assert [m["professionalRole"] for m in team["members"]] == ["prosthodontist"]


def test_the_owner_cancels_a_pending_invitation_and_the_invitee_can_no_longer_accept(call: Call) -> None:
    case_id = new_case(call)
    invitation = invite(call, case_id, PENDING_COLLEAGUE.email)[1]
    team = call("GET", "/cases/{caseId}/team", f"/cases/{case_id}/team")[1]
    assert [p["invitationId"] for p in team["pending"]] == [invitation["invitationId"]]
    route = "/cases/{caseId}/team/invitations/{invitationId}"
    status, body = call(
        "DELETE", route, route.format(caseId=case_id, invitationId=invitation["invitationId"])
    )
    assert status == 200, body
    assert call("GET", "/me/team-requests", who=PENDING_COLLEAGUE)[1]["items"] == []
    status, body = call(
        "POST", ACCEPT, ACCEPT.format(invitationId=invitation["invitationId"]), who=PENDING_COLLEAGUE
    )
    assert (status, body["code"]) == (404, "INVITATION_NOT_FOUND")
    assert get_case(call, case_id, PENDING_COLLEAGUE)[0] == 404
    assert "CaseInvitationCancelled" in outbox_types(case_id)


def test_a_declined_member_sees_nothing(call: Call) -> None:
    case_id = new_case(call)
    invitation = invite(call, case_id, PENDING_COLLEAGUE.email)[1]
    status, body = call(
        "POST", DECLINE, DECLINE.format(invitationId=invitation["invitationId"]), who=PENDING_COLLEAGUE
    )
    assert status == 200, body
    assert get_case(call, case_id, PENDING_COLLEAGUE)[0] == 404
    assert "CaseMemberDeclined" in outbox_types(case_id)
    team = call("GET", "/cases/{caseId}/team", f"/cases/{case_id}/team")[1]
    assert team["members"] == [] and team["pending"] == []


def test_bad_invitations_are_refused_with_clear_codes_and_store_nothing(call: Call) -> None:
    case_id = new_case(call)
    # inviting yourself
    assert invite(call, case_id, "ANA@clinic.test")[1]["code"] == "CANNOT_INVITE_SELF"
    # a malformed email: 422 that does not echo the value
    status, body = invite(call, case_id, "not an email <x>")
    assert status == 422 and "not an email" not in json.dumps(body)
    # an unknown role
    assert invite(call, case_id, SURGEON.email, "wizard")[0] == 422
    # neither or both of email / userId
    status, body = call("POST", INVITE, INVITE.format(caseId=case_id), body={"professionalRole": "surgeon"})
    assert (status, body["code"]) == (400, "INVITEE_MISSING")
    # an address already pending, then already a member
    assert invite(call, case_id, SURGEON.email)[0] == 201
    assert invite(call, case_id, SURGEON.email)[1]["code"] == "ALREADY_INVITED"
    invitation_id = call("GET", "/me/team-requests", who=SURGEON)[1]["items"][0]["invitationId"]
    # accepting an invitation addressed to someone else: not found, for them
    status, body = call("POST", ACCEPT, ACCEPT.format(invitationId=invitation_id), who=CLINICIAN_2)
    assert (status, body["code"]) == (404, "INVITATION_NOT_FOUND")
    # an account whose email is not verified finds nothing
    unverified = replace(SURGEON, email_verified=False)
    status, body = call("POST", ACCEPT, ACCEPT.format(invitationId=invitation_id), who=unverified)
    assert (status, body["code"]) == (403, "EMAIL_NOT_VERIFIED")
    # a patient account is never a team member
    assert call("GET", "/me/team-requests", who=PATIENT)[0] == 403
    # accepting twice
    assert call("POST", ACCEPT, ACCEPT.format(invitationId=invitation_id), who=SURGEON)[0] == 200
    status, body = call("POST", ACCEPT, ACCEPT.format(invitationId=invitation_id), who=SURGEON)
    assert (status, body["code"]) == (404, "INVITATION_NOT_FOUND")
    assert invite(call, case_id, SURGEON.email)[1]["code"] == "ALREADY_MEMBER"
    # only the owner invites: a member may not, the lab may not
    status, body = call(
        "POST",
        INVITE,
        INVITE.format(caseId=case_id),
        who=SURGEON,
        body={"email": "x@y.test", "professionalRole": "dentist"},
    )
    assert (status, body["code"]) == (403, "ROLE_NOT_ALLOWED")
    team = call("GET", "/cases/{caseId}/team", f"/cases/{case_id}/team")[1]
    assert [m["userId"] for m in team["members"]] == [SURGEON.user_id] and team["pending"] == []


def test_an_invitation_waits_for_an_account_created_later_with_that_address(call: Call) -> None:
    # Given an invitation to an address that has no account yet
    case_id = new_case(call)
    invitation = invite(call, case_id, "newcomer@clinic.test", "orthodontist")[1]
    # When someone signs up with that address (a brand-new user id) and verifies it
    newcomer = Principal(
        user_id="u-new-1",
        email="Newcomer@Clinic.test",
        name="Dr. New",
        role=SURGEON.role,
        email_verified=True,
    )
    # Then the invitation is theirs to accept
    [request] = call("GET", "/me/team-requests", who=newcomer)[1]["items"]
    assert request["invitationId"] == invitation["invitationId"]
    assert call("POST", ACCEPT, ACCEPT.format(invitationId=request["invitationId"]), who=newcomer)[0] == 200
    assert get_case(call, case_id, newcomer)[0] == 200


def test_ownership_is_handed_to_an_active_member_and_the_previous_owner_stays_on_the_team(call: Call) -> None:
    case_id = new_case(call)
    join(call, case_id, SURGEON)
    version = get_case(call, case_id, CLINICIAN)[1]["version"]
    route = "/cases/{caseId}/team/owner"
    # Not to someone who is not an active member
    status, body = call(
        "POST", route, route.format(caseId=case_id), body={"userId": CLINICIAN_2.user_id, "version": version}
    )
    assert (status, body["code"]) == (404, "MEMBER_NOT_FOUND")
    status, body = call(
        "POST", route, route.format(caseId=case_id), body={"userId": SURGEON.user_id, "version": version}
    )
    assert status == 200 and body["userId"] == SURGEON.user_id
    # The new owner lists it among their cases and reads its audit trail; the old owner is a member
    assert [c["caseId"] for c in call("GET", "/cases", who=SURGEON)[1]["items"]] == [case_id]
    assert call("GET", "/cases", who=CLINICIAN)[1]["items"] == []
    assert call("GET", "/cases/{caseId}/audit", f"/cases/{case_id}/audit", who=SURGEON)[0] == 200
    status, body = call("GET", "/cases/{caseId}/audit", f"/cases/{case_id}/audit", who=CLINICIAN)
    assert (status, body["code"]) == (403, "ROLE_NOT_ALLOWED")
    assert [c["caseId"] for c in call("GET", "/shared/cases", who=CLINICIAN)[1]["items"]] == [case_id]
    assert "CaseOwnershipTransferred" in outbox_types(case_id)
    # The previous owner no longer hands anything over; the new owner cannot hand it to a stranger
    status, body = call(
        "POST",
        route,
        route.format(caseId=case_id),
        who=SURGEON,
        body={"userId": "u-nobody", "version": version + 1},
    )
    assert (status, body["code"]) == (404, "MEMBER_NOT_FOUND")


def test_shared_cases_sort_filter_and_page_like_my_cases(call: Call) -> None:
    ids = [new_case(call, patientName=name) for name in ("Carla", "alba", "Bea")]
    for case_id in ids:
        join(call, case_id, SURGEON)
    other = new_case(call, who=CLINICIAN_2)  # not shared with them
    seen: list[str] = []
    cursor = None
    while True:
        query = {"sort": "patient", "limit": "2", **({"cursor": cursor} if cursor else {})}
        status, page = call("GET", "/shared/cases", who=SURGEON, query=query)
        assert status == 200, page
        seen.extend(c["patientName"] for c in page["items"])
        cursor = page.get("nextCursor")
        if not cursor:
            break
    assert seen == ["alba", "Bea", "Carla"]
    assert other not in [c["caseId"] for c in call("GET", "/shared/cases", who=SURGEON)[1]["items"]]
    # a cursor of another listing is refused
    status, body = call(
        "GET", "/shared/cases", who=CLINICIAN_2, query={"sort": "patient", "cursor": "x" * 20}
    )
    assert (status, body["code"]) == (400, "INVALID_CURSOR")


def test_after_a_first_team_up_both_are_in_each_others_network(call: Call) -> None:
    case_id = new_case(call)
    join(call, case_id, SURGEON)  # "Dr. Ștefan Sam"
    # search by name prefix, case- and accent-insensitive
    for query in ("dr. stef", "DR. ȘTEF", "dr"):
        status, page = call("GET", "/me/network", query={"q": query})
        assert status == 200, page
        assert [c["userId"] for c in page["items"]] == [SURGEON.user_id], query
    assert call("GET", "/me/network", query={"q": "zz"})[1]["items"] == []
    # by email prefix
    assert [c["userId"] for c in call("GET", "/me/network", query={"q": "sam@surg"})[1]["items"]] == [
        SURGEON.user_id
    ]
    # the member sees the owner
    assert [c["userId"] for c in call("GET", "/me/network", who=SURGEON)[1]["items"]] == [CLINICIAN.user_id]
    # the owner invites from the network by user id, on another case
    second = new_case(call)
    by_id = {"userId": SURGEON.user_id, "professionalRole": "surgeon"}
    status, body = call("POST", INVITE, INVITE.format(caseId=second), body=by_id)
    assert status == 201 and body["email"] == SURGEON.email
    # someone not in the network cannot be invited by id
    status, body = call(
        "POST",
        INVITE,
        INVITE.format(caseId=second),
        body={"userId": LAB_TECH.user_id, "professionalRole": "technician"},
    )
    assert (status, body["code"]) == (404, "CONTACT_NOT_FOUND")
    # removing someone from the network
    route = "/me/network/{userId}"
    assert call("DELETE", route, route.format(userId=SURGEON.user_id))[0] == 200
    assert call("GET", "/me/network")[1]["items"] == []
    assert call("DELETE", route, route.format(userId=SURGEON.user_id))[1]["code"] == "CONTACT_NOT_FOUND"


def test_the_shared_list_follows_the_case_when_its_owner_archives_it(call: Call) -> None:
    from functions.case_workflow.handler import lambda_handler as case_workflow
    from tests.integration.test_event_consumers import as_eventbridge, outbox_events

    # Given a case shared with a member, then archived by its owner
    case_id = new_case(call)
    join(call, case_id, SURGEON)
    version = get_case(call, case_id, CLINICIAN)[1]["version"]
    route = "/cases/{caseId}/archive"
    assert call("POST", route, route.format(caseId=case_id), body={"version": version})[0] == 200
    # Before the event is consumed the copy is stale: the re-check keeps it out of the active list
    assert call("GET", "/shared/cases", who=SURGEON)[1]["items"] == []
    # When the CaseArchived event reaches the workflow function (twice: at least once delivery)
    [archived] = [e for e in outbox_events(case_id) if e["eventType"] == "CaseArchived"]
    results = [case_workflow(as_eventbridge(archived), lambda_context("case_workflow")) for _ in range(2)]
    # the second delivery found the copy already current
    assert [r["sharedRows"] for r in results] == [1, 0]
    # Then the member finds it among their archived shared cases
    archived_list = call("GET", "/shared/cases", who=SURGEON, query={"archived": "true"})[1]["items"]
    assert [c["caseId"] for c in archived_list] == [case_id]


def test_an_invitation_stands_when_its_email_cannot_be_sent(
    call: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from caseroom.notifications import mailer

    class RefusingSes:
        def send_email(self, **_: Any) -> None:
            raise ClientError({"Error": {"Code": "MessageRejected", "Message": "no"}}, "SendEmail")

    case_id = new_case(call)
    # Given SES refuses the message
    real_client = mailer.aws.client
    monkeypatch.setattr(
        mailer.aws,
        "client",
        lambda service, **kw: RefusingSes() if service == "ses" else real_client(service, **kw),
    )
    # When Ana invites a colleague
    status, invitation = invite(call, case_id, "sam@surgery.test", "surgeon")
    # Then the invitation is made and says its email was not sent; the colleague still finds it
    assert status == 201, invitation
    assert (invitation["status"], invitation["emailSent"]) == ("pending", False)
    monkeypatch.undo()
    status, requests = call("GET", "/me/team-requests", who=SURGEON)
    assert [r["invitationId"] for r in requests["items"]] == [invitation["invitationId"]]
