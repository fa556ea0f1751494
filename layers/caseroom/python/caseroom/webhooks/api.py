"""The rules of the /webhooks routes. Clinicians only; an endpoint is only ever looked up
under the caller's own partition, so nobody reaches another user's endpoints or deliveries."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import timedelta

from caseroom import access, audit_store
from caseroom.access import Action
from caseroom.audit import AuditRecord, RequestMeta, user_record
from caseroom.auth import Principal
from caseroom.clock import Clock, SystemClock, iso
from caseroom.errors import (
    TooManyWebhookEndpoints,
    VersionConflict,
    WebhookDeliveryNotFound,
    WebhookEndpointDisabled,
    WebhookEndpointNotFound,
)
from caseroom.paging import PageRequest
from caseroom.settings import get_settings
from caseroom.webhooks import sender, signing, store, urls
from caseroom.webhooks.models import (
    CreateEndpointRequest,
    DeletedEndpoint,
    DeliveryPage,
    DeliveryView,
    EndpointCreated,
    EndpointList,
    EndpointView,
    RotateSecretRequest,
    SecretRotated,
)
from caseroom.webhooks.store import Delivery, DeliveryStatus, Endpoint


def _view(endpoint: Endpoint) -> EndpointView:
    return EndpointView(
        endpoint_id=endpoint.endpoint_id,
        url=endpoint.url,
        event_types=list(endpoint.event_types),
        description=endpoint.description,
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        created_at=endpoint.created_at,
        secret_rotated_at=endpoint.secret_rotated_at,
        previous_secret_expires_at=endpoint.previous_secret_expires_at,
        last_success_at=endpoint.last_success_at,
    )


def _delivery_view(delivery: Delivery) -> DeliveryView:
    return DeliveryView(
        delivery_id=delivery.delivery_id,
        message_id=delivery.message_id,
        event_type=delivery.event_type,
        event_id=delivery.event_id,
        case_id=delivery.case_id,
        status=delivery.status,
        attempts=delivery.attempts,
        created_at=delivery.created_at,
        last_attempt_at=delivery.last_attempt_at,
        next_attempt_at=delivery.next_attempt_at,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
    )


def send_now(delivery: Delivery, attempt_key: str) -> None:
    """Asks the sender to attempt this delivery now (an event on the bus; the API never posts
    to clinics' systems itself, so its requests stay fast and every attempt is logged alike)."""
    from caseroom import aws

    response = aws.client("events").put_events(
        Entries=[
            {
                "Source": sender.SENDER_SOURCE,
                "DetailType": sender.DELIVERY_DUE,
                "Detail": json.dumps(sender.due_detail(delivery, attempt_key)),
                "EventBusName": get_settings().event_bus_name,
            }
        ]
    )
    if response.get("FailedEntryCount"):
        raise RuntimeError("the delivery request could not be put on the bus")


@dataclass
class WebhookService:
    clock: Clock = field(default_factory=SystemClock)

    def _endpoint(self, who: Principal, endpoint_id: str, action: Action) -> Endpoint:
        # Endpoints are stored under their owner's partition, so another user's id is never read.
        endpoint = store.get_endpoint(who.user_id, endpoint_id) if endpoint_id.startswith("ep_") else None
        if endpoint is None or not access.endpoint_allows(who, action, endpoint.owner_id):
            raise WebhookEndpointNotFound()
        return endpoint

    def _audit(self, who: Principal, meta: RequestMeta, action: str, endpoint_id: str) -> AuditRecord:
        return user_record(
            who,
            meta,
            action,
            case_id=None,
            object_type="webhook-endpoint",
            object_id=endpoint_id,
            at=iso(self.clock.now()),
        )

    def create(self, who: Principal, request: CreateEndpointRequest, meta: RequestMeta) -> EndpointCreated:
        access.require_account(who, Action.WEBHOOK_CREATE)
        urls.check(request.url, local_stage=get_settings().stage == "local")
        if len(store.endpoints_of(who.user_id)) >= store.MAX_ENDPOINTS_PER_USER:
            raise TooManyWebhookEndpoints()
        endpoint = Endpoint(
            endpoint_id=store.new_endpoint_id(),
            owner_id=who.user_id,
            owner_email=who.email,
            owner_name=who.name,
            url=request.url,
            event_types=tuple(dict.fromkeys(t.value for t in request.event_types)),
            description=request.description,
            enabled=True,
            created_at=iso(self.clock.now()),
            secret=signing.new_secret(),
        )
        store.put_endpoint(
            endpoint,
            also=[
                audit_store.audit_put_action(self._audit(who, meta, "webhook.create", endpoint.endpoint_id))
            ],
        )
        return EndpointCreated(**_view(endpoint).model_dump(), secret=endpoint.secret)

    def list(self, who: Principal) -> EndpointList:
        access.require_account(who, Action.WEBHOOK_LIST)
        return EndpointList(items=[_view(e) for e in store.endpoints_of(who.user_id)])

    def get(self, who: Principal, endpoint_id: str) -> EndpointView:
        return _view(self._endpoint(who, endpoint_id, Action.WEBHOOK_READ))

    def delete(self, who: Principal, endpoint_id: str, meta: RequestMeta) -> DeletedEndpoint:
        endpoint = self._endpoint(who, endpoint_id, Action.WEBHOOK_DELETE)
        store.delete_endpoint(
            who.user_id,
            endpoint.endpoint_id,
            also=[
                audit_store.audit_put_action(self._audit(who, meta, "webhook.delete", endpoint.endpoint_id))
            ],
        )
        return DeletedEndpoint(endpoint_id=endpoint.endpoint_id)

    def enable(self, who: Principal, endpoint_id: str, meta: RequestMeta) -> EndpointView:
        endpoint = self._endpoint(who, endpoint_id, Action.WEBHOOK_ENABLE)
        if endpoint.enabled:
            return _view(endpoint)
        urls.check(endpoint.url, local_stage=get_settings().stage == "local")
        enabled = replace(endpoint, enabled=True, disabled_reason=None, disabled_at=None)
        audit = audit_store.audit_put_action(self._audit(who, meta, "webhook.enable", endpoint.endpoint_id))
        if not store.replace_endpoint(endpoint, enabled, also=[audit]):
            raise VersionConflict("The endpoint changed meanwhile; reload it and try again.")
        return _view(enabled)

    def rotate_secret(
        self, who: Principal, endpoint_id: str, request: RotateSecretRequest, meta: RequestMeta
    ) -> SecretRotated:
        endpoint = self._endpoint(who, endpoint_id, Action.WEBHOOK_ROTATE_SECRET)
        now = self.clock.now()
        overlap = timedelta(minutes=request.overlap_minutes)
        rotated = replace(
            endpoint,
            secret=signing.new_secret(),
            secret_rotated_at=iso(now),
            previous_secret=endpoint.secret if overlap else None,
            previous_secret_expires_at=iso(now + overlap) if overlap else None,
        )
        audit = audit_store.audit_put_action(
            self._audit(who, meta, "webhook.rotate_secret", endpoint.endpoint_id)
        )
        if not store.replace_endpoint(endpoint, rotated, also=[audit]):
            raise VersionConflict("The endpoint changed meanwhile (another rotation?); try again.")
        return SecretRotated(
            endpoint_id=endpoint.endpoint_id,
            secret=rotated.secret,
            previous_secret_expires_at=rotated.previous_secret_expires_at,
        )

    def deliveries(
        self, who: Principal, endpoint_id: str, limit: int, cursor: str | None, meta: RequestMeta
    ) -> DeliveryPage:
        endpoint = self._endpoint(who, endpoint_id, Action.WEBHOOK_DELIVERIES_READ)
        page = PageRequest(who, meta, limit, cursor, self.clock.now())
        items, next_cursor = store.list_deliveries(endpoint.endpoint_id, page)
        return DeliveryPage(items=[_delivery_view(d) for d in items], next_cursor=next_cursor)

    def test_ping(self, who: Principal, endpoint_id: str) -> DeliveryView:
        endpoint = self._endpoint(who, endpoint_id, Action.WEBHOOK_TEST)
        if not endpoint.enabled:
            raise WebhookEndpointDisabled()
        now = self.clock.now()
        body = sender.thin_payload(sender.TEST_EVENT_TYPE, iso(now), {"endpointId": endpoint.endpoint_id})
        delivery = sender.new_delivery(
            endpoint, "msg_test_" + secrets.token_hex(12), sender.TEST_EVENT_TYPE, "", "", now, body
        )
        store.create_delivery(delivery)
        send_now(delivery, "first")
        return _delivery_view(delivery)

    def redeliver(self, who: Principal, endpoint_id: str, delivery_id: str) -> DeliveryView:
        endpoint = self._endpoint(who, endpoint_id, Action.WEBHOOK_REDELIVER)
        now_epoch = int(self.clock.now().timestamp())
        delivery = (
            store.get_delivery(endpoint.endpoint_id, delivery_id, now_epoch)
            if delivery_id.isalnum()
            else None
        )
        if delivery is None:
            raise WebhookDeliveryNotFound()
        if not endpoint.enabled:
            raise WebhookEndpointDisabled()
        now = self.clock.now()
        again = replace(
            delivery, status=DeliveryStatus.PENDING, window_started_at=iso(now), next_attempt_at=iso(now)
        )
        if not store.save_delivery(again, delivery.attempts):
            raise VersionConflict("The delivery is being attempted right now; try again shortly.")
        send_now(again, f"manual{secrets.token_hex(6)}")
        return _delivery_view(again)
