"""Every presigned URL the API returns is SigV4 and names its region's own S3 endpoint.

moto accepts any signature, so nothing else would notice a SigV2 URL (which S3 refuses for
KMS-encrypted objects) or a global-endpoint URL. The operations that can return one are read
from openapi.json (every response schema with a `url` or `post` property, apart from webhook
endpoints, whose URL is the subscriber's own): a new one fails this test until it is covered.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from caseroom import aws
from caseroom.settings import get_settings
from tests.conftest import LAB_TECH, PATIENT, http_event, lambda_context
from tests.integration.test_event_consumers import as_eventbridge, outbox_events
from tests.integration.test_files_api import (
    PNG,
    Call,
    MiB,
    call,
    dicom,
    key_of,
    land,
    new_case,
    request_upload,
    sha,
    verify,
)
from tests.support.route_caller import route_caller

__all__ = ["call"]

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
# Webhook targets, and a created share link's url (the web app's guest page, not storage).
NOT_PRESIGNED = {"EndpointView", "EndpointCreated", "CreateEndpointRequest", "CreatedShareLink"}


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [
            v.split("/")[-1] if k == "$ref" else r
            for k, v in node.items()
            for r in ([v] if k == "$ref" else _refs(v))
        ]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


EXPORT_LINKS = {
    "POST /me/passport/cases/{caseId}/exports",
    "GET /me/passport/cases/{caseId}/exports/{exportId}",
}


def operations_returning_links() -> set[str]:
    doc = json.loads((ROOT / "openapi.json").read_text())
    schemas = doc["components"]["schemas"]
    linked = {
        name
        for name, schema in schemas.items()
        if {"url", "post"} & set(schema.get("properties", {})) and name not in NOT_PRESIGNED
    }

    def closure(names: list[str]) -> set[str]:
        seen: set[str] = set()
        while names:
            name = names.pop()
            if name not in seen:
                seen.add(name)
                names.extend(_refs(schemas[name]))
        return seen

    found = set()
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                if status.startswith("2") and closure(_refs(response)) & linked:
                    found.add(f"{method.upper()} {path}")
    return found


def assert_sigv4_regional(url: str, query: dict[str, list[str]] | None = None) -> None:
    parts = urlsplit(url)
    params = query if query is not None else parse_qs(parts.query)
    assert parts.scheme == "https"
    bucket = get_settings().files_bucket
    assert parts.hostname in (f"{bucket}.s3.{REGION}.amazonaws.com", f"s3.{REGION}.amazonaws.com"), url
    assert params["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"], url
    assert params["X-Amz-Credential"][0].endswith(f"/{REGION}/s3/aws4_request"), url
    assert "X-Amz-Signature" in params
    # SigV2's markers
    assert "Signature" not in params and "AWSAccessKeyId" not in params, url


def presigned_things(body: Any) -> list[dict[str, Any] | str]:
    """Every presigned URL (str) and POST ({url, fields}) anywhere in a response body."""
    found: list[dict[str, Any] | str] = []
    if isinstance(body, dict):
        if "fields" in body and "url" in body:
            found.append(body)
        else:
            for value in body.values():
                found.extend(presigned_things(value))
    elif isinstance(body, list):
        for value in body:
            found.extend(presigned_things(value))
    elif isinstance(body, str) and ("X-Amz-" in body or "Signature=" in body):
        found.append(body)
    return found


def test_every_presigned_url_the_api_returns_is_sigv4_and_regional(
    call: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.cases_api.handler import lambda_handler as cases_handler
    from functions.rx_script.handler import lambda_handler as rx_handler

    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    aws.reset_clients()
    exercised: dict[str, list[Any]] = {}

    def record(route: str, response: tuple[int, Any]) -> Any:
        status, body = response
        assert status in (200, 201), (route, body)
        exercised.setdefault(route, []).append(body)
        return body

    # A small upload (presigned POST), its download (presigned GET)
    case_id = new_case(call)
    ticket = record("POST /cases/{caseId}/uploads", request_upload(call, case_id, PNG))
    land(key_of(case_id, ticket["fileId"]), PNG, "image/png")
    assert verify(key_of(case_id, ticket["fileId"])) == "available"
    record(
        "GET /cases/{caseId}/files/{fileId}/download",
        call(
            "GET",
            "/cases/{caseId}/files/{fileId}/download",
            f"/cases/{case_id}/files/{ticket['fileId']}/download",
            who=LAB_TECH,
        ),
    )
    # A multipart upload and its part URLs
    data = dicom(6 * MiB)
    multipart = record(
        "POST /cases/{caseId}/uploads",
        request_upload(call, case_id, data, kind="cbct", contentType="application/dicom", fileName="ct.dcm"),
    )
    assert multipart["mode"] == "multipart"
    size = multipart["multipart"]["partSizeBytes"]
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    record(
        "POST /cases/{caseId}/uploads/{fileId}/part-urls",
        call(
            "POST",
            "/cases/{caseId}/uploads/{fileId}/part-urls",
            f"/cases/{case_id}/uploads/{multipart['fileId']}/part-urls",
            body={"parts": [{"partNumber": n, "sha256": sha(c)} for n, c in enumerate(chunks, 1)]},
        ),
    )
    # The Rx script link
    rx_handler(as_eventbridge(outbox_events(case_id)[0]), lambda_context("rx_script"))
    event = http_event("GET", "/cases/{caseId}/rx-script", f"/cases/{case_id}/rx-script", LAB_TECH)
    response = cases_handler(event, lambda_context("cases_api"))
    record("GET /cases/{caseId}/rx-script", (response["statusCode"], json.loads(response["body"])))

    # The patient's download of a shared file (the case's Passport) and a guest's, through a link
    api = route_caller()
    connect = f"/cases/{case_id}/passport"
    assert api("POST", "/cases/{caseId}/passport", connect, body={"email": PATIENT.email})[0] == 201
    route = "/me/passport/cases/{caseId}/files/{fileId}/download"
    path = f"/me/passport/cases/{case_id}/files/{ticket['fileId']}/download"
    record("GET " + route, api("GET", route, path, who=replace(PATIENT, email_verified=True)))
    links = f"/cases/{case_id}/share-links"
    link = api("POST", "/cases/{caseId}/share-links", links, body={"galleryIds": ["initial-documentation"]})
    assert link[0] == 201, link
    route = "/shared/files/{fileId}/download"
    headers = {"X-Share-Token": link[1]["token"]}
    record(
        "GET " + route,
        api("GET", route, f"/shared/files/{ticket['fileId']}/download", who=None, headers=headers),
    )

    # Every operation that can return a presigned URL was exercised (a Passport export's link is
    # signed by the same storage.download_url; it is made by the export function, and
    # tests/integration/test_passport.py checks it)...
    assert set(exercised) == operations_returning_links() - EXPORT_LINKS
    # ...and every presigned URL or POST in their answers is SigV4 on the regional endpoint
    checked = 0
    for bodies in exercised.values():
        for body in bodies:
            things = presigned_things(body)
            assert things or body.get("mode") == "multipart", body  # its URLs come from part-urls
            for thing in things:
                if isinstance(thing, str):
                    assert_sigv4_regional(thing)
                else:
                    fields = thing["fields"]
                    query = {k: [v] for k, v in fields.items()}
                    query["X-Amz-Algorithm"] = [fields["x-amz-algorithm"]]
                    query["X-Amz-Credential"] = [fields["x-amz-credential"]]
                    query["X-Amz-Signature"] = [fields["x-amz-signature"]]
                    assert "signature" not in fields and "AWSAccessKeyId" not in fields
                    assert_sigv4_regional(thing["url"], query)
                checked += 1
    # the POST, the download, each part, the Rx script, the patient's and the guest's downloads
    assert checked == 3 + len(chunks) + 2


@pytest.mark.parametrize("region", ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"])
def test_the_presigner_signs_v4_for_the_regional_endpoint_in_every_region(
    region: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In these four regions a default botocore client presigns with SigV2 (FACTS.md).
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.delenv("CASEROOM_AWS_ENDPOINT_URL", raising=False)
    get_settings.cache_clear()
    aws.reset_clients()
    try:
        presigner = aws.presigner("s3")
        url = presigner.generate_presigned_url(
            "get_object", Params={"Bucket": "b-1", "Key": "k"}, ExpiresIn=60
        )
        post = presigner.generate_presigned_post("b-1", "k", ExpiresIn=60)
    finally:
        aws.reset_clients()
    assert urlsplit(url).hostname == f"b-1.s3.{region}.amazonaws.com"
    assert parse_qs(urlsplit(url).query)["X-Amz-Credential"][0].endswith(f"/{region}/s3/aws4_request")
    assert urlsplit(post["url"]).hostname == f"b-1.s3.{region}.amazonaws.com"
    assert post["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
