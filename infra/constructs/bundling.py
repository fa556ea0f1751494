"""Builds the third-party dependency layer with pip on this machine (no Docker here or in CI).

pip's --platform/--python-version/--only-binary download the Lambda runtime's wheels
(manylinux, CPython 3.13, the function architecture) whatever the host Python is.
"""

from __future__ import annotations

import hashlib
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

LAMBDA_PYTHON_VERSION = "3.13"
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
PIP_PLATFORM = "manylinux2014_aarch64"  # must match ARCHITECTURE


@jsii.implements(ILocalBundling)
class PipInstallLocally:
    """pip install --target <out>/python, the layout Lambda puts on sys.path for layers."""

    def __init__(self, requirements: Path) -> None:
        self._requirements = requirements

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
        return True


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
