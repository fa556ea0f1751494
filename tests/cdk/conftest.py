"""Synthesizes the CDK app once per session (each synth costs seconds and ~1 GB).

Offline: the "aws:cdk:bundling-stacks" context is empty, so the dependency layer's pip
bundling is skipped (its source folder is staged as is); no Docker, no AWS credentials.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")

from aws_cdk.assertions import Template

from infra.app import build_app
from infra.config import StageConfig, stage_config
from infra.paths import REPO_ROOT


def synth_context(stage: str) -> dict[str, Any]:
    """cdk.json's context (feature flags) as the CLI would pass it, for one stage, no bundling."""
    context: dict[str, Any] = json.loads(Path(REPO_ROOT, "cdk.json").read_text())["context"]
    return {**context, "stage": stage, "aws:cdk:bundling-stacks": []}


def synthesize(stage: str) -> Template:
    _, stack = build_app(synth_context(stage), nag=False)
    return Template.from_stack(stack)


@pytest.fixture(scope="session")
def dev_config() -> StageConfig:
    return stage_config("dev")


@pytest.fixture(scope="session")
def template() -> Template:
    """The dev stack."""
    return synthesize("dev")


@pytest.fixture(scope="session")
def prod_template() -> Template:
    return synthesize("prod")
