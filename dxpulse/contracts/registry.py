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

import re
from collections.abc import Mapping
from dataclasses import dataclass
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
from dxpulse.contracts.invoice import INVOICE_TOPIC, InvoiceCancelled, InvoiceEvent, InvoiceIssued
from dxpulse.contracts.payment import (
    PAYMENT_TOPIC,
    PaymentEvent,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
)
from dxpulse.errors import DxpulseError

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
_FIELD_PREFIX = re.compile(r"^(?:Value error, )?([a-z_]+): (.*)$", re.S)


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of an event."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class EventValidationError(DxpulseError, ValueError):
    """An event broke the contract. ``errors`` lists every invalid field and why."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("invalid event: " + "; ".join(str(e) for e in errors))


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Turn a pydantic error into (field, reason) pairs, named as on the wire."""
    out: list[FieldError] = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        if loc and loc[0] in EVENT_MODELS:  # discriminated-union tag
            loc = loc[1:]
        message = str(err["msg"])
        kind = err["type"]
        if kind == "extra_forbidden":
            reason = "unknown field (not in the contract)"
        elif kind == "missing":
            reason = "is required"
        elif kind == "union_tag_invalid":
            loc, reason = ["event_type"], _tag_reason(err)
        elif kind == "union_tag_not_found":
            loc, reason = ["event_type"], "is required"
        else:
            reason = message.removeprefix("Value error, ")
            match = _FIELD_PREFIX.match(message)
            if not loc and match:
                loc, reason = [match.group(1)], match.group(2)
        out.append(FieldError(".".join(loc) or "$", reason))
    return out


def _tag_reason(err: Any) -> str:
    ctx = err.get("ctx") or {}
    return f"unknown event type {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"


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
