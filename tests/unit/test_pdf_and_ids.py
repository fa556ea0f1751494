from __future__ import annotations

import re

from caseroom import ids, pdf


def test_pdf_is_well_formed_with_valid_xref() -> None:
    lines = [pdf.Line("Rx script", 18, bold=True)] + [pdf.Line(f"line {i} (paren) \\ é") for i in range(120)]
    document = pdf.render(lines, title="t")
    assert document.startswith(b"%PDF-1.4")
    # Three pages for 121 lines at 52 per page, and every xref offset points at its object
    assert b"/Count 3" in document
    xref_at = int(re.search(rb"startxref\n(\d+)", document).group(1))  # type: ignore[union-attr]
    entries = document[xref_at:].split(b"\n")[3:]
    offsets = [int(e[:10]) for e in entries if e.endswith(b" n ")]
    for number, offset in enumerate(offsets, start=1):
        assert document[offset:].startswith(b"%d 0 obj" % number)
    assert b"\\(paren\\)" in document


def test_case_ids_normalize_what_people_type() -> None:
    case_id = ids.new_case_id()
    assert ids.normalize_case_id(case_id.lower().replace("-", "")) == case_id
    assert ids.normalize_case_id("7KQ2-M9XD-4RTO") == "7KQ2-M9XD-4RT0"
    assert ids.normalize_case_id("short") is None
    assert ids.normalize_case_id("7KQ2-M9XD-4RTU") is None  # U is not in the alphabet
