"""Who the users are: the Cognito user pool whose ID tokens the APIs accept."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.nag import acknowledge

USER_GROUPS: dict[str, str] = {
    "clinicians": "Dentists and their staff: create and manage their cases",
    "lab": "Dental lab technicians: work the cases of their lab (custom:lab_id)",
    "patients": "Patients: read-only access to their own cases",
}
LAB_ID_ATTRIBUTE = "lab_id"


class UserDirectory(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        plus = config.cognito_feature_plan == cognito.FeaturePlan.PLUS
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            # Accounts are invited by an administrator (a practice or a lab), never self-created.
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=config.mfa,
            # TOTP apps only: SMS needs an SNS role and is the weakest second factor.
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=config.cognito_feature_plan,
            standard_threat_protection_mode=(
                cognito.StandardThreatProtectionMode.FULL_FUNCTION if plus else None
            ),
            custom_attributes={
                # Mutable so an admin can move a technician to another lab; clients cannot write it.
                LAB_ID_ATTRIBUTE: cognito.StringAttribute(min_len=1, max_len=64, mutable=True),
            },
            deletion_protection=config.deletion_protection,
            removal_policy=config.removal_policy,
        )
        for group_name, description in USER_GROUPS.items():
            cognito.UserPoolGroup(
                self,
                f"{group_name.capitalize()}Group",
                user_pool=self.user_pool,
                group_name=group_name,
                description=description,
            )

        # The web and mobile apps: public clients (no secret) signing in with SRP.
        self.client = self.user_pool.add_client(
            "AppClient",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True),
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
            # Users may edit their names only: groups and lab_id decide what they can see.
            write_attributes=cognito.ClientAttributes().with_standard_attributes(
                fullname=True, given_name=True, family_name=True
            ),
        )

        if config.mfa != cognito.Mfa.REQUIRED:
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG2",
                f"{config.name} stage only: MFA is optional for test accounts; prod requires TOTP MFA.",
            )
        if not plus:
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG8",
                f"{config.name} stage only: the Plus tier (threat protection) is billed per user; "
                "prod uses Plus with threat protection enforced.",
            )

    @property
    def issuer(self) -> str:
        """https://cognito-idp.<region>.amazonaws.com/<pool id>, the `iss` of its tokens."""
        return self.user_pool.user_pool_provider_url

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"
