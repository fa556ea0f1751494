"""--seed drives the public API; whatever goes wrong, it explains and never raises."""

from __future__ import annotations

import json

from local.runtime import LocalRuntime
from local.seed import DEMO_CASES, LAB_PROGRESS, seed_demo_clinic
from tests.local import fake_functions


def test_seeding_creates_cases_as_the_clinician_and_moves_them_as_the_lab(runtime: LocalRuntime) -> None:
    said: list[str] = []
    report = seed_demo_clinic(runtime.base_url, runtime.sign_in, say=said.append)
    assert report.problems == []
    assert len(report.created) == len(DEMO_CASES) >= 10
    assert report.moved == sum(len(statuses) for statuses in LAB_PROGRESS.values())
    assert said == [
        f"Seeded {len(DEMO_CASES)} demo cases for Dr. Ana Ortiz; the lab made 13 status change(s) "
        "and offers 3 planning block(s)."
    ]

    events = fake_functions.invocations("cases_api")
    creates = [e for e in events if e["routeKey"] == "POST /cases"]
    assert {e["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] for e in creates} == {
        "[clinicians]"
    }
    assert {json.loads(e["body"])["caseType"] for e in creates} >= {
        "crown",
        "bridge",
        "implant_guide",
        "aligners",
    }
    assert all(e["headers"].get("idempotency-key") for e in creates)
    moves = [e for e in events if e["routeKey"] == "PUT /cases/{caseId}/status"]
    assert {e["requestContext"]["authorizer"]["jwt"]["claims"]["custom:lab_id"] for e in moves} == {"lab-1"}
    first_case = [json.loads(e["body"]) for e in moves if e["pathParameters"]["caseId"] == report.created[0]]
    assert first_case == [
        {**step, "version": version} for version, step in enumerate(LAB_PROGRESS[0], start=1)
    ]
    blocks = [
        e for e in fake_functions.invocations("planning_api") if e["routeKey"] == "POST /lab/planning/blocks"
    ]
    assert len(blocks) == 3


def test_a_missing_cases_api_is_reported_clearly(runtime: LocalRuntime) -> None:
    fake_functions.fail_next("cases_api", 1)
    said: list[str] = []
    report = seed_demo_clinic(runtime.base_url, runtime.sign_in, say=said.append)
    assert report.created == []
    assert said == [
        'Seeding problem: POST /cases answered 500: {"message": "Internal Server Error"} '
        "(is functions/cases_api ready?); no demo data was created"
    ]


def test_an_unreachable_runtime_or_a_cancel_is_reported_not_raised(runtime: LocalRuntime) -> None:
    said: list[str] = []
    seed_demo_clinic("http://127.0.0.1:9", runtime.sign_in, say=said.append)
    assert len(said) == 1
    assert "could not reach http://127.0.0.1:9" in said[0]
    said.clear()
    seed_demo_clinic(runtime.base_url, runtime.sign_in, say=said.append, cancelled=lambda: True)
    assert said == ["Seeding problem: seeding interrupted"]
    assert fake_functions.invocations() == []
