"""CDK app entry point: `npx cdk synth -c stage=dev|prod` (cdk.json runs `python -m infra.app`).

Synthesis is offline and deterministic: no AWS account look-ups, no STS, no Docker, no git.
The stack is environment-agnostic; the account and region come from the deploy credentials.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Tags, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks

from infra.paths import SHARED_PACKAGE_ROOT

# The manifest imports the shared `caseroom` package, which lives in the Lambda layer's
# layout (layers/caseroom/python); `python -m infra.app` only has the repo root on sys.path.
if str(SHARED_PACKAGE_ROOT) not in sys.path:
    sys.path.append(str(SHARED_PACKAGE_ROOT))

from infra.config import StageConfig, stage_config
from infra.stack import CaseRoomStack

DEFAULT_STAGE = "dev"


def stack_id(stage: str) -> str:
    return f"CaseRoom-{stage}"


def add_stage(app: App, config: StageConfig) -> CaseRoomStack:
    stack = CaseRoomStack(
        app,
        stack_id(config.name),
        config=config,
        description=f"CaseRoom {config.name}: dental case collaboration backend",
    )
    Tags.of(stack).add("project", "caseroom")
    Tags.of(stack).add("stage", config.name)
    return stack


def add_compliance_checks(app: App) -> None:
    """cdk-nag AwsSolutions + HIPAA Security: any unacknowledged finding fails the synth.

    Acknowledgements sit next to the constructs they concern (infra/constructs/*), never here.
    """
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), HIPAASecurityChecks(app))


def build_app(context: Mapping[str, Any] | None = None, *, nag: bool = True) -> tuple[App, CaseRoomStack]:
    """The app of one stage (context "stage", default dev)."""
    app = App(context=dict(context or {}))
    stack = add_stage(app, stage_config(str(app.node.try_get_context("stage") or DEFAULT_STAGE)))
    if nag:
        add_compliance_checks(app)
    return app, stack


def main() -> None:
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
