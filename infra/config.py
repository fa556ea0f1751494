"""Per-stage settings. dev and prod build the same stack; only these values differ."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_logs as logs


@dataclass(frozen=True)
class StageConfig:
    name: str
    # HIPAA documentation must be kept six years; dev logs only serve debugging.
    log_retention: logs.RetentionDays
    # S3 server access logs of the files bucket (who fetched which object), same horizon.
    access_logs_expiration: Duration
    # RETAIN keeps PHI (table, files, keys, logs) when a stack is deleted by mistake.
    removal_policy: RemovalPolicy
    deletion_protection: bool
    # A deleted KMS key makes everything it encrypted unreadable: wait before it is gone.
    key_deletion_window: Duration
    # X-Ray segments emitted by Lambda itself (no SDK import, so no cold-start cost).
    tracing: bool
    # Caps each function: a runaway loop cannot starve the account (HIPAA.Security-LambdaConcurrency).
    reserved_concurrency: int
    http_throttle_rate: int
    http_throttle_burst: int
    # Alarm when a function reports at least this many errors in five minutes.
    function_errors_threshold: int
    # Alarm when the HTTP API returns at least this many 5xx in five minutes.
    http_5xx_threshold: int
    cors_allowed_origins: tuple[str, ...]
    email_sender: str
    mfa: cognito.Mfa
    # PLUS adds Cognito threat protection (compromised credentials, adaptive auth).
    cognito_feature_plan: cognito.FeaturePlan
    event_archive_retention: Duration
    # The web app's origin: printed documents (the Rx script's QR code) and emails link into it.
    app_url: str
    # Webhook targets on 127.0.0.1/localhost are refused unless a stage opts in (local runtime only).
    allow_loopback_webhooks: bool = False

    @property
    def email_domain(self) -> str:
        """The SES identity that is verified: the sender's domain."""
        return self.email_sender.rsplit("@", 1)[1]


DEV = StageConfig(
    name="dev",
    log_retention=logs.RetentionDays.ONE_MONTH,
    access_logs_expiration=Duration.days(30),
    removal_policy=RemovalPolicy.DESTROY,
    deletion_protection=False,
    key_deletion_window=Duration.days(7),
    tracing=False,
    reserved_concurrency=5,
    http_throttle_rate=20,
    http_throttle_burst=40,
    function_errors_threshold=5,
    http_5xx_threshold=10,
    cors_allowed_origins=("http://localhost:5173", "https://dev.caseroom.example"),
    email_sender="no-reply@dev.caseroom.example",
    app_url="https://dev.caseroom.example",
    mfa=cognito.Mfa.OPTIONAL,
    cognito_feature_plan=cognito.FeaturePlan.ESSENTIALS,
    event_archive_retention=Duration.days(7),
)

PROD = StageConfig(
    name="prod",
    log_retention=logs.RetentionDays.SIX_YEARS,
    access_logs_expiration=Duration.days(2192),
    removal_policy=RemovalPolicy.RETAIN,
    deletion_protection=True,
    key_deletion_window=Duration.days(30),
    tracing=True,
    reserved_concurrency=100,
    http_throttle_rate=200,
    http_throttle_burst=400,
    function_errors_threshold=1,
    http_5xx_threshold=5,
    cors_allowed_origins=("https://app.caseroom.example",),
    email_sender="no-reply@caseroom.example",
    app_url="https://app.caseroom.example",
    mfa=cognito.Mfa.REQUIRED,
    cognito_feature_plan=cognito.FeaturePlan.PLUS,
    event_archive_retention=Duration.days(365),
)

STAGES: dict[str, StageConfig] = {stage.name: stage for stage in (DEV, PROD)}


def stage_config(name: str) -> StageConfig:
    try:
        return STAGES[name]
    except KeyError:
        raise ValueError(f"unknown stage {name!r}; expected one of {sorted(STAGES)}") from None
