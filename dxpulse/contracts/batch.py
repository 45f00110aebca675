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
from typing import Any

import orjson
from pydantic import ValidationError

from dxpulse.contracts.common import EventBase
from dxpulse.contracts.errors import EventValidationError, FieldError
from dxpulse.contracts.registry import TOPIC_ADAPTERS, validate_event

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

    A batch is parsed once (orjson); each event is then validated on its own, so one bad
    event costs only itself (a whole-batch validation would have to be redone).
    """
    data = value if value is not None else b""
    if not is_batch(data):
        try:
            return MessageEvents(False, [(0, validate_event(data, topic=topic, now=now))])
        except EventValidationError as exc:
            return MessageEvents(False, rejected=[Rejected(None, data, exc.errors)])
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
    adapter = TOPIC_ADAPTERS.get(topic)
    context = {"now": now} if now is not None else None
    events = result.events
    for index, item in enumerate(items):
        if adapter is not None:
            try:
                events.append((index, adapter.validate_python(item, context=context)))
                continue
            except ValidationError:
                pass  # judged again below, for the precise reasons
        try:  # the same rules with the contract's full error reporting
            events.append((index, validate_event(item, topic=topic, now=now)))
        except EventValidationError as exc:
            result.rejected.append(Rejected(index, orjson.dumps(item), exc.errors))
    return result
