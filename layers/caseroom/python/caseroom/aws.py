"""AWS clients, created on first use and reused across warm invocations.

Nothing here runs at import time: importing a handler must not need a region or
credentials, and a cold start pays only for the clients its request touches.

Clients come from a botocore session, the engine boto3's clients are made of: they are the
same client objects, but a handler then never imports boto3 itself (its resource layer and
s3transfer), which is ~70 ms of every cold start that no CaseRoom function uses.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from caseroom.settings import get_settings

_clients: dict[tuple[str, str | None, str | None], Any] = {}
_session: Any = None
_lock = threading.Lock()


def client(service: str, endpoint_url: str | None = None, signature_version: str | None = None) -> Any:
    """A shared client for `service`. Locally every service is moto on 127.0.0.1, except where a
    per-service endpoint is configured (the local runtime's table is DynamoDB Local).

    signature_version="s3v4" for presigning: SigV4 is what KMS-encrypted objects and signed
    checksum headers need (boto3 may otherwise presign S3 URLs with SigV2)."""
    endpoint = endpoint_url or service_endpoint(service) or get_settings().aws_endpoint_url
    key = (service, endpoint, signature_version)
    found = _clients.get(key)
    if found is None:
        with _lock:
            found = _clients.get(key)
            if found is None:
                config = None
                if signature_version:
                    from botocore.config import Config

                    config = Config(
                        signature_version=signature_version,
                        s3={
                            # Without these, presigned URLs name the global s3.amazonaws.com
                            # host (measured: us-east-1 always, ap-southeast-2 with "auto"
                            # addressing) while the signature is scoped to the region; every
                            # URL names its region's own endpoint instead.
                            "us_east_1_regional_endpoint": "regional",
                            # moto on 127.0.0.1 has no bucket subdomains: path style there.
                            "addressing_style": "path" if endpoint else "virtual",
                        },
                    )
                found = _shared_session().create_client(service, endpoint_url=endpoint, config=config)
                _clients[key] = found
    return found


def service_endpoint(service: str) -> str | None:
    """AWS_ENDPOINT_URL_<SERVICE>, the per-service endpoint variable botocore itself honours
    (e.g. AWS_ENDPOINT_URL_DYNAMODB); it wins over the runtime-wide CASEROOM_AWS_ENDPOINT_URL,
    as botocore's own per-service setting wins over AWS_ENDPOINT_URL. Unset in AWS."""
    return os.environ.get("AWS_ENDPOINT_URL_" + service.upper().replace("-", "_")) or None


def presigner(service: str = "s3") -> Any:
    """The client every presigned URL and POST is made with: SigV4 (S3 refuses SigV2 for
    KMS-encrypted objects, and botocore may still presign with SigV2 by default) on the
    region's own endpoint. tests/integration/test_presigned_urls.py checks every URL the API
    returns."""
    return client(service, signature_version="s3v4")


def _shared_session() -> Any:
    # One session for every client: its loader caches endpoint and credential data, so a
    # second client costs ~20 ms instead of ~60 ms on a cold start.
    global _session
    if _session is None:
        import botocore.session

        session = botocore.session.get_session()
        if loader_assumptions_hold():
            session.register_component("data_loader", _model_loader(session))
        _session = session
    return _session


def loader_assumptions_hold() -> bool:
    """What _model_loader relies on in botocore's loader module, checked before it is used: the
    file-loader hook, the instance cache decorator and the two methods it overrides, with the
    parameters it passes. tests/unit/test_aws_clients.py proves them for the pinned botocore;
    a botocore that differs gets its own stock loader (slower to start, never wrong)."""
    import inspect

    try:
        from botocore import loaders
    except ImportError:
        return False
    expected = {
        "list_available_services": ["self", "type_name"],
        "load_service_model": ["self", "service_name", "type_name", "api_version"],
    }
    try:
        if not isinstance(getattr(loaders.Loader, "FILE_LOADER_CLASS", None), type):
            return False
        if not callable(getattr(loaders, "instance_cache", None)):
            return False
        if list(inspect.signature(loaders.JSONFileLoader.load_file).parameters)[:2] != ["self", "file_path"]:
            return False
        for method, parameters in expected.items():
            found = _undecorated(getattr(loaders.Loader, method), method)
            if list(inspect.signature(found).parameters) != parameters:
                return False
    except (AttributeError, TypeError, ValueError):
        return False
    return True


def _undecorated(method: Any, name: str) -> Any:
    # botocore's instance_cache wraps without functools.wraps: the method is in its closure.
    for cell in getattr(method, "__closure__", None) or ():
        inner = cell.cell_contents
        if callable(inner) and getattr(inner, "__name__", "") == name:
            return inner
    return method


def _model_loader(session: Any) -> Any:
    """botocore's model loader, with two of its cold-start costs taken out.

    Listing services: before loading a client's first model, botocore lists every service it
    ships (~420 directories) and opens each one to check it holds that kind of model: 2,000
    file-system calls, ~17 ms, to confirm that "dynamodb" exists. Here a directory in the data
    path is a known service; a service without the model still fails when it is loaded
    (DataNotFoundError), and an unknown name still raises UnknownServiceError.

    Parsing models: botocore parses every JSON model into OrderedDicts (a pure-Python hook per
    object), from before dicts kept their order. Plain dicts keep the same order and parse in
    about half the time: ~9 ms of the first DynamoDB client, ~4 ms of an S3 client."""
    import gzip
    import json
    import os

    from botocore.exceptions import DataNotFoundError, UnknownServiceError
    from botocore.loaders import JSONFileLoader, Loader, instance_cache

    class PlainJSONFileLoader(JSONFileLoader):
        def load_file(self, file_path: str) -> Any:
            for extension, opener in ((".json", open), (".json.gz", gzip.open)):
                if os.path.isfile(file_path + extension):
                    with opener(file_path + extension, "rb") as stream:
                        return json.loads(stream.read().decode("utf-8"))
            return None

    class CaseRoomModelLoader(Loader):
        FILE_LOADER_CLASS = PlainJSONFileLoader

        @instance_cache
        def list_available_services(self, type_name: str) -> list[str]:
            services: set[str] = set()
            for path in self.search_paths:
                if os.path.isdir(path):
                    services.update(name for name in os.listdir(path) if "." not in name)
            return sorted(services)

        def load_service_model(
            self, service_name: str, type_name: str, api_version: str | None = None
        ) -> Any:
            try:
                return super().load_service_model(service_name, type_name, api_version)
            except DataNotFoundError:
                if api_version is not None:
                    raise
                # No version holds this kind of model, so botocore's own listing would not name
                # the service for it: its callers expect UnknownServiceError (a client without
                # an endpoint ruleset falls back to the older endpoint data on it).
                known = ", ".join(self.list_available_services(type_name))
                raise UnknownServiceError(service_name=service_name, known_service_names=known) from None

    # AWS_DATA_PATH adds model directories, as it does for botocore's own loader.
    data_path = session.get_config_variable("data_path")
    extra = [os.path.expanduser(os.path.expandvars(p)) for p in (data_path or "").split(os.pathsep) if p]
    return CaseRoomModelLoader(extra_search_paths=extra or None)


def reset_clients() -> None:
    """Tests and the local runtime call this when the endpoint or moto backend changes."""
    global _session
    with _lock:
        _clients.clear()
        _session = None
