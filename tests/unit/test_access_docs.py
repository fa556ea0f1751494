"""The README's access table is the policy's own table, not a copy that can drift."""

from __future__ import annotations

import re
from pathlib import Path

from caseroom import access

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_shows_the_access_table_as_the_code_has_it() -> None:
    text = README.read_text()
    found = re.search(r"<!-- access-table:[^>]*-->\n(.*?)\n<!-- /access-table -->", text, re.S)
    assert found, "the README lost its access table"
    assert found.group(1).strip() == access.rights_table()
