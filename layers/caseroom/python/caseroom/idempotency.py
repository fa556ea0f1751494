"""Idempotency-Key support for creates, on Powertools' idempotency utility.

A retried request with the same key and body returns the stored response; the same key
with another body is refused; a duplicate still running gets 409 + Retry-After.
The persistence layer is built on first use, never at import (it needs settings and a
client). Records live in the single table, partitioned per user so no partition is hot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from caseroom import aws
from caseroom.errors import IdempotencyInProgress, IdempotencyKeyReused, InvalidRequest
from caseroom.settings import get_settings

Model = TypeVar("Model", bound=BaseModel)
KEY_MAX_LENGTH = 255
RETENTION_SECONDS = 24 * 3600


def run_once(
    namespace: str,
    user_id: str,
    key: str,
    payload: dict[str, Any],
    output: type[Model],
    action: Callable[[], Model],
    lambda_context: Any = None,
) -> Model:
    if not key or len(key) > KEY_MAX_LENGTH or not key.isprintable():
        raise InvalidRequest("Idempotency-Key must be 1-255 printable characters.")
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )
    from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import (
        PydanticSerializer,
    )

    store = DynamoDBPersistenceLayer(
        table_name=get_settings().table_name,
        key_attr="pk",
        sort_key_attr="sk",
        static_pk_value=f"IDEMPOTENCY#{namespace}#{user_id}",
        expiry_attr="ttl",
        boto3_client=aws.client("dynamodb"),
    )
    config = IdempotencyConfig(
        event_key_jmespath="[user, key]",
        payload_validation_jmespath="payload",
        expires_after_seconds=RETENTION_SECONDS,
    )
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)

    def perform(request: dict[str, Any]) -> Model:
        return action()

    perform.__name__ = f"{namespace}_once"
    guarded = idempotent_function(
        data_keyword_argument="request",
        persistence_store=store,
        config=config,
        output_serializer=PydanticSerializer(model=output),
    )(perform)
    try:
        result: Model = guarded(request={"user": user_id, "key": key, "payload": payload})
    except IdempotencyAlreadyInProgressError as exc:
        raise IdempotencyInProgress() from exc
    except IdempotencyValidationError as exc:
        raise IdempotencyKeyReused() from exc
    return result
