"""cfn-lint on the synthesized dev template (W3005: CDK's own redundant DependsOn)."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template
from cfnlint.api import lint
from cfnlint.config import ManualArgs

pytestmark = pytest.mark.cdk


def test_template_passes_cfn_lint(template: Template) -> None:
    matches = lint(
        json.dumps(template.to_json()),
        config=ManualArgs(ignore_checks=["W3005"], regions=["us-east-1"]),
    )
    assert [str(match) for match in matches] == []
