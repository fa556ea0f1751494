"""The web app offers the lab only the status moves the backend allows: its table
(web/src/features/lab/transitions.json) is the state machine's, checked here."""

from __future__ import annotations

import json

from caseroom.cases.statuses import CaseStatus
from caseroom.cases.transitions import Mover, Via, allowed_targets
from local.paths import REPO_ROOT

WEB_TABLE = REPO_ROOT / "web" / "src" / "features" / "lab" / "transitions.json"


def test_web_lab_moves_equal_the_status_api_transitions() -> None:
    # Given the web app's table and the backend's state machine
    table = json.loads(WEB_TABLE.read_text(encoding="utf-8"))
    expected = {s.value: [t.value for t in allowed_targets(s, Mover.LAB, Via.STATUS_API)] for s in CaseStatus}
    # Then they list the same moves for every status, in lifecycle order
    assert table == expected
