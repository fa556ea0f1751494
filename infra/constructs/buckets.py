"""One shape for every CaseRoom bucket: private, TLS 1.2+ only, versioned, and removed (or kept)
as the stage says. Callers add only what makes their bucket different (encryption, logging,
lifecycle, CORS), so a new bucket cannot forget a guard that cdk-nag would otherwise catch late."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.nag import NO_REPLICATION, acknowledge_all


def private_bucket(
    scope: Construct,
    construct_id: str,
    *,
    config: StageConfig,
    encryption: s3.BucketEncryption,
    acknowledged: dict[str, str] | None = None,
    object_ownership: s3.ObjectOwnership = s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    **settings: Any,
) -> s3.Bucket:
    """`acknowledged`: cdk-nag findings this bucket accepts, with why; no bucket is replicated
    (a single-region deployment; versioning and backups cover recovery)."""
    bucket = s3.Bucket(
        scope,
        construct_id,
        encryption=encryption,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=object_ownership,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        versioned=True,
        removal_policy=config.removal_policy,
        **settings,
    )
    not_replicated = {"HIPAA.Security-S3BucketReplicationEnabled": NO_REPLICATION}
    acknowledge_all(bucket, {**(acknowledged or {}), **not_replicated})
    return bucket
