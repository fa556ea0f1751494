"""cdk-nag acknowledgements: one finding id, one construct, one specific reason.

cdk-nag 3.x reads CDK's own acknowledgements (Validations.of(...).acknowledge); an
acknowledgement covers the construct and its children, so each one is placed on the
narrowest construct that carries the finding, next to the code that creates it. Reasons
that recur across constructs live here so they read the same everywhere.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    Validations.of(construct).acknowledge(Acknowledgment(id=finding, reason=reason))


def acknowledge_all(construct: IConstruct, findings: dict[str, str]) -> None:
    for finding, reason in findings.items():
        acknowledge(construct, finding, reason)


# Reasons shared by several constructs.
LAMBDA_OUTSIDE_VPC = (
    "The function only calls AWS public service endpoints (DynamoDB, S3, SES, EventBridge, "
    "API Gateway) over TLS with IAM auth; it reaches no private network resource, and a VPC "
    "would add NAT/endpoint cost and cold-start latency without narrowing any data path."
)
LAMBDA_RUNTIME_PINNED = (
    "Pinned to python3.13: the dependency layer is built for CPython 3.13 wheels "
    "(pip --python-version 3.13) and the code is tested on it; bumped deliberately, with the layer."
)
QUEUE_IS_A_DLQ = (
    "This queue is itself a dead-letter queue (of {owner}); a DLQ of a DLQ would only move "
    "the same failed messages again. Its depth is alarmed instead."
)
NO_REPLICATION = (
    "Single-region deployment: versioning protects against overwrite/delete; cross-region "
    "replication is a disaster-recovery decision outside this stack."
)
