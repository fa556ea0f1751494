"""Stage configuration: dev and prod are the same stack with different values."""

from __future__ import annotations

import pytest
from aws_cdk import RemovalPolicy
from aws_cdk import aws_cognito as cognito

from infra.config import DEV, PROD, STAGES, stage_config

pytestmark = pytest.mark.cdk


def test_stages() -> None:
    assert set(STAGES) == {"dev", "prod"}
    assert stage_config("prod") is PROD
    with pytest.raises(ValueError, match="unknown stage"):
        stage_config("staging")


def test_prod_is_the_hardened_stage() -> None:
    assert PROD.removal_policy == RemovalPolicy.RETAIN
    assert PROD.deletion_protection and not DEV.deletion_protection
    assert PROD.mfa == cognito.Mfa.REQUIRED
    assert PROD.cognito_feature_plan == cognito.FeaturePlan.PLUS
    assert PROD.tracing
    assert all(origin.startswith("https://") for origin in PROD.cors_allowed_origins)


def test_no_stage_allows_loopback_webhooks() -> None:
    assert not any(config.allow_loopback_webhooks for config in STAGES.values())


def test_email_domain_is_the_ses_identity() -> None:
    assert DEV.email_domain == "dev.caseroom.example"
