"""HTTP routes of webhook endpoints. Thin: identify the caller, call the logic."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from caseroom.access import Action
from caseroom.errors import (
    TooManyWebhookEndpoints,
    VersionConflict,
    WebhookDeliveryNotFound,
    WebhookEndpointDisabled,
    WebhookEndpointNotFound,
    WebhookUrlForbiddenAddress,
    WebhookUrlMalformed,
    WebhookUrlNotHttps,
    WebhookUrlUnresolvable,
)
from caseroom.http import current_principal, request_meta
from caseroom.route_support import (
    Cursor,
    IdempotencyKey,
    PageSize,
    ServiceSlot,
    create_once,
    declares,
    raises,
)
from caseroom.webhooks.api import WebhookService
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

router = Router()

EndpointIdPath = Annotated[str, Path(min_length=1, max_length=40, description="Endpoint id, ep_...")]
DeliveryIdPath = Annotated[str, Path(min_length=1, max_length=40)]

_services = ServiceSlot(WebhookService)
service = _services.get
use_service = _services.use  # tests inject a service with a fixed clock


@router.post(
    "/webhooks",
    summary="Register an https endpoint; its signing secret is shown once",
    responses={201: {"description": "Created"}},
)
@declares(Action.WEBHOOK_CREATE)
@raises(
    TooManyWebhookEndpoints,
    WebhookUrlMalformed,
    WebhookUrlNotHttps,
    WebhookUrlForbiddenAddress,
    WebhookUrlUnresolvable,
)
def create_endpoint(
    body: Annotated[CreateEndpointRequest, Body()], idempotency_key: IdempotencyKey = None
) -> tuple[EndpointCreated, int]:
    who, meta = current_principal(router), request_meta(router)
    # A replay returns the first answer, secret included: the idempotency record lives in the
    # same table as the endpoint's secret itself, for 24 h.
    created = create_once(
        "create_webhook",
        who.user_id,
        idempotency_key,
        {"body": body.model_dump(mode="json", by_alias=True)},
        EndpointCreated,
        lambda: service().create(who, body, meta),
        router.lambda_context,
    )
    return created, 201


@router.get("/webhooks", summary="My webhook endpoints")
@declares(Action.WEBHOOK_LIST)
def list_endpoints() -> EndpointList:
    return service().list(current_principal(router))


@router.get("/webhooks/<endpointId>", summary="One of my endpoints (never its secret)")
@declares(Action.WEBHOOK_READ)
@raises(WebhookEndpointNotFound)
def get_endpoint(endpointId: EndpointIdPath) -> EndpointView:
    return service().get(current_principal(router), endpointId)


@router.delete("/webhooks/<endpointId>", summary="Delete an endpoint; nothing more is sent to it")
@declares(Action.WEBHOOK_DELETE)
@raises(WebhookEndpointNotFound)
def delete_endpoint(endpointId: EndpointIdPath) -> DeletedEndpoint:
    return service().delete(current_principal(router), endpointId, request_meta(router))


@router.post("/webhooks/<endpointId>/enable", summary="Re-enable a disabled endpoint")
@declares(Action.WEBHOOK_ENABLE)
@raises(WebhookEndpointNotFound, VersionConflict)
def enable_endpoint(endpointId: EndpointIdPath) -> EndpointView:
    return service().enable(current_principal(router), endpointId, request_meta(router))


@router.post(
    "/webhooks/<endpointId>/rotate-secret",
    summary="New secret; the previous one signs too during the overlap",
)
@declares(Action.WEBHOOK_ROTATE_SECRET)
@raises(WebhookEndpointNotFound, VersionConflict)
def rotate_secret(endpointId: EndpointIdPath, body: Annotated[RotateSecretRequest, Body()]) -> SecretRotated:
    return service().rotate_secret(current_principal(router), endpointId, body, request_meta(router))


@router.post(
    "/webhooks/<endpointId>/test",
    summary="Send a signed test event (WebhookTest) now",
    responses={202: {"description": "Accepted"}},
)
@declares(Action.WEBHOOK_TEST)
@raises(WebhookEndpointNotFound, WebhookEndpointDisabled)
def test_endpoint(
    endpointId: EndpointIdPath,
    idempotency_key: IdempotencyKey = None,  # noqa: PT028 (a route, not a test)
) -> tuple[DeliveryView, int]:
    who = current_principal(router)
    delivery = create_once(
        "webhook_test",
        who.user_id,
        idempotency_key,
        {"endpointId": endpointId},
        DeliveryView,
        lambda: service().test_ping(who, endpointId),
        router.lambda_context,
    )
    return delivery, 202


@router.get("/webhooks/<endpointId>/deliveries", summary="The endpoint's delivery log, newest first")
@declares(Action.WEBHOOK_DELIVERIES_READ)
@raises(WebhookEndpointNotFound)
def list_deliveries(endpointId: EndpointIdPath, limit: PageSize = 25, cursor: Cursor = None) -> DeliveryPage:
    return service().deliveries(current_principal(router), endpointId, limit, cursor, request_meta(router))


@router.post(
    "/webhooks/<endpointId>/deliveries/<deliveryId>/redeliver",
    summary="Send a delivery again now",
    responses={202: {"description": "Accepted"}},
)
@declares(Action.WEBHOOK_REDELIVER)
@raises(WebhookEndpointNotFound, WebhookDeliveryNotFound, WebhookEndpointDisabled, VersionConflict)
def redeliver(
    endpointId: EndpointIdPath, deliveryId: DeliveryIdPath, idempotency_key: IdempotencyKey = None
) -> tuple[DeliveryView, int]:
    who = current_principal(router)
    delivery = create_once(
        "webhook_redeliver",
        who.user_id,
        idempotency_key,
        {"endpointId": endpointId, "deliveryId": deliveryId},
        DeliveryView,
        lambda: service().redeliver(who, endpointId, deliveryId),
        router.lambda_context,
    )
    return delivery, 202
