"""JSON Schemas of CaseRoom's domain events: the catalogue clinics subscribe from.

`python -m caseroom.event_catalog events/schemas` regenerates them; a test fails on drift.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from caseroom.events import ENVELOPE_FIELDS, EventType


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
    }


def catalogue() -> dict[str, str]:
    return {f"{t.value}.json": json.dumps(schema_of(t), indent=2, sort_keys=True) + "\n" for t in EventType}


def write(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in catalogue().items():
        (folder / name).write_text(text)


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "events/schemas"))
