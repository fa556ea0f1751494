"""The HTTP side of the gateway, over real HTTP: authorizer, event translation, errors, dev tools."""

from __future__ import annotations

import json
import os
import sys
import types
from pathlib import Path

import pytest

from caseroom.auth import JwtVerifier
from infra import manifest
from local.runtime import LocalRuntime
from local.tokens import AUDIENCE, DevIdentityProvider
from tests.local import fake_functions
from tests.local.support import http, key_structure

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"


def echoed_event(body: bytes) -> dict[str, object]:
    event = json.loads(body)["event"]
    assert isinstance(event, dict)
    return event


class TestHttpApi:
    def test_an_authorized_request_reaches_the_function_as_api_gateway_would_send_it(
        self, runtime: LocalRuntime
    ) -> None:
        reply = http(
            runtime.base_url,
            "GET",
            "/cases/7KQ2-M9XD-4RTA",
            token=runtime.sign_in("clinician"),
            headers={"User-Agent": "pytest-agent", "Accept": "application/json"},
        )
        assert reply.status == 200
        assert reply.headers["x-fake"] == "yes"
        event = echoed_event(reply.body)
        sample = json.loads((SAMPLES / "http_api_v2_get_case.json").read_text())
        assert key_structure(event, frozenset({"headers"})) == key_structure(sample, frozenset({"headers"}))

        context = event["requestContext"]
        assert isinstance(context, dict)
        assert event["routeKey"] == "GET /cases/{caseId}"
        assert event["pathParameters"] == {"caseId": "7KQ2-M9XD-4RTA"}
        assert context["requestId"] == reply.headers["apigw-requestid"]
        assert context["http"]["userAgent"] == "pytest-agent"
        claims = context["authorizer"]["jwt"]["claims"]
        assert claims["cognito:groups"] == "[clinicians]"
        assert claims["email_verified"] == "true"
        assert all(isinstance(value, str) for value in claims.values())
        assert context["authorizer"]["jwt"]["scopes"] is None

    def test_the_function_gets_a_lambda_context(self, runtime: LocalRuntime) -> None:
        http(runtime.base_url, "GET", "/health")
        (context,) = fake_functions.contexts()
        assert context["function_name"] == "cases_api"
        assert context["function_version"] == "$LATEST"
        assert context["memory_limit_in_mb"] == manifest.function("cases_api").memory_mb
        assert context["invoked_function_arn"].endswith(":function:cases_api")
        assert 0 < context["remaining_ms"] <= manifest.function("cases_api").timeout_s * 1000

    def test_public_routes_need_no_token(self, runtime: LocalRuntime) -> None:
        reply = http(runtime.base_url, "GET", "/health")
        assert reply.status == 200
        assert "authorizer" not in echoed_event(reply.body)["requestContext"]  # type: ignore[operator]

    def test_json_bodies_arrive_as_text_binary_ones_base64(self, runtime: LocalRuntime) -> None:
        token = runtime.sign_in("clinician")
        text = http(
            runtime.base_url,
            "POST",
            "/cases",
            token=token,
            body=b'{"a": 1}',
            headers={"Content-Type": "application/json"},
        )
        assert text.status == 201
        assert echoed_event(text.body)["body"] == '{"a": 1}'
        binary = http(
            runtime.base_url,
            "POST",
            "/cases",
            token=token,
            body=b"\x00\xff",
            headers={"Content-Type": "application/octet-stream"},
        )
        event = echoed_event(binary.body)
        assert (event["body"], event["isBase64Encoded"]) == ("AP8=", True)

    def test_responses_are_translated(self, runtime: LocalRuntime) -> None:
        token = runtime.sign_in("clinician")
        plain = http(runtime.base_url, "GET", "/cases/PLAIN", token=token)
        assert (plain.status, plain.json(), plain.headers["content-type"]) == (
            200,
            {"plain": True},
            "application/json",
        )
        binary = http(runtime.base_url, "GET", "/cases/BINARY", token=token)
        assert binary.body == fake_functions.binary_png()
        assert binary.headers["content-type"] == "image/png"
        cookies = http(runtime.base_url, "GET", "/cases/COOKIES", token=token)
        assert cookies.status == 204
        assert cookies.header_values("set-cookie") == ["a=1; Path=/", "b=2; HttpOnly"]

    def test_a_crashing_handler_is_a_500_like_api_gateway(self, runtime: LocalRuntime) -> None:
        reply = http(runtime.base_url, "GET", "/cases/BOOM", token=runtime.sign_in("clinician"))
        assert (reply.status, reply.json()) == (500, {"message": "Internal Server Error"})

    @pytest.mark.parametrize(
        ("method", "path"), [("GET", "/nope"), ("DELETE", "/cases/X"), ("GET", "/cases/")]
    )
    def test_unmatched_routes_are_404(self, runtime: LocalRuntime, method: str, path: str) -> None:
        reply = http(runtime.base_url, method, path, token=runtime.sign_in("clinician"))
        assert (reply.status, reply.json()) == (404, {"message": "Not Found"})
        assert fake_functions.invocations() == []

    def test_bodies_over_10_mb_are_413(self, runtime: LocalRuntime) -> None:
        reply = http(
            runtime.base_url,
            "POST",
            "/cases",
            token=runtime.sign_in("clinician"),
            body=b"x" * (10 * 1024 * 1024 + 1),
            headers={"Content-Type": "application/json"},
        )
        assert (reply.status, reply.json()) == (413, {"message": "Request Entity Too Large"})
        assert fake_functions.invocations() == []


class TestJwtAuthorizer:
    @staticmethod
    def assert_refused(runtime: LocalRuntime, authorization: str | None) -> None:
        headers = {"Authorization": authorization} if authorization is not None else {}
        reply = http(runtime.base_url, "GET", "/me", headers=headers)
        assert (reply.status, reply.json()) == (401, {"message": "Unauthorized"})
        assert fake_functions.invocations() == []

    def test_missing_token(self, runtime: LocalRuntime) -> None:
        self.assert_refused(runtime, None)
        self.assert_refused(runtime, "")
        self.assert_refused(runtime, "Bearer ")

    def test_expired_token(self, runtime: LocalRuntime) -> None:
        self.assert_refused(runtime, "Bearer " + runtime.identity.issue_id_token("clinician", lifetime_s=-1))

    def test_wrong_audience_or_issuer(self, runtime: LocalRuntime) -> None:
        wrong_audience = runtime.identity.issue_id_token("clinician", claim_overrides={"aud": "another-app"})
        self.assert_refused(runtime, f"Bearer {wrong_audience}")
        wrong_issuer = runtime.identity.issue_id_token(
            "clinician", claim_overrides={"iss": "https://evil.example"}
        )
        self.assert_refused(runtime, f"Bearer {wrong_issuer}")

    def test_bad_signature(self, runtime: LocalRuntime) -> None:
        other_key = DevIdentityProvider(runtime.identity.issuer).issue_id_token("clinician")
        self.assert_refused(runtime, f"Bearer {other_key}")
        header, payload, signature = runtime.sign_in("clinician").split(".")
        tampered_signature = signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")
        self.assert_refused(runtime, f"Bearer {header}.{payload}.{tampered_signature}")
        self.assert_refused(runtime, "Bearer not-a-jwt")

    def test_a_valid_token_without_the_bearer_prefix_is_accepted(self, runtime: LocalRuntime) -> None:
        # API Gateway's JWT authorizer strips an optional "Bearer " itself.
        reply = http(runtime.base_url, "GET", "/me", headers={"Authorization": runtime.sign_in("patient")})
        assert reply.status == 200


class TestDevTools:
    def test_users_and_sign_in(self, runtime: LocalRuntime) -> None:
        users = http(runtime.base_url, "GET", "/_local/users").json()["users"]
        assert [u["user"] for u in users] == ["clinician", "clinician2", "lab", "lab2", "patient"]
        reply = http(runtime.base_url, "POST", "/_local/sign-in", body=b'{"user": "lab"}')
        signed_in = reply.json()
        assert signed_in["user"]["labId"] == "lab-1"
        assert signed_in["expiresIn"] == 3600
        jwks = http(runtime.base_url, "GET", "/_local/jwks.json").json()
        assert http(runtime.base_url, "GET", "/.well-known/jwks.json").json() == jwks
        claims = JwtVerifier(f"{runtime.base_url}/_local", AUDIENCE, jwks=jwks).verify(signed_in["idToken"])
        assert claims["email"] == "lea.martin@lab.example.com"

    def test_sign_in_mistakes_are_explained(self, runtime: LocalRuntime) -> None:
        assert http(runtime.base_url, "POST", "/_local/sign-in", body=b'{"user": "mallory"}').status == 404
        assert http(runtime.base_url, "POST", "/_local/sign-in", body=b"nope").status == 400

    def test_handlers_see_the_local_configuration(self, runtime: LocalRuntime) -> None:
        for key in manifest.FUNCTION_ENVIRONMENT_KEYS:
            assert key in os.environ, key
        assert os.environ["CASEROOM_JWKS_URL"] == f"{runtime.base_url}/_local/jwks.json"
        assert os.environ["CASEROOM_AWS_ENDPOINT_URL"] == runtime.backend.endpoint_url
        assert os.environ["CASEROOM_STAGE"] == "local"

    def test_docs_are_served_offline(self, runtime: LocalRuntime) -> None:
        page = http(runtime.base_url, "GET", "/docs")
        assert page.status == 200
        assert page.headers["content-type"].startswith("text/html")
        assert b"/_local/swagger/swagger-ui-bundle.js" in page.body
        bundle = http(runtime.base_url, "GET", "/_local/swagger/swagger-ui-bundle.js")
        assert bundle.status == 200
        assert len(bundle.body) > 100_000

    def test_openapi_comes_from_caseroom_api_docs(
        self, runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        fake = types.ModuleType("caseroom.api_docs")
        document = {"openapi": "3.1.0", "info": {"title": "T", "version": "1"}, "paths": {}}
        fake.openapi_json = lambda: json.dumps(document)  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "caseroom.api_docs", fake)
        served = http(runtime.base_url, "GET", "/openapi.json").json()
        assert served["openapi"] == "3.1.0"
        assert served["servers"] == [{"url": runtime.base_url, "description": "Local runtime"}]
        assert http(runtime.base_url, "GET", "/_local/openapi-3.0.json").json()["openapi"] == "3.0.3"

    def test_openapi_failure_is_a_503(self, runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
        broken = types.ModuleType("caseroom.api_docs")

        def openapi_json() -> str:
            raise RuntimeError("router import failed")

        broken.openapi_json = openapi_json  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "caseroom.api_docs", broken)
        reply = http(runtime.base_url, "GET", "/openapi.json")
        assert reply.status == 503
        assert "router import failed" in reply.json()["message"]

    def test_mailbox_lists_what_ses_accepted_newest_first(self, runtime: LocalRuntime) -> None:
        ses = runtime.backend.client("ses")
        for subject in ("First", "<script>alert(1)</script> Second"):
            ses.send_email(
                Source=runtime.backend.names.email_from,
                Destination={"ToAddresses": ["ana.ortiz@clinic.example.com"]},
                Message={
                    "Subject": {"Data": subject},
                    "Body": {"Html": {"Data": "<p>Case <b>7KQ2</b> created</p>"}},
                },
            )
        runtime.backend.client("sesv2").send_email(
            FromEmailAddress=runtime.backend.names.email_from,
            Destination={"ToAddresses": ["lea.martin@lab.example.com"]},
            Content={"Simple": {"Subject": {"Data": "Third (v2)"}, "Body": {"Text": {"Data": "plain text"}}}},
        )
        messages = http(runtime.base_url, "GET", "/_local/mailbox.json").json()["messages"]
        assert [m["subject"] for m in messages[:3]] == [
            "Third (v2)",
            "<script>alert(1)</script> Second",
            "First",
        ]
        assert messages[1]["body"] == "Case 7KQ2 created"
        assert messages[0]["to"] == ["lea.martin@lab.example.com"]
        page = http(runtime.base_url, "GET", "/_local/mailbox")
        assert page.headers["content-type"].startswith("text/html")
        assert b"&lt;script&gt;alert(1)&lt;/script&gt; Second" in page.body
        assert b"<script>alert" not in page.body
