"""The runtime's small pure parts: Pipe templates and patterns, tokens, OpenAPI down-conversion,
lazy handler resolution."""

from __future__ import annotations

from datetime import UTC, datetime

import jwt
import pytest

from caseroom.auth import JwtVerifier, principal_from_claims
from caseroom.clock import FixedClock
from caseroom.errors import Unauthenticated
from infra import manifest
from local.event_patterns import matches, render_template, value_at
from local.functions import FunctionRegistry
from local.openapi_compat import to_openapi_30
from local.tokens import AUDIENCE, SEEDED_USERS, DevIdentityProvider, UnknownUser

OUTBOX_RECORD = {
    "eventName": "INSERT",
    "dynamodb": {
        "NewImage": {
            "kind": {"S": "outbox"},
            "eventId": {"S": "e1"},
            "eventType": {"S": "CaseCreated"},
            "eventVersion": {"S": "1"},
            "eventTime": {"S": "2026-03-02T14:05:09.512Z"},
            "caseId": {"S": "7KQ2-M9XD-4RTA"},
            "actor": {"S": 'Dr. "Quotes" \\ Backslash'},
            "correlationId": {"S": "c1"},
            "subjectId": {"S": ""},
        }
    },
}


class TestPipeSemantics:
    def test_value_at_follows_dotted_paths(self) -> None:
        assert value_at("$.dynamodb.NewImage.caseId.S", OUTBOX_RECORD) == "7KQ2-M9XD-4RTA"
        assert value_at("$.dynamodb.Missing.S", OUTBOX_RECORD) is None
        assert value_at("$", {"a": 1}) == {"a": 1}
        with pytest.raises(ValueError, match="dotted"):
            value_at("dynamodb.NewImage", OUTBOX_RECORD)

    def test_the_manifest_template_renders_valid_json(self) -> None:
        import json

        detail = json.loads(render_template(manifest.OUTBOX_RELAY.detail_template, OUTBOX_RECORD))
        assert detail == {
            "id": "e1",
            "type": "CaseCreated",
            "version": "1",
            "time": "2026-03-02T14:05:09.512Z",
            "caseId": "7KQ2-M9XD-4RTA",
            "actor": 'Dr. "Quotes" \\ Backslash',
            "correlationId": "c1",
            "subjectId": "",
        }

    def test_the_manifest_filter_keeps_only_inserted_outbox_items(self) -> None:
        stream_filter = manifest.OUTBOX_RELAY.stream_filter
        assert matches(stream_filter, OUTBOX_RECORD)
        assert not matches(stream_filter, {**OUTBOX_RECORD, "eventName": "MODIFY"})
        assert not matches(
            stream_filter, {"eventName": "INSERT", "dynamodb": {"NewImage": {"kind": {"S": "case"}}}}
        )
        assert not matches(stream_filter, {"eventName": "REMOVE", "dynamodb": {"OldImage": {}}})

    def test_pattern_operators(self) -> None:
        assert matches({"a": [{"prefix": "Case"}]}, {"a": "CaseCreated"})
        assert matches({"a": [{"exists": False}]}, {"b": 1})
        assert matches({"a": [{"anything-but": ["x"]}]}, {"a": "y"})
        assert matches({"tags": ["red"]}, {"tags": ["blue", "red"]})
        assert not matches({"a": ["x"]}, {})


class TestDevIdentityProvider:
    def test_tokens_look_like_cognito_id_tokens(self) -> None:
        clock = FixedClock(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))
        provider = DevIdentityProvider("http://127.0.0.1:1/_local", clock)
        token = provider.issue_id_token("lab")
        claims = JwtVerifier(provider.issuer, AUDIENCE, jwks=provider.jwks()).verify(
            token, now=clock.now().timestamp()
        )
        lab = SEEDED_USERS["lab"]
        assert claims["sub"] == lab.sub
        assert claims["iss"] == "http://127.0.0.1:1/_local"
        assert claims["aud"] == "caseroom-local"
        assert claims["token_use"] == "id"
        assert claims["cognito:groups"] == ["lab"]
        assert claims["custom:lab_id"] == "lab-1"
        assert claims["exp"] - claims["iat"] == 3600
        assert claims["iat"] == int(clock.now().timestamp())
        assert jwt.get_unverified_header(token)["kid"] == provider.key_id
        principal = principal_from_claims(claims)
        assert (principal.role, principal.lab_id, principal.name) == ("lab", "lab-1", "Lea Martin")

    def test_every_seeded_user_has_a_role_and_a_stable_id(self) -> None:
        provider = DevIdentityProvider("iss")
        verifier = JwtVerifier("iss", AUDIENCE, jwks=provider.jwks())
        roles = {}
        for key, user in SEEDED_USERS.items():
            claims = verifier.verify(provider.issue_id_token(key))
            assert claims["sub"] == user.sub
            roles[key] = principal_from_claims(claims).role
        assert roles == {
            "clinician": "clinician",
            "clinician2": "clinician",
            "lab": "lab",
            "lab2": "lab",
            "patient": "patient",
        }
        assert "custom:lab_id" not in verifier.verify(provider.issue_id_token("clinician"))

    def test_a_token_expires_after_an_hour(self) -> None:
        clock = FixedClock(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))
        provider = DevIdentityProvider("iss", clock)
        token = provider.issue_id_token("clinician")
        clock.advance(hours=1)
        with pytest.raises(Unauthenticated):
            JwtVerifier("iss", AUDIENCE, jwks=provider.jwks()).verify(token, now=clock.now().timestamp())

    def test_unknown_users_are_refused(self) -> None:
        with pytest.raises(UnknownUser):
            DevIdentityProvider("iss").issue_id_token("mallory")


class TestOpenApiForSwaggerUi:
    def test_31_constructs_become_30(self) -> None:
        document = {
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1", "summary": "s"},
            "components": {
                "schemas": {
                    "A": {
                        "properties": {
                            "note": {"anyOf": [{"type": "string", "maxLength": 5}, {"type": "null"}]},
                            "ref": {"anyOf": [{"$ref": "#/components/schemas/B"}, {"type": "null"}]},
                            "both": {"type": ["integer", "null"]},
                            "name": {"type": "string", "examples": ["Ana"]},
                            "fixed": {"const": "x"},
                            "positive": {"type": "number", "exclusiveMinimum": 0},
                            "defaulted": {"$ref": "#/components/schemas/C", "default": "FDI"},
                        }
                    }
                }
            },
        }
        converted = to_openapi_30(document)
        props = converted["components"]["schemas"]["A"]["properties"]
        assert converted["openapi"] == "3.0.3"
        assert "summary" not in converted["info"]
        assert props["note"] == {"type": "string", "maxLength": 5, "nullable": True}
        assert props["ref"] == {"allOf": [{"$ref": "#/components/schemas/B"}], "nullable": True}
        assert props["both"] == {"type": "integer", "nullable": True}
        assert props["name"] == {"type": "string", "example": "Ana"}
        assert props["fixed"] == {"enum": ["x"]}
        assert props["positive"] == {"type": "number", "minimum": 0, "exclusiveMinimum": True}
        assert props["defaulted"] == {"allOf": [{"$ref": "#/components/schemas/C"}], "default": "FDI"}
        assert document["openapi"] == "3.1.0"  # the input is not modified


class TestFunctionRegistry:
    def test_handlers_are_imported_lazily_and_a_missing_one_fails_alone(self) -> None:
        registry = FunctionRegistry(
            {"cases_api": "tests.local.module_that_does_not_exist", "realtime": "tests.local.fake_functions"}
        )
        with pytest.raises(ModuleNotFoundError):
            registry.invoke("cases_api", {})
        assert registry.invoke("realtime", {"detail-type": "X"}) == {"handled": "X"}

    def test_context_mirrors_the_manifest(self) -> None:
        registry = FunctionRegistry()
        context = registry.new_context("rx_script")
        assert context.function_name == "rx_script"
        assert context.memory_limit_in_mb == manifest.function("rx_script").memory_mb
        assert context.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:rx_script"
        assert context.log_group_name == "/aws/lambda/rx_script"
        assert 0 < context.get_remaining_time_in_millis() <= 30_000


class TestBackgroundLoopWakeUp:
    def test_a_wake_ends_the_idle_wait_and_work_wakes_the_next_loop(self) -> None:
        import threading

        from local.events_relay import BackgroundLoop

        steps = threading.Semaphore(0)
        downstream_woken = threading.Event()
        results = iter([0, 1, 0, 0, 0, 0, 0, 0])

        def step() -> int:
            steps.release()
            return next(results, 0)

        loop = BackgroundLoop("test", step, min_idle_s=60.0, max_idle_s=60.0)
        loop.after_work = downstream_woken.set
        loop.start()
        try:
            assert steps.acquire(timeout=5)  # the first step found nothing: a 60 s idle wait begins
            assert not downstream_woken.is_set()
            loop.wake()
            assert steps.acquire(timeout=5)  # woken long before 60 s; this step does work
            assert downstream_woken.wait(timeout=5)
        finally:
            loop.stop(timeout_s=5)
        assert not loop.running
