"""The web app's hosting: a private bucket read only by CloudFront (OAC), HTTPS only, a strict
CSP and the other security headers on every response, and the app client signing in through
Cognito's hosted UI with the authorization code grant only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

pytestmark = pytest.mark.cdk


def _one(template: Template, resource_type: str) -> dict[str, Any]:
    resources = template.find_resources(resource_type)
    assert len(resources) == 1, resources.keys()
    return next(iter(resources.values()))["Properties"]


def test_the_distribution_reads_a_private_bucket_through_origin_access_control(template: Template) -> None:
    distribution = _one(template, "AWS::CloudFront::Distribution")["DistributionConfig"]
    # Then: HTTPS only (HTTP redirects), index.html at the root, an OAC on the S3 origin, no OAI
    assert distribution["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert distribution["DefaultRootObject"] == "index.html"
    (origin,) = distribution["Origins"]
    assert "OriginAccessControlId" in origin
    assert origin["S3OriginConfig"].get("OriginAccessIdentity", "") == ""
    assert distribution["Logging"]["Prefix"] == "cloudfront/"
    oac = _one(template, "AWS::CloudFront::OriginAccessControl")["OriginAccessControlConfig"]
    assert oac["SigningBehavior"] == "always" and oac["OriginAccessControlOriginType"] == "s3"
    # And the bucket it serves blocks every form of public access
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LoggingConfiguration": {"LogFilePrefix": "web-bucket/"},
        },
    )
    # and only the CloudFront service, for this distribution, may read it
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "s3:GetObject",
                                "Principal": {"Service": "cloudfront.amazonaws.com"},
                                "Condition": {"StringEquals": {"AWS:SourceArn": Match.any_value()}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_every_response_carries_a_strict_csp_and_security_headers(template: Template) -> None:
    config = _one(template, "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]
    security = config["SecurityHeadersConfig"]
    csp = json.dumps(security["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    # Then: scripts and styles from this origin only, no framing, no plugins, no base rewrite
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert "object-src 'none'" in csp and "base-uri 'none'" in csp
    assert "frame-src blob:" in csp  # PDF previews only: fetched, then framed as blob: URLs
    assert (
        "unsafe-inline" not in csp
        and "unsafe-eval" not in csp
        and "*" not in csp.replace("*.execute-api", "")
    )
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["ContentTypeOptions"]["Override"] is True
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"


def test_the_app_client_signs_in_with_the_authorization_code_grant_only(template: Template) -> None:
    client = _one(template, "AWS::Cognito::UserPoolClient")
    # Then: the hosted UI's code flow (PKCE, no implicit), a public client, back to the app's URL
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["GenerateSecret"] is False
    assert set(client["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    assert "CallbackURLs" in client and len(client["CallbackURLs"]) == 1
    template.resource_count_is("AWS::Cognito::UserPoolDomain", 1)
