"""The web app in AWS: web/dist in a private S3 bucket behind CloudFront (origin access
control, HTTPS only, security headers with a strict Content-Security-Policy), and Cognito's
hosted UI for sign-in (authorization code grant; the app is a public client and uses PKCE).

Deploying the files: `aws s3 sync web/dist s3://<WebBucketName>` then a CloudFront
invalidation of `/index.html` (assets have content-hashed names and are cached for a year).
"""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.buckets import private_bucket
from infra.constructs.nag import acknowledge_all

OAUTH_SCOPES = ["openid", "email", "profile"]


def content_security_policy(files_bucket: s3.IBucket, hosted_ui: str) -> str:
    """Only this origin's scripts and styles; API calls to API Gateway, uploads/downloads to the
    files bucket, sign-in redirects to the hosted UI. API Gateway hosts are matched by the
    regional wildcard: naming the API here would make the distribution depend on the API,
    whose authorizer depends on the app client, whose callback URL is this distribution."""
    region = Aws.REGION
    api_hosts = f"https://*.execute-api.{region}.amazonaws.com wss://*.execute-api.{region}.amazonaws.com"
    files = f"https://{files_bucket.bucket_regional_domain_name}"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob: {files}",
            f"connect-src 'self' {api_hosts} {files} {hosted_ui}",
            # PDF previews: the app fetches the file and frames it as a blob: URL.
            "frame-src blob:",
            "worker-src 'self'",
            "manifest-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            f"form-action 'self' {hosted_ui}",
            "object-src 'none'",
            "upgrade-insecure-requests",
        ]
    )


class WebApp(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        user_pool: cognito.UserPool,
        app_client: cognito.UserPoolClient,
        files_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        self.logs = private_bucket(
            self,
            "Logs",
            config=config,
            # CloudFront standard logs are delivered with ACLs to an SSE-S3 bucket.
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-web-logs", expiration=config.access_logs_expiration),
                s3.LifecycleRule(
                    id="expire-noncurrent-web-logs", noncurrent_version_expiration=Duration.days(1)
                ),
            ],
            acknowledged={
                "AwsSolutions-S1": "This bucket is itself the log destination (CloudFront, S3 access logs).",
                "HIPAA.Security-S3BucketLoggingEnabled": "This bucket is itself the log destination.",
                "HIPAA.Security-S3DefaultEncryptionKMS": (
                    "CloudFront standard logs and S3 access logs can only be delivered to SSE-S3 buckets; "
                    "they hold request metadata, no patient data."
                ),
            },
        )
        # The app's files: static, public by nature, but only CloudFront may read them (OAC).
        self.bucket = private_bucket(
            self,
            "Bucket",
            config=config,
            encryption=s3.BucketEncryption.S3_MANAGED,
            server_access_logs_bucket=self.logs,
            server_access_logs_prefix="web-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-old-builds", noncurrent_version_expiration=Duration.days(30)),
            ],
            acknowledged={
                "HIPAA.Security-S3DefaultEncryptionKMS": (
                    "The bucket holds the built web app (HTML, JS, CSS, icons), no patient data; SSE-S3 "
                    "lets CloudFront's origin access control read it without a KMS key policy."
                ),
            },
        )

        # Cognito's hosted UI on a Cognito domain, for the authorization code grant with PKCE.
        self.domain = user_pool.add_domain(
            "HostedUi",
            cognito_domain=cognito.CognitoDomainOptions(
                domain_prefix=f"caseroom-{config.name}-{Aws.ACCOUNT_ID}"
            ),
        )
        hosted_ui = f"https://{self.domain.domain_name}.auth.{Aws.REGION}.amazoncognito.com"

        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="CaseRoom web app: strict CSP, HSTS, no framing, no sniffing, no referrer",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(files_bucket, hosted_ui), override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(730),
                    include_subdomains=True,
                    preload=True,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(
                        header="Permissions-Policy",
                        value="camera=(), microphone=(), geolocation=()",
                        override=True,
                    )
                ]
            ),
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"CaseRoom web app ({config.name})",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                compress=True,
            ),
            # Hash routes: every app URL is /, so no SPA rewrite of 403/404 to index.html is needed.
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=self.logs,
            log_file_prefix="cloudfront/",
        )
        acknowledge_all(
            self.distribution,
            {
                "AwsSolutions-CFR1": (
                    "Clinics and labs work across countries (the labs' zones span continents); no geo "
                    "restriction. The app shell is static; every API call is authenticated."
                ),
                "AwsSolutions-CFR2": (
                    "The distribution serves only static files; the APIs behind API Gateway carry their "
                    "own throttling. A WAF web ACL is a per-account cost decision, attached when deployed."
                ),
                "AwsSolutions-CFR4": (
                    "The default *.cloudfront.net certificate cannot pin TLS 1.2; the minimum protocol is "
                    "set to TLSv1.2_2021 and takes effect with the stage's custom domain certificate."
                ),
            },
        )
        self.url = f"https://{self.distribution.distribution_domain_name}"
        self.hosted_ui_url = hosted_ui

        # The app client signs in through the hosted UI: authorization code grant only (no
        # implicit flow), redirected back to this distribution. It has no secret; the app sends
        # a PKCE code challenge with every authorization request.
        cfn_client = app_client.node.default_child
        assert isinstance(cfn_client, cognito.CfnUserPoolClient)
        cfn_client.allowed_o_auth_flows_user_pool_client = True
        cfn_client.allowed_o_auth_flows = ["code"]
        cfn_client.allowed_o_auth_scopes = OAUTH_SCOPES
        cfn_client.supported_identity_providers = ["COGNITO"]
        cfn_client.callback_ur_ls = [f"{self.url}/"]
        cfn_client.logout_ur_ls = [f"{self.url}/"]
