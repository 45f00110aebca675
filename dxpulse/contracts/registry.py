"""Every event type, its topic, and one validation entry point that reports all problems.

Example::

    from dxpulse.contracts import EventValidationError, validate_event

    try:
        event = validate_event(b'{"event_type": "dossier.rated", ...}')
    except EventValidationError as exc:
        for problem in exc.errors:
            print(problem.field, problem.reason)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

import orjson
from pydantic import Field, TypeAdapter, ValidationError

from dxpulse.contracts.common import EventBase
from dxpulse.contracts.dossier import (
    DOSSIER_TOPIC,
    DossierCompleted,
    DossierEvent,
    DossierRated,
    DossierReceived,
)
from dxpulse.contracts.errors import EventValidationError, FieldError, field_errors
from dxpulse.contracts.invoice import INVOICE_TOPIC, InvoiceCancelled, InvoiceEvent, InvoiceIssued
from dxpulse.contracts.payment import (
    PAYMENT_TOPIC,
    PaymentEvent,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
)

__all__ = [
    "DEAD_LETTER_TOPIC",
    "EVENT_MODELS",
    "TOPIC_ADAPTERS",
    "TOPIC_KEYS",
    "Event",
    "EventValidationError",
    "FieldError",
    "field_errors",
    "validate_event",
]

DEAD_LETTER_TOPIC = "dx.deadletter.v1"

Event = Annotated[
    DossierReceived
    | DossierCompleted
    | DossierRated
    | InvoiceIssued
    | InvoiceCancelled
    | PaymentSucceeded
    | PaymentFailed
    | PaymentRefunded,
    Field(discriminator="event_type"),
]

#: event_type -> model class.
EVENT_MODELS: dict[str, type[EventBase]] = {
    "dossier.received": DossierReceived,
    "dossier.completed": DossierCompleted,
    "dossier.rated": DossierRated,
    "invoice.issued": InvoiceIssued,
    "invoice.cancelled": InvoiceCancelled,
    "payment.succeeded": PaymentSucceeded,
    "payment.failed": PaymentFailed,
    "payment.refunded": PaymentRefunded,
}

#: topic -> validator of that topic's discriminated union.
TOPIC_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    DOSSIER_TOPIC: TypeAdapter(DossierEvent),
    INVOICE_TOPIC: TypeAdapter(InvoiceEvent),
    PAYMENT_TOPIC: TypeAdapter(PaymentEvent),
}

#: topic -> field used as the message key.
TOPIC_KEYS: dict[str, str] = {
    DOSSIER_TOPIC: "dossier_id",
    INVOICE_TOPIC: "invoice_id",
    PAYMENT_TOPIC: "payment_id",
}

_ANY_EVENT: TypeAdapter[Any] = TypeAdapter(Event)


def validate_event(
    data: bytes | str | Mapping[str, Any] | EventBase,
    *,
    topic: str | None = None,
    now: datetime | None = None,
) -> Any:
    """Validate one event (JSON bytes/str, a mapping or a model) against the contract.

    ``topic``, when given, restricts the event to that topic's types. ``now`` overrides
    the clock for the "not more than 10 minutes in the future" rule. Returns the model
    instance; raises :class:`EventValidationError` listing every problem.
    """
    if isinstance(data, EventBase):
        data = data.model_dump()
    elif isinstance(data, bytes | bytearray | memoryview | str):
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise EventValidationError([FieldError("$", f"invalid JSON: {exc}")]) from None
    if not isinstance(data, Mapping):
        raise EventValidationError(
            [FieldError("$", f"must be a JSON object, got {type(data).__name__}")]
        )
    if topic is not None:
        adapter = TOPIC_ADAPTERS.get(topic)
        if adapter is None:
            raise EventValidationError([FieldError("$", f"unknown topic {topic!r}")])
        event_type = data.get("event_type")
        model = EVENT_MODELS.get(event_type) if isinstance(event_type, str) else None
        if model is not None and model.topic != topic:
            raise EventValidationError(
                [FieldError("event_type", f"{event_type!r} belongs on {model.topic}, not {topic}")]
            )
    else:
        adapter = _ANY_EVENT
    context = {"now": now} if now is not None else None
    try:
        return adapter.validate_python(data, context=context)
    except ValidationError as exc:
        raise EventValidationError(field_errors(exc)) from None
