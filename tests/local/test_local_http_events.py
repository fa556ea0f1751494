"""API Gateway HTTP API semantics without a server: route matching, the v2 event, responses."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infra import manifest
from local.apigw_http import (
    HttpRequest,
    InvalidLambdaResponse,
    RouteTable,
    apigw_time,
    build_http_event,
    encode_request_body,
    flatten_claims,
    translate_lambda_response,
)
from local.apigw_websocket import WebSocketRoutes
from tests.local.support import key_structure

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"
NOW = datetime(2026, 3, 2, 14, 5, 9, 412000, tzinfo=UTC)


def route(method: str, path: str, function: str = "cases_api") -> manifest.HttpRoute:
    return manifest.HttpRoute(method, path, function)


class TestRouteMatching:
    def test_a_parameter_is_exactly_one_segment(self) -> None:
        table = RouteTable()
        match = table.match("GET", "/cases/7KQ2-M9XD-4RTA")
        assert match is not None
        assert match.route.route_key == "GET /cases/{caseId}"
        assert match.path_parameters == {"caseId": "7KQ2-M9XD-4RTA"}
        assert table.match("GET", "/cases/7KQ2/extra/segments") is None

    def test_nested_routes_and_methods(self) -> None:
        table = RouteTable()
        put = table.match("PUT", "/cases/ABC/status")
        assert put is not None
        assert put.route.route_key == "PUT /cases/{caseId}/status"
        assert table.match("DELETE", "/cases/ABC") is None  # path exists, method does not: 404 too

    @pytest.mark.parametrize("path", ["/nope", "/cases/", "/", "", "/cases/ABC/status/x", "//cases"])
    def test_unknown_paths_match_nothing(self, path: str) -> None:
        assert RouteTable().match("GET", path) is None

    def test_literal_segments_beat_parameters_and_methods_beat_any(self) -> None:
        table = RouteTable(
            [
                route("GET", "/cases/{caseId}"),
                route("GET", "/cases/archived"),
                route("ANY", "/cases/archived"),
                route("GET", "/files/{path+}"),
            ]
        )
        literal = table.match("GET", "/cases/archived")
        assert literal is not None
        assert literal.route == route("GET", "/cases/archived")
        any_method = table.match("POST", "/cases/archived")
        assert any_method is not None
        assert any_method.route.method == "ANY"
        greedy = table.match("GET", "/files/a/b%20c.stl")
        assert greedy is not None
        assert greedy.path_parameters == {"path": "a/b c.stl"}

    def test_path_parameters_are_percent_decoded(self) -> None:
        match = RouteTable().match("GET", "/cases/A%20B")
        assert match is not None
        assert match.path_parameters == {"caseId": "A B"}


class TestClaims:
    def test_values_become_strings_the_way_api_gateway_flattens_them(self) -> None:
        flat = flatten_claims(
            {
                "cognito:groups": ["clinicians", "admins"],
                "exp": 1772463309,
                "email_verified": True,
                "address": {"zip": "1000", "city": "Oslo"},
                "name": "Dr. Ana Ortiz",
            }
        )
        assert flat == {
            "cognito:groups": "[clinicians admins]",
            "exp": "1772463309",
            "email_verified": "true",
            "address": "map[city:Oslo zip:1000]",
            "name": "Dr. Ana Ortiz",
        }


def _event(request: HttpRequest, claims: dict[str, object] | None = None) -> dict[str, object]:
    match = RouteTable().match(request.method, request.raw_path)
    assert match is not None
    return build_http_event(request, match, request_id="JKJaXmPLvHcESHA=", now=NOW, claims=claims)


class TestHttpEvent:
    def test_shape_matches_the_samples(self) -> None:
        for sample_name, request in (
            (
                "http_api_v2_get_case.json",
                HttpRequest("GET", "/cases/7KQ2-M9XD-4RTA", headers=[("Host", "h")]),
            ),
            (
                "http_api_v2_create_case.json",
                HttpRequest("POST", "/cases", headers=[("content-type", "application/json")], body=b"{}"),
            ),
        ):
            sample = json.loads((SAMPLES / sample_name).read_text())
            claims = sample["requestContext"]["authorizer"]["jwt"]["claims"]
            built = _event(request, claims)
            assert key_structure(built, frozenset({"headers"})) == key_structure(
                sample, frozenset({"headers"})
            )

    def test_headers_cookies_and_query_parameters(self) -> None:
        event = _event(
            HttpRequest(
                "GET",
                "/cases",
                raw_query="sort=status&tag=a&tag=b&empty=",
                headers=[
                    ("Host", "127.0.0.1:8000"),
                    ("X-Multi", "one"),
                    ("x-multi", "two"),
                    ("Cookie", "session=abc; theme=dark"),
                    ("User-Agent", "pytest"),
                ],
            ),
            claims={"sub": "u1"},
        )
        assert event["rawQueryString"] == "sort=status&tag=a&tag=b&empty="
        assert event["queryStringParameters"] == {"sort": "status", "tag": "a,b", "empty": ""}
        headers = event["headers"]
        assert isinstance(headers, dict)
        assert headers["x-multi"] == "one,two"
        assert "cookie" not in headers
        assert event["cookies"] == ["session=abc", "theme=dark"]
        assert headers["x-forwarded-port"] == "8000"
        context = event["requestContext"]
        assert isinstance(context, dict)
        assert context["http"]["userAgent"] == "pytest"
        assert context["routeKey"] == "GET /cases"
        assert context["time"] == "02/Mar/2026:14:05:09 +0000"
        assert context["timeEpoch"] == 1772460309412
        assert context["authorizer"] == {"jwt": {"claims": {"sub": "u1"}, "scopes": None}}
        assert "pathParameters" not in event
        assert "body" not in event
        assert event["isBase64Encoded"] is False

    def test_public_routes_have_no_authorizer(self) -> None:
        event = _event(HttpRequest("GET", "/health"))
        context = event["requestContext"]
        assert isinstance(context, dict)
        assert "authorizer" not in context

    @pytest.mark.parametrize(
        ("content_type", "body", "expected_base64"),
        [
            ("application/json", b'{"a": 1}', False),
            ("application/json; charset=utf-8", '{"name": "Zoë"}'.encode(), False),
            ("text/plain", b"hello", False),
            ("text/plain", b"\xff\xfe", True),  # not UTF-8 despite the type
            ("application/octet-stream", b"hello", True),
            ("application/x-www-form-urlencoded", b"a=1", True),  # AWS base64-encodes forms too
            (None, b"hello", True),  # no Content-Type: binary
            ("image/png", b"\x89PNG\r\n", True),
        ],
    )
    def test_bodies_are_text_only_for_text_content_types(
        self, content_type: str | None, body: bytes, expected_base64: bool
    ) -> None:
        encoded, is_base64 = encode_request_body(body, content_type)
        assert is_base64 is expected_base64
        assert (base64.b64decode(encoded) if is_base64 else encoded.encode()) == body

    def test_time_format_is_english_whatever_the_locale(self) -> None:
        assert apigw_time(datetime(2026, 12, 1, 3, 4, 5, tzinfo=UTC)) == "01/Dec/2026:03:04:05 +0000"


class TestLambdaResponse:
    def test_structured_response(self) -> None:
        response = translate_lambda_response(
            {
                "statusCode": 201,
                "headers": {"Content-Type": "application/json", "X-Count": 3},
                "multiValueHeaders": {"X-Tag": ["a", "b"]},
                "cookies": ["a=1", "b=2; HttpOnly"],
                "body": '{"ok": true}',
            },
            "rid",
        )
        assert response.status == 201
        assert response.body == b'{"ok": true}'
        assert ("X-Count", "3") in response.headers
        assert [v for k, v in response.headers if k == "X-Tag"] == ["a", "b"]
        assert [v for k, v in response.headers if k == "set-cookie"] == ["a=1", "b=2; HttpOnly"]
        assert ("apigw-requestid", "rid") in response.headers

    @pytest.mark.parametrize("result", [{"plain": True}, [1, 2], "text", None])
    def test_anything_without_status_code_is_a_200_json_body(self, result: object) -> None:
        response = translate_lambda_response(result, "rid")
        assert response.status == 200
        assert ("content-type", "application/json") in response.headers
        assert json.loads(response.body) == result

    def test_base64_bodies_are_decoded(self) -> None:
        response = translate_lambda_response(
            {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True},
            "rid",
        )
        assert response.body == b"\x00\x01"

    @pytest.mark.parametrize("status", ["abc", 42, 600, None])
    def test_invalid_status_codes_are_lambda_errors(self, status: object) -> None:
        with pytest.raises(InvalidLambdaResponse):
            translate_lambda_response({"statusCode": status}, "rid")


class TestWebSocketRouteSelection:
    def test_action_selects_a_route_else_default(self) -> None:
        routes = WebSocketRoutes(
            [
                manifest.WebSocketRoute("$default", "realtime"),
                manifest.WebSocketRoute("sendMessage", "realtime"),
            ]
        )
        assert routes.select('{"action": "sendMessage"}') == "sendMessage"
        assert routes.select('{"action": "unknown"}') == "$default"
        assert routes.select('{"action": "$connect"}') == "$default"
        assert routes.select("not json") == "$default"
        assert routes.select("[1, 2]") == "$default"

    def test_without_default_an_unknown_action_has_no_route(self) -> None:
        routes = WebSocketRoutes([manifest.WebSocketRoute("sendMessage", "realtime")])
        assert routes.select('{"action": "other"}') is None
