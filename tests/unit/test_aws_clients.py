"""caseroom.aws: the shared botocore session lists known services from the data directory
alone, and still makes every client CaseRoom uses and refuses names it does not know."""

from __future__ import annotations

import os
from typing import Any

import pytest
from botocore.exceptions import UnknownServiceError

from caseroom import aws

# Every service a CaseRoom module or the local runtime makes a client for.
SERVICES_CASEROOM_USES = (
    "apigatewaymanagementapi",
    "dynamodb",
    "dynamodbstreams",
    "events",
    "s3",
    "scheduler",
    "ses",
    "sqs",
)


@pytest.fixture
def fresh_session(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("AWS_DATA_PATH", raising=False)
    aws.reset_clients()
    yield aws._shared_session()
    aws.reset_clients()


@pytest.mark.parametrize("service", SERVICES_CASEROOM_USES)
def test_every_service_caseroom_uses_gets_a_client(fresh_session: Any, service: str) -> None:
    client = fresh_session.create_client(service, aws_access_key_id="k", aws_secret_access_key="s")

    assert client.meta.service_model.service_name == service


def test_an_unknown_service_is_still_refused(fresh_session: Any) -> None:
    with pytest.raises(UnknownServiceError):
        fresh_session.create_client("no-such-service", aws_access_key_id="k", aws_secret_access_key="s")


def test_listing_services_reads_each_data_directory_once(
    fresh_session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed: list[str] = []
    real_listdir = os.listdir

    def counting_listdir(path: Any) -> list[str]:
        listed.append(str(path))
        return real_listdir(path)

    monkeypatch.setattr(os, "listdir", counting_listdir)
    loader = fresh_session.get_component("data_loader")

    services = loader.list_available_services("service-2")

    # botocore's own loader lists every one of the ~420 service directories as well.
    assert len(listed) <= len(loader.search_paths)
    assert {"dynamodb", "s3", "scheduler"} <= set(services)
    assert not [name for name in services if "." in name]  # endpoints.json is not a service


def test_aws_data_path_still_adds_model_directories(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    (tmp_path / "caseroom-test-service").mkdir()
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    aws.reset_clients()
    try:
        loader = aws._shared_session().get_component("data_loader")
        assert str(tmp_path) in loader.search_paths
        assert "caseroom-test-service" in loader.list_available_services("service-2")
    finally:
        aws.reset_clients()


@pytest.mark.parametrize("service", ["dynamodb", "s3"])
@pytest.mark.parametrize("model", ["service-2", "endpoint-rule-set-1", "paginators-1"])
def test_models_load_as_botocore_loads_them(fresh_session: Any, service: str, model: str) -> None:
    import json

    from botocore.loaders import Loader

    ours = fresh_session.get_component("data_loader").load_service_model(service, model)
    botocores = Loader().load_service_model(service, model)

    assert type(ours) is dict  # plain dicts, not OrderedDicts
    assert json.dumps(ours) == json.dumps(botocores)  # same content, same key order


def test_shared_data_files_load_as_botocore_loads_them(fresh_session: Any) -> None:
    import json

    from botocore.loaders import Loader

    for name in ("endpoints", "partitions", "sdk-default-configuration", "_retry"):
        ours = fresh_session.get_component("data_loader").load_data(name)
        assert json.dumps(ours) == json.dumps(Loader().load_data(name)), name


def test_a_model_without_an_endpoint_ruleset_still_gets_a_client(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """botocore falls back to its older endpoint data when a service has no ruleset; the
    faster listing must keep the error that fallback relies on (UnknownServiceError)."""
    import json

    version = tmp_path / "caseroom-test-service" / "2020-01-01"
    version.mkdir(parents=True)
    metadata = {
        "apiVersion": "2020-01-01",
        "endpointPrefix": "caseroom-test",
        "protocol": "json",
        "serviceId": "CaseRoom Test",
        "signatureVersion": "v4",
        "targetPrefix": "CaseRoomTest",
        "jsonVersion": "1.1",
    }
    model = {"version": "2.0", "metadata": metadata, "operations": {}, "shapes": {}}
    (version / "service-2.json").write_text(json.dumps(model))
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    aws.reset_clients()
    try:
        session = aws._shared_session()
        client = session.create_client(
            "caseroom-test-service", region_name="eu-west-1", aws_access_key_id="k", aws_secret_access_key="s"
        )
        assert client.meta.endpoint_url == "https://caseroom-test.eu-west-1.amazonaws.com"
        with pytest.raises(UnknownServiceError):
            session.get_component("data_loader").load_service_model("caseroom-test-service", "waiters-2")
    finally:
        aws.reset_clients()


def test_the_loader_assumptions_hold_for_the_pinned_botocore(fresh_session: Any) -> None:
    """The proof the faster loader needs; if a botocore upgrade breaks it, this fails here and
    production falls back to botocore's own loader (next test)."""
    assert aws.loader_assumptions_hold()
    assert type(fresh_session.get_component("data_loader")).__name__ == "CaseRoomModelLoader"


def test_a_botocore_that_differs_gets_its_stock_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore import loaders

    def changed(self: Any, type_name: str, extra: int = 0) -> list[str]:  # a new parameter
        return []

    monkeypatch.setattr(loaders.Loader, "list_available_services", changed)
    assert not aws.loader_assumptions_hold()
    aws.reset_clients()
    try:
        session = aws._shared_session()
        assert type(session.get_component("data_loader")) is loaders.Loader
    finally:
        aws.reset_clients()


def test_a_missing_file_loader_hook_also_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore import loaders

    monkeypatch.delattr(loaders.Loader, "FILE_LOADER_CLASS")
    assert not aws.loader_assumptions_hold()


def test_a_per_service_endpoint_wins_over_the_runtime_wide_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local runtime's table is DynamoDB Local (AWS_ENDPOINT_URL_DYNAMODB, the variable botocore
    reads); every other service stays on moto (CASEROOM_AWS_ENDPOINT_URL)."""
    from caseroom.settings import get_settings

    monkeypatch.setenv("CASEROOM_AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8001")
    get_settings.cache_clear()
    aws.reset_clients()
    try:
        assert aws.client("dynamodb").meta.endpoint_url == "http://127.0.0.1:8001"
        assert aws.client("s3").meta.endpoint_url == "http://127.0.0.1:4566"
        monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB")
        aws.reset_clients()
        assert aws.client("dynamodb").meta.endpoint_url == "http://127.0.0.1:4566"
    finally:
        monkeypatch.delenv("CASEROOM_AWS_ENDPOINT_URL")
        get_settings.cache_clear()
        aws.reset_clients()
