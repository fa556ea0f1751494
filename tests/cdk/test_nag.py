"""cdk-nag AwsSolutions + HIPAA Security over both stages: no unacknowledged finding.

A fresh app (not the session template): with findings, synth raises ValidationFailed and
the report lists every construct path, rule id and the id to acknowledge it with.
"""

from __future__ import annotations

import pytest
from aws_cdk import App

from infra.app import add_compliance_checks, add_stage
from infra.config import STAGES
from tests.cdk.conftest import synth_context

pytestmark = pytest.mark.cdk


def test_no_unacknowledged_nag_findings_in_any_stage() -> None:
    context = synth_context("dev")
    del context["stage"]
    app = App(context=context)
    for config in STAGES.values():
        add_stage(app, config)
    add_compliance_checks(app)
    try:
        app.synth()
    except RuntimeError as error:  # jsii surfaces ValidationFailed as a RuntimeError
        pytest.fail(f"cdk-nag findings:\n{error}")
