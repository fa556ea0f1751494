"""An API change that breaks the web app fails its type check: the client's types are generated
from openapi.json, so removing a field the app reads makes `tsc --noEmit` fail."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from local.paths import REPO_ROOT

WEB = REPO_ROOT / "web"


def _typecheck(openapi: dict[str, object], work: Path) -> subprocess.CompletedProcess[str]:
    # A copy of the app next to a copy of the API document (the generator reads ../openapi.json)
    (work / "openapi.json").write_text(json.dumps(openapi))
    app = work / "web"
    generated = shutil.ignore_patterns("schema.d.ts", "*.gen.ts")
    shutil.copytree(WEB / "src", app / "src", ignore=generated)
    shutil.copytree(WEB / "scripts", app / "scripts")  # gen:api runs scripts/idempotent.mjs too
    for name in ("tsconfig.json", "vite.config.ts", "package.json"):
        shutil.copy(WEB / name, app / name)
    (app / "node_modules").symlink_to(WEB / "node_modules")
    return subprocess.run(
        ["npm", "run", "--silent", "typecheck"], cwd=app, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def openapi() -> dict[str, object]:
    if not (WEB / "node_modules" / ".bin" / "tsc").exists():
        pytest.fail("web/node_modules is missing: run `make setup`")
    document: dict[str, object] = json.loads((REPO_ROOT / "openapi.json").read_text())
    return document


def test_removing_a_field_the_app_reads_fails_the_type_check(
    openapi: dict[str, object], tmp_path: Path
) -> None:
    # Given the API stops returning a case summary's patientName (which the case list shows)
    schemas = openapi["components"]["schemas"]  # type: ignore[index]
    summary = schemas["CaseSummary"]
    del summary["properties"]["patientName"]
    summary["required"].remove("patientName")
    # When the app is type-checked against it
    result = _typecheck(openapi, tmp_path)
    # Then tsc fails, naming the field (the committed document passes: `make webcheck`)
    assert result.returncode != 0
    assert "patientName" in result.stdout + result.stderr
