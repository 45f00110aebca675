"""Batched messages: one Kafka message carrying a JSON array of events (contract v1).

A message on a source topic is either **one event** (a JSON object) or a **batch**: a
JSON array of 1 to :data:`MAX_BATCH_EVENTS` event objects, at most
:data:`MAX_BATCH_BYTES` encoded. Rules for a batch:

* every event belongs to the message's topic;
* every event's key (``dossier_id``, ``invoice_id`` or ``payment_id``) maps to the
  message's partition under Kafka's default partitioner,
  ``(murmur2(key) & 0x7FFFFFFF) % partitions``, so per-key order and co-partitioning
  hold exactly as if each event had been sent alone with its key;
* the message key is the key of the first event.

Each event in a batch is judged on its own: valid events are accepted, an invalid one
becomes its own dead letter (with its position in the batch) and does not affect its
neighbours. A message that is not valid JSON, or an array that is empty or too long, is
one dead letter. The SDK batches by default; single-event messages stay valid.

Example::

    from dxpulse.contracts.batch import validate_message

    result = validate_message(b'[{"event_type": "invoice.issued", ...}, {...}]',
                              topic="dx.invoice.v1")
    for index, event in result.events:
        ...
    for rejected in result.rejected:
        print(rejected.index, rejected.errors)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

import orjson
from pydantic import Field, TypeAdapter, ValidationError

from dxpulse.contracts.common import EventBase
from dxpulse.contracts.dossier import DOSSIER_TOPIC, DossierEvent
from dxpulse.contracts.errors import EventValidationError, FieldError
from dxpulse.contracts.invoice import INVOICE_TOPIC, InvoiceEvent
from dxpulse.contracts.payment import PAYMENT_TOPIC, PaymentEvent
from dxpulse.contracts.registry import validate_event

__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_BATCH_EVENTS",
    "MessageEvents",
    "Rejected",
    "is_batch",
    "validate_message",
]

#: Most events one batched message may carry.
MAX_BATCH_EVENTS = 1000
#: Largest batched message, in bytes (the broker's default ``message.max.bytes``).
MAX_BATCH_BYTES = 1024 * 1024

#: topic -> validator of a whole batch (one pass, JSON parsed by pydantic-core).
_LIST_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    DOSSIER_TOPIC: TypeAdapter(Annotated[list[DossierEvent], Field(max_length=MAX_BATCH_EVENTS)]),
    INVOICE_TOPIC: TypeAdapter(Annotated[list[InvoiceEvent], Field(max_length=MAX_BATCH_EVENTS)]),
    PAYMENT_TOPIC: TypeAdapter(Annotated[list[PaymentEvent], Field(max_length=MAX_BATCH_EVENTS)]),
}


@dataclass(frozen=True)
class Rejected:
    """An event (or a whole message, ``index`` None) that broke the contract.

    ``payload`` is what is kept in the dead letter: the event's own JSON for an event of
    a batch, the original bytes for a single-event message or an unusable batch.
    """

    index: int | None
    payload: bytes
    errors: list[FieldError]


@dataclass
class MessageEvents:
    """What one source message holds: its valid events and its rejects."""

    batched: bool
    events: list[tuple[int, EventBase]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def is_batch(value: bytes) -> bool:
    """Whether ``value`` is in the batched form (a JSON array)."""
    return value.lstrip(b" \t\r\n")[:1] == b"["


def validate_message(
    value: bytes | None, *, topic: str, now: datetime | None = None
) -> MessageEvents:
    """Validate one source message, in either form, against ``topic``'s contract.

    All events of a valid batch are validated in one pass (pydantic-core parses the JSON);
    only a batch with a problem is taken apart to judge each event on its own.
    """
    data = value if value is not None else b""
    context = {"now": now} if now is not None else None
    if not is_batch(data):
        try:
            return MessageEvents(False, [(0, validate_event(data, topic=topic, now=now))])
        except EventValidationError as exc:
            return MessageEvents(False, rejected=[Rejected(None, data, exc.errors)])
    adapter = _LIST_ADAPTERS.get(topic)
    if adapter is not None and len(data) <= MAX_BATCH_BYTES:
        try:
            models = adapter.validate_json(data, context=context)
        except ValidationError:
            pass  # judge each event below, with the precise reasons
        else:
            if models:
                return MessageEvents(True, list(enumerate(models)))
    return _one_by_one(data, topic=topic, now=now)


def _one_by_one(data: bytes, *, topic: str, now: datetime | None) -> MessageEvents:
    result = MessageEvents(True)
    whole: FieldError | None = None
    items: Any = None
    try:
        items = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        whole = FieldError("$", f"invalid JSON: {exc}")
    if whole is None:
        if len(data) > MAX_BATCH_BYTES:
            whole = FieldError("$", f"batch is {len(data)} bytes; at most {MAX_BATCH_BYTES}")
        elif not items:
            whole = FieldError("$", "batch is empty; send 1 to 1000 events")
        elif len(items) > MAX_BATCH_EVENTS:
            whole = FieldError("$", f"batch has {len(items)} events; at most {MAX_BATCH_EVENTS}")
    if whole is not None:
        result.rejected.append(Rejected(None, data, [whole]))
        return result
    for index, item in enumerate(items):
        try:
            result.events.append((index, validate_event(item, topic=topic, now=now)))
        except EventValidationError as exc:
            result.rejected.append(Rejected(index, orjson.dumps(item), exc.errors))
    return result
