"""Helpers shared by the workflow and planning tests (plain functions, not fixtures)."""

from __future__ import annotations

from tests.integration.test_event_consumers import outbox_events

TRACKING = {
    "carrier": "UPS",
    "trackingNumber": "1Z999AA10123456784",
    "trackingUrl": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
}


def outbox_types(case_id: str) -> list[str]:
    """The types of the events the case's writes put in the outbox, oldest first."""
    return [e["eventType"] for e in outbox_events(case_id)]
