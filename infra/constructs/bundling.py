"""Builds the layers on this machine (no Docker here or in CI).

pip's --platform/--python-version/--only-binary download the Lambda runtime's wheels
(manylinux, CPython 3.13, the function architecture) whatever the host Python is.

Both layers ship bytecode when a CPython of the runtime's version is on this machine: Lambda's
/opt is read-only, so without .pyc files every cold start compiles every module it imports
(pydantic, Powertools, CaseRoom) again. Hash-based .pyc files (`unchecked-hash`) do not depend
on file times, which a zip does not keep. Without that interpreter the layers ship sources only
and the synth says so; the host's own bytecode would be refused by 3.13 (another magic number).
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra.paths import REPO_ROOT

DEPENDENCIES_DIR = REPO_ROOT / "layers" / "dependencies"
REQUIREMENTS = DEPENDENCIES_DIR / "requirements.txt"
# The documents layer (fpdf2 and the fonts), attached only to functions that render PDFs.
DOCUMENTS_DIR = REPO_ROOT / "layers" / "documents"
DOCUMENTS_REQUIREMENTS = DOCUMENTS_DIR / "requirements.txt"
DOCUMENTS_FONTS = DOCUMENTS_DIR / "fonts"

LAMBDA_PYTHON_VERSION = "3.13"
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
PIP_PLATFORM = "manylinux2014_aarch64"  # must match ARCHITECTURE
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/tests", "**/.pytest_cache"]


@jsii.implements(ILocalBundling)
class PipInstallLocally:
    """pip install --target <out>/python, the layout Lambda puts on sys.path for layers."""

    def __init__(self, requirements: Path, copy_dirs: tuple[Path, ...] = ()) -> None:
        self._requirements = requirements
        self._copy_dirs = copy_dirs  # copied to the layer's root: /opt/<name> in Lambda

    # jsii passes the bundling options as one positional struct; they are not needed here.
    def try_bundle(self, output_dir: str, _options: Any = None, **_kwargs: Any) -> bool:
        command = [
            sys.executable, "-m", "pip", "install",
            "--requirement", str(self._requirements),
            "--target", str(Path(output_dir) / "python"),
            "--platform", PIP_PLATFORM,
            "--implementation", "cp",
            "--python-version", LAMBDA_PYTHON_VERSION,
            "--only-binary=:all:",
            # .pyc files compiled by the host interpreter are useless to the 3.13 runtime.
            "--no-compile",
            "--disable-pip-version-check",
            "--quiet",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            # Returning False would make CDK fall back to Docker, which fails far less clearly.
            raise RuntimeError(f"pip could not build the dependency layer:\n{result.stderr}")
        for folder in self._copy_dirs:
            shutil.copytree(folder, Path(output_dir) / folder.name, dirs_exist_ok=True)
        precompile_for_runtime(Path(output_dir))
        return True


@jsii.implements(ILocalBundling)
class CopyAndPrecompile:
    """The shared CaseRoom layer: its sources as they are, plus bytecode for the runtime."""

    def __init__(self, source: Path) -> None:
        self._source = source

    def try_bundle(self, output_dir: str, _options: Any = None, **_kwargs: Any) -> bool:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "tests", ".pytest_cache")
        shutil.copytree(self._source, output_dir, ignore=ignore, dirs_exist_ok=True)
        precompile_for_runtime(Path(output_dir))
        return True


@functools.cache
def runtime_interpreter() -> str | None:
    """A CPython of the Lambda runtime's version on this machine, if there is one that runs:
    $CASEROOM_RUNTIME_PYTHON, else python3.13 on PATH (a pyenv shim may exist and refuse)."""
    candidate = os.environ.get("CASEROOM_RUNTIME_PYTHON") or shutil.which(f"python{LAMBDA_PYTHON_VERSION}")
    if not candidate:
        return None
    probe = [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    try:
        answer = subprocess.run(probe, capture_output=True, text=True, check=False, timeout=30)  # noqa: S603
    except OSError:
        return None
    return candidate if answer.stdout.strip() == LAMBDA_PYTHON_VERSION else None


def precompile_for_runtime(directory: Path) -> bool:
    """Writes the runtime's .pyc files next to the sources; False when it cannot here."""
    interpreter = runtime_interpreter()
    if interpreter is None:
        print(
            f"note: no python{LAMBDA_PYTHON_VERSION} here (set CASEROOM_RUNTIME_PYTHON): this layer "
            "ships without bytecode, so Lambda compiles its modules on every cold start",
            file=sys.stderr,
        )
        return False
    command = [
        interpreter, "-m", "compileall", "-q", "-j", "0",
        "--invalidation-mode", "unchecked-hash", str(directory),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(f"compiling {directory} for the runtime failed:\n{result.stderr[-2000:]}")
    return True


def shared_layer_code(source: Path) -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(source),
        # The sources decide the asset: bytecode is derived from them.
        asset_hash_type=AssetHashType.SOURCE,
        exclude=ASSET_EXCLUDES,
        bundling=BundlingOptions(image=DockerImage.from_registry("none"), local=CopyAndPrecompile(source)),
    )


def dependencies_asset_hash() -> str:
    """Changes only when the pins or the target platform change, so cdk.out's copy is reused."""
    digest = hashlib.sha256()
    digest.update(REQUIREMENTS.read_bytes())
    digest.update(f"{PIP_PLATFORM}|{LAMBDA_PYTHON_VERSION}".encode())
    return digest.hexdigest()


def dependencies_layer_code() -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(DEPENDENCIES_DIR),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=dependencies_asset_hash(),
        bundling=BundlingOptions(
            # Never pulled: local bundling always succeeds or raises.
            image=DockerImage.from_registry("none"),
            local=PipInstallLocally(REQUIREMENTS),
        ),
    )


def documents_asset_hash() -> str:
    """The pins, the platform and every font file's bytes."""
    digest = hashlib.sha256()
    digest.update(DOCUMENTS_REQUIREMENTS.read_bytes())
    digest.update(f"{PIP_PLATFORM}|{LAMBDA_PYTHON_VERSION}".encode())
    for font in sorted(DOCUMENTS_FONTS.iterdir()):
        digest.update(font.name.encode())
        digest.update(hashlib.sha256(font.read_bytes()).digest())
    return digest.hexdigest()


def documents_layer_code() -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(DOCUMENTS_DIR),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=documents_asset_hash(),
        bundling=BundlingOptions(
            image=DockerImage.from_registry("none"),
            local=PipInstallLocally(DOCUMENTS_REQUIREMENTS, copy_dirs=(DOCUMENTS_FONTS,)),
        ),
    )
