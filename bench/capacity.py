"""Part 2, capacity: DynamoDB calls and capacity units per API operation, and whether a page of
"list my cases" costs the same with 100 or 10,000 cases in the table.

Everything runs in this process against moto's in-process mock (`mock_aws`), through the real
cases API handler. Capacity units are computed from the items read and written by DynamoDB's
documented rules (bench/dynamo_cost.py): moto's own ConsumedCapacity is a constant per call
and is reported alongside only for reference.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import aws_env, events
from bench.capacity_meter import CapacityMeter, OperationCost
from bench.handler_calls import Handler, HttpResult, invoke_http
from bench.stats import ratio
from caseroom.auth import Principal, Role

TARGET_LIST_RATIO = 1.1  # the target: a page costs the same whatever the table holds
PAGE_SIZE = 25
SMALL_TABLE_CASES = 100  # all of them the measured owner's
LARGE_TABLE_CASES = 10_000  # the same owner's 100 plus other clinicians' cases
OTHER_OWNERS = 99
BATCH_WRITE_LIMIT = 25  # BatchWriteItem's maximum request size
CASES_BEFORE_OPERATIONS = PAGE_SIZE + 5  # so the measured list returns a full page

OWNER_A = Principal(
    user_id="u-bench-owner-a", email="a@clinic.bench", name="Dr. A Bench", role=Role.CLINICIAN
)


@contextmanager
def _offline_aws() -> Iterator[tuple[Handler, CapacityMeter]]:
    """A fresh in-process moto account with CaseRoom's resources; yields the cases API handler
    and a meter on the handler's own DynamoDB client."""
    from moto import mock_aws  # heavy, only when this part runs

    from caseroom import aws
    from caseroom.settings import get_settings
    from infra import manifest
    from local.provision import provision_resources

    environment = aws_env.caseroom_environment(endpoint_url=None)
    with aws_env.process_environment(environment, remove=("CASEROOM_AWS_ENDPOINT_URL",)), mock_aws():
        provision_resources(get_settings())
        events.load_bench_directory()
        import boto3

        from functions.cases_api.handler import lambda_handler

        index_keys = [(index.partition_key, index.sort_key) for index in manifest.TABLE.indexes]
        meter = CapacityMeter(
            client=aws.client("dynamodb"),
            snapshot_client=boto3.session.Session().client("dynamodb"),
            key_names=(manifest.TABLE.partition_key, manifest.TABLE.sort_key),
            index_keys_by_table={aws_env.TABLE_NAME: index_keys},
        )
        yield lambda_handler, meter


def _expect(result: HttpResult, status: int, what: str) -> dict[str, Any]:
    if result.status != status:
        raise RuntimeError(f"{what}: expected HTTP {status}, got {result.status} {result.body}")
    return result.body


def _measure(
    meter: CapacityMeter, handler: Handler, event: dict[str, Any], status: int, what: str
) -> tuple[OperationCost, dict[str, Any]]:
    with meter.measure() as cost:
        body = _expect(invoke_http(handler, event), status, what)
    return cost, body


def measure_operations() -> dict[str, Any]:
    """Each API operation once, on a clinician with a full page of cases."""
    clinician, lab = events.CLINICIAN, events.LAB_TECH
    with _offline_aws() as (handler, meter):
        create_event = events.http_event("POST", "/cases", "/cases", clinician, body=events.CREATE_CASE_BODY)
        for _ in range(CASES_BEFORE_OPERATIONS):
            _expect(invoke_http(handler, create_event), 201, "seed case")

        costs: dict[str, OperationCost] = {}
        costs["create case"], created = _measure(meter, handler, create_event, 201, "create case")
        case_id, path = created["caseId"], f"/cases/{created['caseId']}"
        costs["get case"], _ = _measure(
            meter, handler, events.http_event("GET", "/cases/{caseId}", path, clinician), 200, "get case"
        )
        costs[f"list cases (page of {PAGE_SIZE})"], page = _measure(
            meter,
            handler,
            events.http_event("GET", "/cases", "/cases", clinician, query={"limit": str(PAGE_SIZE)}),
            200,
            "list",
        )
        if len(page["items"]) != PAGE_SIZE:
            raise RuntimeError(f"the list returned {len(page['items'])} cases, expected a full page")
        costs["modify case (Rx)"], modified = _measure(
            meter,
            handler,
            events.http_event(
                "PATCH",
                "/cases/{caseId}",
                path,
                clinician,
                body={"version": created["version"], "rxDescription": "Bench crown, shade A2"},
            ),
            200,
            "modify",
        )
        costs["set status (lab)"], with_status = _measure(
            meter,
            handler,
            events.http_event(
                "PUT",
                "/cases/{caseId}/status",
                f"{path}/status",
                lab,
                body={"version": modified["version"], "status": "Received"},
            ),
            200,
            "set status",
        )
        costs["archive case"], _ = _measure(
            meter,
            handler,
            events.http_event(
                "POST",
                "/cases/{caseId}/archive",
                f"{path}/archive",
                clinician,
                body={"version": with_status["version"]},
            ),
            200,
            "archive",
        )
        costs["audit trail"], _ = _measure(
            meter,
            handler,
            events.http_event("GET", "/cases/{caseId}/audit", f"{path}/audit", clinician),
            200,
            "audit",
        )
    scans = sum(cost.calls.get("Scan", 0) for cost in costs.values())
    return {
        "case_id": case_id,
        "operations": {name: cost.as_dict() for name, cost in costs.items()},
        "scan_calls": scans,
        "no_scan": scans == 0,
    }


def _bulk_cases(owner: Principal, count: int, start: int) -> list[dict[str, Any]]:
    """`count` case items shaped exactly as caseroom.cases.dal writes them (its own item builder)."""
    from caseroom import dynamo, ids
    from caseroom.cases import dal
    from caseroom.cases.case_types import CaseType, FileKind
    from caseroom.cases.records import Attachment, Case
    from caseroom.cases.statuses import CaseStatus, attention_of
    from caseroom.clock import iso

    statuses, case_types = list(CaseStatus), list(CaseType)
    epoch = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    items = []
    for number in range(start, start + count):
        status = statuses[number % len(statuses)]
        created = iso(epoch + timedelta(minutes=number))
        case = Case(
            case_id=ids.new_case_id(),
            owner_id=owner.user_id,
            owner_name=owner.name,
            owner_email=owner.email,
            lab_id="lab-1",
            patient_name=f"Bench Patient {number:05d}",
            rx_description="Zirconia crown, shade A2",
            teeth=["11", "21"],
            case_type=case_types[number % len(case_types)],
            status=status,
            attention=attention_of(status),
            created_at=created,
            last_modified=created,
            updated_at=created,
            due_date="2026-02-02",
            attachments=[Attachment(kind=FileKind.SCAN, file_name="upper.stl")],
        )
        items.append(dynamo.to_item(dal._case_values(case)))
    return items


def _batch_write(client: Any, items: list[dict[str, Any]]) -> None:
    for first in range(0, len(items), BATCH_WRITE_LIMIT):
        request = {
            aws_env.TABLE_NAME: [
                {"PutRequest": {"Item": item}} for item in items[first : first + BATCH_WRITE_LIMIT]
            ]
        }
        while request:  # moto never throttles, but a real table may hand some back
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def _table_item_count(client: Any) -> int:
    """Counting scan by the harness itself (never an application path)."""
    total, start_key = 0, None
    while True:
        page = client.scan(
            TableName=aws_env.TABLE_NAME,
            Select="COUNT",
            **({"ExclusiveStartKey": start_key} if start_key else {}),
        )
        total += page["Count"]
        start_key = page.get("LastEvaluatedKey")
        if not start_key:
            return total


def _list_page(
    meter: CapacityMeter, handler: Handler, who: Principal, route: str, table_items: int
) -> dict[str, Any]:
    event = events.http_event("GET", route, route, who, query={"limit": str(PAGE_SIZE)})
    started = time.perf_counter()
    cost, body = _measure(meter, handler, event, 200, f"GET {route}")
    return {
        "table_items": table_items,
        "page_items": len(body["items"]),
        "moto_wall_ms": round((time.perf_counter() - started) * 1000, 1),
        **cost.as_dict(),
    }


def measure_list_scaling() -> dict[str, Any]:
    """The same page read with 100 and with 10,000 cases in the table."""
    import boto3

    with _offline_aws() as (handler, meter):
        loader = boto3.session.Session().client("dynamodb")  # not the metered client
        _batch_write(loader, _bulk_cases(OWNER_A, SMALL_TABLE_CASES, start=0))
        small_count = _table_item_count(loader)
        small = {
            "list my cases": _list_page(meter, handler, OWNER_A, "/cases", small_count),
            "lab queue": _list_page(meter, handler, events.LAB_TECH, "/lab/cases", small_count),
        }

        others_each = (LARGE_TABLE_CASES - SMALL_TABLE_CASES) // OTHER_OWNERS
        started = time.perf_counter()
        for number in range(OTHER_OWNERS):
            other = Principal(
                user_id=f"u-bench-other-{number:03d}",
                email=f"o{number}@clinic.bench",
                name=f"Dr. Other {number}",
                role=Role.CLINICIAN,
            )
            _batch_write(
                loader, _bulk_cases(other, others_each, start=SMALL_TABLE_CASES + number * others_each)
            )
        load_seconds = time.perf_counter() - started
        large_count = _table_item_count(loader)
        large = {
            "list my cases": _list_page(meter, handler, OWNER_A, "/cases", large_count),
            "lab queue": _list_page(meter, handler, events.LAB_TECH, "/lab/cases", large_count),
        }

    listings = {}
    for name in small:
        read_ratio = ratio(large[name]["read_units"], small[name]["read_units"])
        listings[name] = {
            "small": small[name],
            "large": large[name],
            "read_units_ratio": read_ratio,
            "passed": read_ratio is not None
            and read_ratio <= TARGET_LIST_RATIO
            and large[name]["calls"].get("Scan", 0) == 0
            and large[name]["filtered_reads"] == 0,
        }
    return {
        "page_size": PAGE_SIZE,
        "target_ratio": TARGET_LIST_RATIO,
        "bulk_load_seconds": round(load_seconds, 1),
        "listings": listings,
        "passed": all(listing["passed"] for listing in listings.values()),
    }


def run() -> dict[str, Any]:
    operations = measure_operations()
    scaling = measure_list_scaling()
    return {
        "method": (
            "capacity units computed from item sizes by DynamoDB's documented on-demand rules "
            "(bench/dynamo_cost.py); moto_reported_units is moto's constant stub, for reference"
        ),
        **operations,
        "list_scaling": scaling,
        "passed": operations["no_scan"] and scaling["passed"],
    }
