"""JSON Schemas of CaseRoom's domain events: the catalogue clinics subscribe from.

`python -m caseroom.event_catalog events/schemas` regenerates them; a test fails on drift.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from caseroom.events import ENVELOPE_FIELDS, EventType

WEBHOOK_TEST_TYPE = "WebhookTest"  # caseroom.webhooks.sender.TEST_EVENT_TYPE (not imported: boto3)
_SUBJECTS = {  # what subjectId names, per event type (examples)
    EventType.CASE_STATUS_CHANGED: "tl_20261102T091500Z_3f9a",
    EventType.FILE_UPLOAD_REQUESTED: "f_7d1c2b9e4a6f",
    EventType.FILE_ADDED: "f_7d1c2b9e4a6f",
    EventType.FILE_QUARANTINED: "f_7d1c2b9e4a6f",
    EventType.PLANNING_SCHEDULED: "ps_5b8e1f03",
    EventType.PLANNING_CANCELLED: "ps_5b8e1f03",
    EventType.PLANNING_HELD: "ps_5b8e1f03",
    EventType.PLANNING_MISSED: "ps_5b8e1f03",
    EventType.CHAT_MESSAGE_POSTED: "team:m1793610900000a1b2c3d4e5f6a7b8c",
}


def example_detail(event_type: EventType) -> dict[str, str]:
    """An example event detail: the shape of real ones, with made-up ids."""
    return {
        "id": "9f2c4e1a7b3d4c5e8f0a1b2c3d4e5f60",
        "type": event_type.value,
        "version": "1",
        "time": "2026-11-02T09:15:00Z",
        "caseId": "7KQ2-M9XD-4RTA",
        "actor": "system:file_verifier" if event_type.value.startswith("File") else "u-clinician-ana",
        "correlationId": "JKJaXmPLvHcESHA=",
        "subjectId": _SUBJECTS.get(event_type, ""),
    }


def example_webhook_payload(event_type: EventType) -> dict[str, Any]:
    """What an endpoint receives for that event (caseroom.webhooks.sender.thin_payload)."""
    detail = example_detail(event_type)
    data = {"eventId": detail["id"], "caseId": detail["caseId"]}
    if detail["subjectId"]:
        data["subjectId"] = detail["subjectId"]
    return {"type": detail["type"], "timestamp": detail["time"], "data": data}


def webhook_payload_schema() -> dict[str, Any]:
    examples = [example_webhook_payload(t) for t in (EventType.CASE_STATUS_CHANGED, EventType.FILE_ADDED)]
    examples.append(
        {"type": WEBHOOK_TEST_TYPE, "timestamp": "2026-11-02T09:15:00Z", "data": {"endpointId": "ep_4c1d9a"}}
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://caseroom.example/webhooks/payload.v1.json",
        "title": "WebhookPayload",
        "description": (
            "The body of every webhook delivery (Standard Webhooks: signed with the headers "
            "webhook-id, webhook-timestamp, webhook-signature). Ids and types only, never patient "
            "data: read the case through the API."
        ),
        "type": "object",
        "properties": {
            "type": {"enum": [*(t.value for t in EventType), WEBHOOK_TEST_TYPE]},
            "timestamp": {"type": "string", "description": "When the change happened (UTC, ISO 8601)"},
            "data": {
                "type": "object",
                "properties": {
                    "eventId": {"type": "string"},
                    "caseId": {"type": "string"},
                    "subjectId": {"type": "string"},
                    "endpointId": {"type": "string", "description": "WebhookTest only"},
                },
                "additionalProperties": False,
            },
        },
        "required": ["type", "timestamp", "data"],
        "additionalProperties": False,
        "examples": examples,
    }


def schema_of(event_type: EventType) -> dict[str, Any]:
    properties: dict[str, Any] = {
        f.json_name: {"type": "string", "description": f.description} for f in ENVELOPE_FIELDS
    }
    properties["type"] = {"const": event_type.value, "description": "Also the EventBridge detail-type"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://caseroom.example/events/{event_type.value}.v1.json",
        "title": event_type.value,
        "description": "The detail of a CaseRoom event on the bus: ids and types, never patient data",
        "type": "object",
        "properties": properties,
        "required": [f.json_name for f in ENVELOPE_FIELDS],
        "additionalProperties": False,
        "examples": [example_detail(event_type)],
    }


def catalogue() -> dict[str, str]:
    schemas = {f"{t.value}.json": schema_of(t) for t in EventType}
    schemas["WebhookPayload.json"] = webhook_payload_schema()
    return {name: json.dumps(schema, indent=2, sort_keys=True) + "\n" for name, schema in schemas.items()}


def write(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in catalogue().items():
        (folder / name).write_text(text)


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "events/schemas"))
