"""Drift guards: what is declared once must agree everywhere it is consumed."""

from __future__ import annotations

import importlib
import json
import re
import tomllib
from pathlib import Path

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from caseroom import api_docs, event_catalog
from infra import manifest

ROOT = Path(__file__).resolve().parents[2]


def _registered_routes(app: APIGatewayHttpResolver) -> set[str]:
    keys = set()
    for route in app._static_routes + app._dynamic_routes:  # Powertools keeps them here
        path = re.sub(r"<(\w+)>", r"{\1}", route.path)
        keys.add(f"{route.method} {path}")
    return keys


def test_every_function_in_the_manifest_has_a_handler() -> None:
    for fn in manifest.FUNCTIONS:
        module = importlib.import_module(fn.module)
        assert callable(module.lambda_handler), fn.name
        assert (ROOT / fn.asset_dir / "handler.py").is_file()


def test_http_routes_match_the_routers_exactly() -> None:
    for fn in manifest.FUNCTIONS:
        module = importlib.import_module(fn.module)
        app = getattr(module, "app", None)
        declared = {r.route_key for r in manifest.routes_of(fn.name)}
        if app is None:
            assert not declared, f"{fn.name} has routes but no HTTP app"
            continue
        assert _registered_routes(app) == declared, fn.name


def test_rules_and_websocket_routes_point_at_declared_functions() -> None:
    names = {fn.name for fn in manifest.FUNCTIONS}
    assert {r.function for r in manifest.EVENT_RULES} <= names
    assert {r.function for r in manifest.WEBSOCKET_ROUTES} <= names
    assert {r.function for r in manifest.HTTP_ROUTES} <= names
    assert {"$connect", "$disconnect", "$default"} == {r.route_key for r in manifest.WEBSOCKET_ROUTES}


def test_committed_openapi_matches_the_code() -> None:
    committed = (ROOT / "openapi.json").read_text()
    assert committed == api_docs.openapi_json(), "run: python -m caseroom.api_docs > openapi.json"
    paths = json.loads(committed)["paths"]
    declared = {(r.method.lower(), r.path) for r in manifest.HTTP_ROUTES}
    documented = {(method, path) for path, ops in paths.items() for method in ops}
    assert documented == declared


def test_committed_event_schemas_match_the_models() -> None:
    folder = ROOT / "events" / "schemas"
    expected = event_catalog.catalogue()
    assert sorted(p.name for p in folder.glob("*.json")) == sorted(expected)
    for name, text in expected.items():
        assert (folder / name).read_text() == text, (
            f"run: python -m caseroom.event_catalog events/schemas ({name})"
        )


def test_lambda_layer_pins_match_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    layer = [
        line.strip()
        for name in ("dependencies", "documents")
        for line in (ROOT / f"layers/{name}/requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    pinned = {d.split("==")[0].lower(): d for d in project}
    for requirement in layer:
        name = re.split(r"[=<>\[]", requirement)[0].lower()
        if name in pinned:
            assert requirement == pinned[name], requirement


def test_no_route_can_change_the_audit_trail() -> None:
    audit_routes = [r for r in manifest.HTTP_ROUTES if "audit" in r.path]
    assert audit_routes, "the audit trail must be readable"
    assert {r.method for r in audit_routes} == {"GET"}


def test_every_function_environment_key_is_a_setting() -> None:
    from caseroom.settings import Settings

    read = {Settings.environment_key(name) for name in Settings.field_names()}
    declared = {key for key in manifest.FUNCTION_ENVIRONMENT_KEYS if key.startswith("CASEROOM_")}
    # Only the local runtime sets the endpoint override and the cursor key file, only tests the
    # literal cursor key; the cloud never does.
    local_only = {"CASEROOM_AWS_ENDPOINT_URL", "CASEROOM_CURSOR_KEY_FILE", "CASEROOM_CURSOR_KEY"}
    assert declared == read - local_only


def test_settings_parse_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from caseroom.settings import Settings

    monkeypatch.setenv("CASEROOM_DEEP_TRACING", "true")
    monkeypatch.setenv("CASEROOM_TABLE_NAME", "t-prod")
    monkeypatch.setenv("CASEROOM_AWS_ENDPOINT_URL", "")
    settings = Settings.from_environment()
    assert (settings.deep_tracing, settings.table_name, settings.aws_endpoint_url) == (True, "t-prod", None)


def test_a_malformed_boolean_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from caseroom.settings import InvalidSetting, Settings

    monkeypatch.setenv("CASEROOM_DEEP_TRACING", "maybe")
    with pytest.raises(InvalidSetting, match="CASEROOM_DEEP_TRACING"):
        Settings.from_environment()


def test_whole_number_settings_are_parsed_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from caseroom.settings import InvalidSetting, Settings

    monkeypatch.setenv("CASEROOM_MULTIPART_THRESHOLD_BYTES", "5242880")
    assert Settings.from_environment().multipart_threshold_bytes == 5242880
    monkeypatch.setenv("CASEROOM_MULTIPART_THRESHOLD_BYTES", "5 MB")
    with pytest.raises(InvalidSetting, match="whole number"):
        Settings.from_environment()


def test_an_answer_the_document_does_not_list_fails_the_contract_check() -> None:
    from tests.conftest import check_against_contract

    not_found = {"statusCode": 404, "body": json.dumps({"code": "CASE_NOT_FOUND", "message": "x"})}
    check_against_contract("GET /cases/{caseId}", not_found)  # listed
    with pytest.raises(AssertionError, match="does not list"):
        check_against_contract("GET /me", not_found)  # /me has no 404
    wrong_code = {"statusCode": 404, "body": json.dumps({"code": "FILE_NOT_FOUND", "message": "x"})}
    with pytest.raises(AssertionError, match="not among"):
        check_against_contract("GET /cases/{caseId}", wrong_code)


def test_the_document_lists_each_operations_errors_tags_and_public_routes() -> None:
    document = json.loads((ROOT / "openapi.json").read_text())
    public = {route.route_key for route in manifest.HTTP_ROUTES if route.public}
    for route in manifest.HTTP_ROUTES:
        operation = document["paths"][route.path][route.method.lower()]
        statuses = set(operation["responses"])
        assert operation["tags"] and operation["tags"] != ["default"], route.route_key
        if route.route_key in public:
            assert operation["security"] == [], route.route_key
            # The guest's /shared routes check a share link's token themselves: 401 without
            # one, 403 outside the link. Other public routes (health) answer neither.
            if not route.path.startswith("/shared"):
                assert not statuses & {"401", "403"}, route.route_key
        else:
            assert "security" not in operation, route.route_key  # the global bearerAuth applies
            assert {"401", "403", "500", "503"} <= statuses, route.route_key
        for status, response in operation["responses"].items():
            if "$ref" in response:
                response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
            if status >= "400":
                assert response["content"]["application/json"]["examples"], (route.route_key, status)
    not_found = document["paths"]["/cases/{caseId}"]["get"]["responses"]["404"]
    assert not_found == {"$ref": "#/components/responses/404-CASE_NOT_FOUND"}  # shared, not repeated
    examples = document["components"]["responses"]["404-CASE_NOT_FOUND"]["content"]["application/json"][
        "examples"
    ]
    assert examples["CASE_NOT_FOUND"]["value"]["code"] == "CASE_NOT_FOUND"
    assert "409" in document["paths"]["/cases/{caseId}/status"]["put"]["responses"]
    assert "415" in document["paths"]["/cases"]["post"]["responses"]


def test_event_and_webhook_schemas_carry_examples_that_fit_them() -> None:
    import jsonschema_rs

    from caseroom.events import DomainEvent, EventType
    from caseroom.webhooks import sender

    for event_type in EventType:
        schema = event_catalog.schema_of(event_type)
        (example,) = schema["examples"]
        jsonschema_rs.validate(schema, example)
        assert DomainEvent.from_detail(example).type is event_type
    payload_schema = event_catalog.webhook_payload_schema()
    for example in payload_schema["examples"]:
        jsonschema_rs.validate(payload_schema, example)
    # the example is what the sender really builds for that event
    detail = event_catalog.example_detail(EventType.FILE_ADDED)
    built = sender.thin_payload(
        "FileAdded",
        detail["time"],
        {"eventId": detail["id"], "caseId": detail["caseId"], "subjectId": detail["subjectId"]},
    )
    assert json.loads(built) == event_catalog.example_webhook_payload(EventType.FILE_ADDED)
    assert sender.TEST_EVENT_TYPE == event_catalog.WEBHOOK_TEST_TYPE


def test_request_examples_in_the_document_are_valid_requests() -> None:
    from caseroom.cases.models import CreateCaseRequest, SetStatusRequest
    from caseroom.files.kinds import normalized_content_type, rules_for
    from caseroom.files.models import RequestUpload
    from caseroom.planning.models import PublishBlockRequest
    from caseroom.webhooks.models import CreateEndpointRequest

    document = json.loads((ROOT / "openapi.json").read_text())
    for model in (
        CreateCaseRequest,
        SetStatusRequest,
        PublishBlockRequest,
        RequestUpload,
        CreateEndpointRequest,
    ):
        examples = document["components"]["schemas"][model.__name__]["examples"]
        assert examples, model.__name__
        for example in examples:
            model.model_validate(example)
    example = document["components"]["schemas"]["RequestUpload"]["examples"][0]
    upload = RequestUpload.model_validate(example)
    assert normalized_content_type(upload.content_type) in rules_for(upload.kind).content_types
