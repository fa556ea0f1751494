"""The gateway's events against AWS's own documented examples (events/samples/aws), so the
emulator is never the reference for itself."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local import apigw_websocket as wsapi
from local.apigw_http import HttpRequest, RouteTable, build_http_event

AWS_SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples" / "aws"
NOW = datetime(2026, 3, 2, 14, 5, 9, tzinfo=UTC)

# Fields the documented 2.0 example shows that need a feature CaseRoom does not use.
HTTP_FEATURES_NOT_USED = {
    ("requestContext", "authentication"),  # mutual TLS
    ("requestContext", "authorizer", "lambda"),  # a Lambda authorizer (CaseRoom's is JWT)
    ("stageVariables",),
}
# Present only when the request has them.
HTTP_OPTIONAL = {("cookies",), ("queryStringParameters",), ("pathParameters",), ("body",)}


def paths(
    value: Any, prefix: tuple[str, ...] = (), open_maps: frozenset[str] = frozenset()
) -> dict[tuple[str, ...], str]:
    """Every key path of a JSON object with its JSON type; open maps (headers, claims) stop there."""
    found: dict[tuple[str, ...], str] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            path = (*prefix, key)
            found[path] = type(item).__name__
            if key not in open_maps:
                found.update(paths(item, path, open_maps))
    return found


def sample(name: str) -> dict[str, Any]:
    loaded = json.loads((AWS_SAMPLES / name).read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_the_http_event_has_the_documented_fields_with_the_documented_types() -> None:
    request = HttpRequest(
        "POST",
        "/cases/7KQ2-M9XD-4RTA/status",
        raw_query="a=1&a=2&b=3",
        headers=[("Host", "h"), ("content-type", "application/json"), ("Cookie", "c1=1; c2=2")],
        body=b"{}",
    )
    match = RouteTable().match("PUT", "/cases/7KQ2-M9XD-4RTA/status")
    assert match is not None
    built = build_http_event(
        request, match, request_id="id", now=NOW, claims={"sub": "s", "cognito:groups": ["clinicians"]}
    )
    open_maps = frozenset({"headers", "claims", "queryStringParameters", "pathParameters"})
    documented = paths(sample("http_api_v2_payload.json"), open_maps=open_maps)
    ours = paths(built, open_maps=open_maps)

    extra = {path for path in ours if path not in documented}
    assert extra == set(), f"fields AWS does not send: {extra}"
    expected = {
        path for path in documented if not any(path[: len(skip)] == skip for skip in HTTP_FEATURES_NOT_USED)
    }
    assert set(ours) == expected  # this request has a body, cookies, query and path parameters
    mismatched = {
        path: (ours[path], documented[path])
        for path in ours
        # A JWT authorizer without scopes (ID tokens carry none) sends null, not a list.
        if ours[path] != documented[path] and path != ("requestContext", "authorizer", "jwt", "scopes")
    }
    assert mismatched == {}
    assert built["requestContext"]["authorizer"]["jwt"]["scopes"] is None


def test_a_request_without_optional_parts_leaves_exactly_the_optional_fields_out() -> None:
    match = RouteTable().match("GET", "/me")
    assert match is not None
    built = build_http_event(
        HttpRequest("GET", "/me", headers=[("Host", "h")]), match, request_id="i", now=NOW, claims={}
    )
    documented = sample("http_api_v2_payload.json")
    always = set(documented) - {p[0] for p in HTTP_OPTIONAL | HTTP_FEATURES_NOT_USED if len(p) == 1}
    assert set(built) == always


def test_the_websocket_connect_event_matches_the_documented_request() -> None:
    documented = sample("websocket_connect_request.json")
    info = wsapi.ConnectionInfo(
        connection_id="L0SM9cOFvHcCIhw=",
        connected_at=NOW,
        domain_name="h",
        source_ip="127.0.0.1",
        user_agent="",
    )
    headers = [(k, v) for k, v in documented["headers"].items()]
    built = wsapi.connect_event(info, headers, "QueryString1=queryValue1", NOW)

    authorizer_only = {"type", "methodArn", "stageVariables"}  # the authorizer's input, not the integration's
    assert set(built) - {"isBase64Encoded"} == set(documented) - authorizer_only
    assert built["headers"] == documented["headers"]  # names kept as sent, not lowercased
    assert built["multiValueHeaders"] == documented["multiValueHeaders"]
    assert built["queryStringParameters"] == documented["queryStringParameters"]
    assert built["multiValueQueryStringParameters"] == documented["multiValueQueryStringParameters"]
    context, documented_context = built["requestContext"], documented["requestContext"]
    assert set(context) == set(documented_context)
    assert {k: type(v).__name__ for k, v in context.items()} == {
        k: type(v).__name__ for k, v in documented_context.items()
    }
    assert context["requestTime"] == "02/Mar/2026:14:05:09 +0000"  # the documented format


def test_message_and_disconnect_events_add_only_their_documented_context_variables() -> None:
    documented_context = set(sample("websocket_connect_request.json")["requestContext"])
    info = wsapi.ConnectionInfo("c", NOW, "h", "127.0.0.1", "")
    message = wsapi.message_event(info, "$default", "{}", NOW)
    disconnect = wsapi.disconnect_event(info, 1001, "", NOW)
    # $context.messageId; $context.disconnectStatusCode and $context.disconnectReason
    assert set(message["requestContext"]) - documented_context == {"messageId"}
    assert set(disconnect["requestContext"]) - documented_context == {
        "disconnectStatusCode",
        "disconnectReason",
    }
    assert (message["requestContext"]["eventType"], disconnect["requestContext"]["eventType"]) == (
        "MESSAGE",
        "DISCONNECT",
    )
