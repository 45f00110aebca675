"""What a worker does with one source message: a normalised row, or a dead letter.

Example::

    from dxpulse.streams.processor import process

    out = process("dx.dossier.v1", partition=0, offset=7, timestamp_ms=1763600100000,
                  key=b"HS-1", value=b'{"event_type": ...}')
    out.topic   # 'dx.internal.dossier_events.v1', or 'dx.deadletter.v1' when invalid

Pure and deterministic for a given message (apart from a dead letter's first-seen time),
so a replay after a crash produces the same row, which the raw table de-duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson

from dxpulse.contracts import EventValidationError, validate_event
from dxpulse.streams.deadletter import dead_letter
from dxpulse.streams.normalize import Source, to_row
from dxpulse.streams.topics import DEAD_LETTER_TOPIC, ROW_TOPICS

__all__ = ["Output", "process"]


@dataclass(frozen=True)
class Output:
    """One message to produce."""

    topic: str
    key: bytes
    value: bytes

    @property
    def is_dead_letter(self) -> bool:
        return bool(self.topic == DEAD_LETTER_TOPIC)


def process(
    topic: str,
    *,
    partition: int,
    offset: int,
    timestamp_ms: int,
    key: bytes | None,
    value: bytes | None,
    now: datetime | None = None,
) -> Output:
    """Validate and normalise one message from a source topic."""
    try:
        event = validate_event(value if value is not None else b"", topic=topic, now=now)
    except EventValidationError as exc:
        letter = dead_letter(
            topic=topic, partition=partition, offset=offset, key=key, value=value, errors=exc.errors
        )
        return Output(DEAD_LETTER_TOPIC, f"{topic}/{partition}/{offset}".encode(), letter)
    row = to_row(event, Source(topic, partition, offset, timestamp_ms))
    return Output(ROW_TOPICS[topic], event.event_id.encode(), orjson.dumps(row))
