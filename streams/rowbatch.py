"""Row batches: how workers hand normalised rows to the sink over the internal topics.

One internal message carries up to ``max_bytes`` of rows for one raw table, all from one
source partition. Its value is a header line, then one ``JSONEachRow`` line per row::

    {"format":2,"source_topic":"dx.invoice.v1","source_partition":3,"rows":812,
     "points":[["01",29393415],...],"received":["HS-1",...],"late":0,"newest_ms":...}
    {"event_id":"...","event_type":"invoice.issued","occurred_at":"1763604900.123",...}
    ...

The header holds what the sink needs besides the rows: the (locality, minute) windows
they touch (``minute`` in minutes since the epoch), the dossier ids of receipts (their
completions' on-time metrics change), how many rows were late, and the newest event time.
So the sink inserts the rows as they are, without parsing them. The Kafka header
``dx-format: rows-v2`` marks the form; a message without it is one row as a JSON object
(the form before batching), which the sink still accepts.

Example::

    batcher = RowBatcher("dx.internal.invoice_events.v1", grace_seconds=300)
    out = process("dx.invoice.v1", partition=3, ...)          # streams.processor
    batcher.add(out.rows, out.occurred_ms, published_ms=out.published_ms,
                source_topic="dx.invoice.v1", source_partition=3)
    for message in batcher.drain():
        producer.send(message.topic, message.value, partition=message.partition,
                      headers=[FORMAT_HEADER])
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = [
    "FORMAT_HEADER",
    "DecodedBatch",
    "RowBatch",
    "RowBatcher",
    "RowMessage",
    "decode",
    "is_row_batch",
]

#: Kafka header that marks a row-batch message.
FORMAT_HEADER = ("dx-format", b"rows-v2")
#: Default largest message value (the broker's default limit is 1 MiB).
MAX_BYTES = 512 * 1024


@dataclass
class RowBatch:
    """Rows of one raw table from one source partition, and the facts the sink needs."""

    source_topic: str
    source_partition: int
    rows: list[bytes] = field(default_factory=list)
    points: set[tuple[str, int]] = field(default_factory=set)
    received: list[str] = field(default_factory=list)
    late: int = 0
    newest_ms: int = 0
    size: int = 0

    def add(
        self,
        rows: Sequence[dict[str, Any]],
        occurred_ms: Sequence[int],
        *,
        published_ms: int,
        late_after_s: int,
        max_bytes: int | None = None,
    ) -> int:
        """Add rows of one source message; returns how many fitted under ``max_bytes``.

        ``occurred_ms`` is each row's ``occurred_at`` in Unix ms, ``published_ms`` the
        message's Kafka timestamp, ``late_after_s`` 60 + the grace period.
        """
        late_before = published_ms - late_after_s * 1000  # a window starting earlier is late
        lines, points, received = self.rows, self.points, self.received
        size, late, newest = self.size, self.late, self.newest_ms
        added = 0
        for row, ms in zip(rows, occurred_ms, strict=True):
            if max_bytes is not None and size >= max_bytes:
                break
            line = orjson.dumps(row)
            lines.append(line)
            size += len(line) + 1
            minute = ms // 60_000
            points.add((row["locality_code"], minute))
            if minute * 60_000 < late_before:
                late += 1
            if ms > newest:
                newest = ms
            if row["event_type"] == "dossier.received":
                received.append(row["dossier_id"])
            added += 1
        self.size, self.late, self.newest_ms = size, late, newest
        return added

    def encode(self) -> bytes:
        header = {
            "format": 2,
            "source_topic": self.source_topic,
            "source_partition": self.source_partition,
            "rows": len(self.rows),
            "points": sorted(self.points),
            "received": self.received,
            "late": self.late,
            "newest_ms": self.newest_ms,
        }
        return b"\n".join([orjson.dumps(header), *self.rows])


@dataclass(frozen=True)
class RowMessage:
    """One internal message to produce."""

    topic: str
    partition: int
    key: bytes
    value: bytes


class RowBatcher:
    """Collect rows per source partition into messages of at most ``max_bytes``.

    Args:
        topic: the internal topic the messages go to.
        grace_seconds: window grace period (a row published after its minute's end plus
            the grace is late).
        max_bytes: largest message value.
    """

    def __init__(self, topic: str, *, grace_seconds: int, max_bytes: int = MAX_BYTES) -> None:
        self.topic = topic
        self.late_after_s = 60 + grace_seconds
        self.max_bytes = max_bytes
        self._open: dict[tuple[str, int], RowBatch] = {}
        self._full: list[RowBatch] = []

    def add(
        self,
        rows: Sequence[dict[str, Any]],
        occurred_ms: Sequence[int],
        *,
        published_ms: int,
        source_topic: str,
        source_partition: int,
    ) -> None:
        """Add the rows of one source message (``occurred_ms``: each row's event time)."""
        key = (source_topic, source_partition)
        while rows:
            batch = self._open.get(key)
            if batch is None:
                batch = self._open[key] = RowBatch(source_topic, source_partition)
            added = batch.add(
                rows,
                occurred_ms,
                published_ms=published_ms,
                late_after_s=self.late_after_s,
                max_bytes=self.max_bytes,
            )
            rows, occurred_ms = rows[added:], occurred_ms[added:]
            if batch.size >= self.max_bytes:
                self._full.append(self._open.pop(key))

    def drain(self) -> Iterator[RowMessage]:
        """Every batch collected so far, as messages (the batcher is empty afterwards)."""
        batches, self._full = [*self._full, *self._open.values()], []
        self._open = {}
        for batch in batches:
            key = f"{batch.source_topic}/{batch.source_partition}".encode()
            yield RowMessage(self.topic, batch.source_partition, key, batch.encode())


@dataclass(frozen=True)
class DecodedBatch:
    """A row-batch message taken apart: its header and its ``JSONEachRow`` rows."""

    header: dict[str, Any]
    rows: bytes

    @property
    def count(self) -> int:
        return int(self.header["rows"])


def is_row_batch(headers: Any) -> bool:
    """Whether a message's Kafka headers (a list of (key, value)) mark a row batch."""
    return bool(headers) and any(
        k == FORMAT_HEADER[0] and v == FORMAT_HEADER[1] for k, v in headers
    )


def decode(value: bytes) -> DecodedBatch:
    """Split a row-batch message into its header and rows."""
    head, _, rows = value.partition(b"\n")
    return DecodedBatch(orjson.loads(head), rows)
