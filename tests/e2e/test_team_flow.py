"""Team-Up through the running local runtime over real HTTP: an invitation email lands in the
runtime's SES mailbox with a link to the Team-Up request; the colleague accepts, sees the case,
finds it among the cases shared with them, and is denied on their very next request once the
owner removes them."""

from __future__ import annotations

import pytest

from tests.e2e.test_cases_flow import RX, Client, base_url, sign_in

pytestmark = pytest.mark.e2e
__all__ = ["base_url"]


def test_invite_accept_share_and_remove_through_the_runtime(base_url: str) -> None:
    owner, colleague = sign_in(base_url, "clinician"), sign_in(base_url, "clinician2")
    colleague_email = colleague.call("GET", "/me")[1]["email"]
    status, case = owner.call("POST", "/cases", {**RX, "caseType": "crown"})
    assert status == 201, case
    case_path = f"/cases/{case['caseId']}"
    # Given an invitation by email
    status, invitation = owner.call(
        "POST",
        f"{case_path}/team/invitations",
        {"email": colleague_email, "professionalRole": "prosthodontist"},
    )
    assert status == 201, invitation
    # Then the runtime's mailbox holds the email, with the link and without patient data
    mailbox = Client(base_url).call("GET", "/_local/mailbox.json")[1]["messages"]
    mail = next(m for m in mailbox if colleague_email in m["to"] and "case team" in m["subject"])
    assert f"/#/team-requests/{invitation['invitationId']}" in mail["body"]
    assert "Maria" not in mail["body"]
    # ...the pending colleague sees nothing of the case, only the request
    assert colleague.call("GET", case_path)[0] == 404
    [request] = colleague.call("GET", "/me/team-requests")[1]["items"]
    # When they accept
    status, member = colleague.call("POST", f"/me/team-requests/{request['invitationId']}/accept")
    assert status == 200, member
    # Then they see the case and its team, and find it among the cases shared with them
    assert colleague.call("GET", case_path)[0] == 200
    team = colleague.call("GET", f"{case_path}/team")[1]
    assert [m["professionalRole"] for m in team["members"]] == ["prosthodontist"]
    shared = colleague.call("GET", "/shared/cases")[1]["items"]
    assert case["caseId"] in [c["caseId"] for c in shared]
    # When the owner removes them, their next request is denied and the list forgets the case
    assert owner.call("DELETE", f"{case_path}/team/members/{member['userId']}")[0] == 200
    status, body = colleague.call("GET", case_path)
    assert (status, body["code"]) == (404, "CASE_NOT_FOUND")
    shared = colleague.call("GET", "/shared/cases")[1]["items"]
    assert case["caseId"] not in [c["caseId"] for c in shared]
