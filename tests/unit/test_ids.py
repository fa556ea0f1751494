from __future__ import annotations

from caseroom import ids


def test_case_ids_normalize_what_people_type() -> None:
    case_id = ids.new_case_id()
    assert ids.normalize_case_id(case_id.lower().replace("-", "")) == case_id
    assert ids.normalize_case_id("7KQ2-M9XD-4RTO") == "7KQ2-M9XD-4RT0"
    assert ids.normalize_case_id("short") is None
    assert ids.normalize_case_id("7KQ2-M9XD-4RTU") is None  # U is not in the alphabet
