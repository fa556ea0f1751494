"""The dependency layer's local bundling (pip for the Lambda platform), without running pip."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.constructs import bundling

pytestmark = pytest.mark.cdk


def test_pip_targets_the_lambda_runtime_and_architecture(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[list[str]] = []

    def fake_run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(bundling.subprocess, "run", fake_run)
    assert bundling.PipInstallLocally(bundling.REQUIREMENTS).try_bundle(str(tmp_path)) is True

    [command] = [c for c in calls if c[1:4] == ["-m", "pip", "install"]]
    option = {flag: command[i + 1] for i, flag in enumerate(command[:-1]) if flag.startswith("--")}
    assert command[1:4] == ["-m", "pip", "install"]
    assert option["--target"] == str(tmp_path / "python")  # where Lambda looks for layer packages
    assert option["--python-version"] == bundling.RUNTIME.name.removeprefix("python")
    arch = {"arm64": "aarch64", "x86_64": "x86_64"}[bundling.ARCHITECTURE.name]
    assert option["--platform"] == f"manylinux2014_{arch}"
    assert "--only-binary=:all:" in command


def test_pip_failure_stops_the_synth(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(
        bundling.subprocess,
        "run",
        lambda command, **_: subprocess.CompletedProcess(command, 1, "", "no wheel"),
    )
    with pytest.raises(RuntimeError, match="no wheel"):
        bundling.PipInstallLocally(bundling.REQUIREMENTS).try_bundle(str(tmp_path))


def test_layer_pins_powertools_and_pydantic_and_leaves_boto3_to_the_runtime() -> None:
    pins = {line.split("==")[0].split("[")[0].lower() for line in bundling.REQUIREMENTS.read_text().split()}
    assert {"aws-lambda-powertools", "pydantic"} <= pins
    assert pins.isdisjoint({"boto3", "botocore"})


def test_layers_ship_bytecode_the_runtime_can_load(tmp_path: Path) -> None:
    if bundling.runtime_interpreter() is None:
        pytest.skip(f"no python{bundling.LAMBDA_PYTHON_VERSION} on this machine: layers ship sources only")
    source = tmp_path / "layer"
    (source / "python" / "pkg").mkdir(parents=True)
    (source / "python" / "pkg" / "__init__.py").write_text("VALUE = 42\n")
    (source / "python" / "pkg" / "__pycache__").mkdir()
    (source / "python" / "pkg" / "__pycache__" / "stale.cpython-311.pyc").write_bytes(b"host bytecode")
    out = tmp_path / "out"
    assert bundling.CopyAndPrecompile(source).try_bundle(str(out)) is True
    [compiled] = (out / "python" / "pkg" / "__pycache__").iterdir()  # the host's .pyc is not copied
    tag = "cpython-" + bundling.LAMBDA_PYTHON_VERSION.replace(".", "")
    assert compiled.name == f"__init__.{tag}.pyc"
    flags = int.from_bytes(compiled.read_bytes()[4:8], "little")
    assert flags == 0b01  # hash-based, unchecked: valid in a zip without file times
    loaded = subprocess.run(
        [str(bundling.runtime_interpreter()), "-c", "import pkg, sys; print(pkg.VALUE, pkg.__cached__)"],
        cwd=out / "python",
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert loaded.stdout.split()[0] == "42"
