"""What a worker does with one source message: normalised rows, and dead letters.

Example::

    from dxpulse.streams.processor import process

    out = process("dx.dossier.v1", partition=0, offset=7, timestamp_ms=1763600100000,
                  key=b"HS-1", value=b'[{"event_type": ...}, {...}]')
    out.rows            # raw-table rows of the valid events (see normalize.to_row)
    out.dead_letters    # (key, value) for dx.deadletter.v1: one per rejected event

A message is one event or a batch of events (see :mod:`dxpulse.contracts.batch`); each
event is judged on its own. Pure and deterministic for a given message (apart from a
dead letter's first-seen time), so a replay after a crash produces the same rows, which
the raw tables de-duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dxpulse.contracts.batch import validate_message
from dxpulse.streams.deadletter import dead_letter
from dxpulse.streams.normalize import Source, to_rows
from dxpulse.streams.topics import DEAD_LETTER_TOPIC, ROW_TOPICS

__all__ = ["DEAD_LETTER_TOPIC", "Processed", "process"]


@dataclass
class Processed:
    """The outcome of one source message."""

    row_topic: str
    #: the message's Kafka timestamp (ms)
    published_ms: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    #: each row's ``occurred_at`` in Unix milliseconds (for the sink's window bookkeeping)
    occurred_ms: list[int] = field(default_factory=list)
    dead_letters: list[tuple[bytes, bytes]] = field(default_factory=list)


def process(
    topic: str,
    *,
    partition: int,
    offset: int,
    timestamp_ms: int,
    key: bytes | None,
    value: bytes | None,
    now: datetime | None = None,
) -> Processed:
    """Validate and normalise every event of one message from a source topic."""
    checked = validate_message(value, topic=topic, now=now)
    out = Processed(ROW_TOPICS.get(topic, DEAD_LETTER_TOPIC), published_ms=timestamp_ms)
    if checked.events:
        source = Source(topic, partition, offset, timestamp_ms)
        out.rows, out.occurred_ms = to_rows([event for _, event in checked.events], source)
    for rejected in checked.rejected:
        index = rejected.index
        letter_key = f"{topic}/{partition}/{offset}" + ("" if index is None else f"/{index}")
        letter = dead_letter(
            topic=topic,
            partition=partition,
            offset=offset,
            index=index,
            key=key,
            value=rejected.payload if index is not None else value,
            errors=rejected.errors,
        )
        out.dead_letters.append((letter_key.encode(), letter))
    return out
