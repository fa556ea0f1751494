"""The webhook sender: one delivery per (event, endpoint), signed attempts, retries, DLQ.

Fan-out: a case event reaches the endpoints of the case's owner that subscribed to its type;
each gets one delivery (its id is derived from the event and the endpoint, so a redelivered
event adds nothing) and a first attempt right away.
Retries: exponential backoff with full jitter (a random delay in [0, min(1 h, 30 s * 2^n)]),
each one a caseroom.scheduling timer, for a day after the delivery's window started. Then the
delivery goes to the webhook DLQ (SQS, kept 14 days) and, if the endpoint has not succeeded
since, the endpoint is disabled and its owner told (critical notice: feed + email).
An endpoint that answers 410 Gone is disabled at once (its delivery goes to the DLQ too).
Every attempt claims (delivery, attempt) first: a timer delivered twice sends once.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from caseroom import access, aws, consumers, realtime, scheduling
from caseroom.cases.dal import get_case
from caseroom.clock import Clock, SystemClock, iso
from caseroom.errors import DomainError
from caseroom.events import DomainEvent
from caseroom.notifications import service as notices
from caseroom.notifications import templates
from caseroom.notifications.kinds import NoticeKind
from caseroom.observability import logger
from caseroom.settings import get_settings
from caseroom.webhooks import client, signing, store, urls
from caseroom.webhooks.store import Delivery, DeliveryStatus, Endpoint

DELIVERY_DUE = "WebhookDeliveryDue"
SENDER_SOURCE = "caseroom.webhooks"  # immediate deliveries the API asks for (test ping, redelivery)
TEST_EVENT_TYPE = "WebhookTest"
RETRY_WINDOW = timedelta(days=1)
BASE_DELAY_S = 30.0
MAX_DELAY_S = 3600.0
USER_AGENT = "CaseRoom-Webhooks/1"

_clock: Clock = SystemClock()
_random: Callable[[float, float], float] = random.SystemRandom().uniform


def use_clock(clock: Clock | None) -> None:
    """Tests (and the benchmark) move time by hand; None restores the system clock."""
    global _clock
    _clock = clock or SystemClock()


def use_random(uniform: Callable[[float, float], float] | None) -> None:
    global _random
    _random = uniform or random.SystemRandom().uniform


def retry_delay(attempts: int) -> timedelta:
    """Full jitter: uniform in [0, min(cap, base * 2^attempts)]."""
    ceiling = min(MAX_DELAY_S, BASE_DELAY_S * (2 ** min(attempts, 20)))
    return timedelta(seconds=_random(0.0, ceiling))


def thin_payload(event_type: str, timestamp: str, data: dict[str, str]) -> str:
    """Standard Webhooks payload shape; ids and types only, never patient data."""
    return json.dumps(
        {"type": event_type, "timestamp": timestamp, "data": data}, separators=(",", ":"), sort_keys=True
    )


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- fan-out -----------------------------------------------------------------------------------


def on_domain_event(event: DomainEvent) -> int:
    """Creates and attempts this event's deliveries; returns how many were new."""
    case = get_case(event.case_id)
    if case is None:
        return 0
    created = 0
    # Whose endpoints hear about a case is the access policy's row for CASE_WEBHOOK_RECEIVE.
    receivers = access.audiences(case, access.Action.CASE_WEBHOOK_RECEIVE).values()
    endpoints = [e for r in receivers if r.user_id is not None for e in store.endpoints_of(r.user_id)]
    for endpoint in endpoints:
        if not endpoint.enabled or event.type.value not in endpoint.event_types:
            continue
        now = _clock.now()
        data = {"eventId": event.id, "caseId": event.case_id}
        if event.subject_id:
            data["subjectId"] = event.subject_id
        delivery = new_delivery(
            endpoint,
            f"msg_{event.id}",
            event.type.value,
            event.id,
            event.case_id,
            now,
            thin_payload(event.type.value, event.time, data),
            delivery_id=event_delivery_id(event, endpoint.endpoint_id),
        )
        if store.create_delivery(delivery):
            created += 1
        else:
            # A redelivered event: the delivery exists. If its first attempt never ran (the
            # function died in between), run it now; the attempt's claim stops a double send.
            existing = store.get_delivery(endpoint.endpoint_id, delivery.delivery_id)
            if existing is None or existing.attempts > 0:
                continue
            delivery = existing
        attempt(endpoint, delivery, "first")
    return created


def event_delivery_id(event: DomainEvent, endpoint_id: str) -> str:
    """Deterministic per (event, endpoint), so a redelivered event finds its delivery instead of
    adding one; it starts with the event time, so the delivery log sorts by time."""
    millis = int(_parse_time(event.time).timestamp() * 1000)
    digest = hashlib.sha256(f"{event.id}\x1f{endpoint_id}".encode()).hexdigest()[:8]
    return f"{millis:013d}{digest}"


def new_delivery(
    endpoint: Endpoint,
    message_id: str,
    event_type: str,
    event_id: str,
    case_id: str,
    now: datetime,
    body: str,
    delivery_id: str | None = None,
) -> Delivery:
    return Delivery(
        delivery_id=delivery_id or store.new_delivery_id(now),
        endpoint_id=endpoint.endpoint_id,
        owner_id=endpoint.owner_id,
        message_id=message_id,
        event_type=event_type,
        event_id=event_id,
        case_id=case_id,
        body=body,
        status=DeliveryStatus.PENDING,
        attempts=0,
        created_at=iso(now),
        window_started_at=iso(now),
    )


def due_detail(delivery: Delivery, attempt_key: str) -> dict[str, str]:
    return {
        "ownerId": delivery.owner_id,
        "endpointId": delivery.endpoint_id,
        "deliveryId": delivery.delivery_id,
        "attemptKey": attempt_key,
    }


def on_delivery_due(detail: Any) -> str:
    """A retry timer or an API request to send now. Returns what happened (for logs and tests)."""
    if not isinstance(detail, dict) or not all(
        isinstance(detail.get(k), str) for k in ("ownerId", "endpointId", "deliveryId", "attemptKey")
    ):
        raise ValueError("WebhookDeliveryDue without ownerId/endpointId/deliveryId/attemptKey")
    endpoint = store.get_endpoint(detail["ownerId"], detail["endpointId"])
    delivery = store.get_delivery(detail["endpointId"], detail["deliveryId"])
    if endpoint is None or delivery is None:
        return "gone"  # the endpoint was deleted; its deliveries expire with it
    return attempt(endpoint, delivery, detail["attemptKey"])


# --- one attempt -------------------------------------------------------------------------------


def attempt(endpoint: Endpoint, delivery: Delivery, attempt_key: str) -> str:
    if delivery.status != DeliveryStatus.PENDING:
        return "not-pending"  # succeeded or given up already: a late timer is a no-op
    claim = f"whd:{delivery.delivery_id}:{attempt_key}"
    if not consumers.claim(claim, "webhook_sender", _clock):
        return "duplicate"
    outcome = ""
    try:
        outcome = _attempt_claimed(endpoint, delivery)
    finally:
        if not outcome:  # whatever failed, release the claim so the event's or timer's retry runs it
            consumers.release(claim, "webhook_sender")
    return outcome


def _attempt_claimed(endpoint: Endpoint, delivery: Delivery) -> str:
    now = _clock.now()
    if not endpoint.enabled:
        return _give_up(endpoint, delivery, delivery.attempts, now, None, "endpoint disabled", disable=False)
    status, error = _post(endpoint, delivery, now)
    attempts = delivery.attempts + 1
    tried = replace(
        delivery,
        attempts=attempts,
        last_attempt_at=iso(now),
        last_status_code=status,
        last_error=error or None,
    )
    if status is not None and 200 <= status < 300:
        if store.save_delivery(
            replace(tried, status=DeliveryStatus.SUCCEEDED, next_attempt_at=None), delivery.attempts
        ):
            store.record_success(endpoint, now)
        return "succeeded"
    if status == 410:
        return _give_up(
            endpoint, tried, delivery.attempts, now, status, "the endpoint answered 410 Gone", disable=True
        )
    next_at = now + retry_delay(attempts)
    if next_at > _parse_time(delivery.window_started_at) + RETRY_WINDOW:
        quiet = endpoint.last_success_at is None or endpoint.last_success_at < delivery.window_started_at
        return _give_up(
            endpoint, tried, delivery.attempts, now, status, "no successful delivery for a day", disable=quiet
        )
    if not store.save_delivery(replace(tried, next_attempt_at=iso(next_at)), delivery.attempts):
        return "raced"
    scheduling.schedule_event(
        f"whd-{delivery.delivery_id}", next_at, DELIVERY_DUE, due_detail(delivery, f"retry{attempts}")
    )
    return "retrying"


def _post(endpoint: Endpoint, delivery: Delivery, now: datetime) -> tuple[int | None, str]:
    local = get_settings().stage == "local"
    try:
        target = urls.check(endpoint.url, local_stage=local)  # again now: DNS may have changed
    except DomainError as error:
        return None, error.code.lower()
    timestamp = int(now.timestamp())
    body = delivery.body.encode()
    in_use = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_expires_at
        and endpoint.previous_secret_expires_at > iso(now)
    ):
        in_use.append(endpoint.previous_secret)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.signature_header(in_use, delivery.message_id, timestamp, body),
    }
    response = client.post(
        target.scheme, target.host, target.port, target.path, target.addresses[0], headers, body
    )
    return response.status, response.error


def _give_up(
    endpoint: Endpoint,
    delivery: Delivery,
    expected_attempts: int,
    now: datetime,
    status: int | None,
    reason: str,
    disable: bool,
) -> str:
    final = replace(delivery, status=DeliveryStatus.FAILED, next_attempt_at=None, last_error=reason)
    if not store.save_delivery(final, expected_attempts):
        return "raced"
    _dead_letter(final, reason)
    if disable and store.disable_endpoint(endpoint, reason, now):
        tell_owner_disabled(endpoint, reason)
    return "failed"


def _dead_letter(delivery: Delivery, reason: str) -> None:
    queue_url = get_settings().webhook_dlq_url
    aws.client("sqs").send_message(
        QueueUrl=queue_url,
        MessageBody=json.dumps(
            {
                "endpointId": delivery.endpoint_id,
                "deliveryId": delivery.delivery_id,
                "messageId": delivery.message_id,
                "eventType": delivery.event_type,
                "eventId": delivery.event_id,
                "caseId": delivery.case_id,
                "attempts": delivery.attempts,
                "reason": reason,
            },
            sort_keys=True,
        ),
    )
    logger.warning("webhook delivery dead-lettered", extra={"delivery_id": delivery.delivery_id})


def tell_owner_disabled(endpoint: Endpoint, reason: str) -> None:
    host = urls.parse(endpoint.url, local_stage=True)[1]
    email = templates.endpoint_disabled_email(
        endpoint.owner_email, endpoint.owner_name, endpoint.endpoint_id, host, reason
    )
    notices.deliver(
        notices.Recipient(
            NoticeKind.WEBHOOK_ENDPOINT_DISABLED, realtime.user_audience(endpoint.owner_id), endpoint.owner_id
        ),
        f"webhook-disabled:{endpoint.endpoint_id}:{iso(_clock.now())}",
        templates.title(NoticeKind.WEBHOOK_ENDPOINT_DISABLED, None, ""),
        email,
        _clock,
        subject_id=endpoint.endpoint_id,
    )
