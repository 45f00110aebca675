"""Row batches: many rows per internal message, with the header the sink needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from dxpulse.contracts import EventBase
from dxpulse.streams.normalize import Source, to_rows
from dxpulse.streams.rowbatch import FORMAT_HEADER, RowBatcher, decode, is_row_batch
from dxpulse.streams.topics import ROW_TOPICS

from .events import DOSSIER, PUBLISHED_MS, build, topic_of

GRACE_S = 300


def add(
    batcher: RowBatcher,
    events: list[EventBase],
    *,
    published_ms: int = PUBLISHED_MS,
    partition: int = 2,
) -> list[dict[str, Any]]:
    """Normalise ``events`` as one message would be, add them, return the rows."""
    topic = topic_of(events[0].event_type)
    rows, occurred = to_rows(events, Source(topic, partition, 41, published_ms))
    batcher.add(
        rows,
        occurred,
        published_ms=published_ms,
        source_topic=topic,
        source_partition=partition,
    )
    return rows


def test_message_is_a_header_then_the_rows_unchanged() -> None:
    events = [build(t) for t in ("dossier.received", "dossier.completed", "dossier.rated")]
    batcher = RowBatcher(ROW_TOPICS["dx.dossier.v1"], grace_seconds=GRACE_S)
    rows = add(batcher, events)
    (message,) = batcher.drain()
    assert (message.topic, message.partition) == ("dx.internal.dossier_events.v1", 2)
    batch = decode(message.value)
    assert [orjson.loads(line) for line in batch.rows.split(b"\n")] == rows
    header = batch.header
    assert header["rows"] == batch.count == 3
    assert (header["source_topic"], header["source_partition"]) == ("dx.dossier.v1", 2)
    minute = int(events[2].occurred_at.timestamp()) // 60
    assert header["points"] == [["01", minute]]
    assert header["received"] == [DOSSIER]
    assert header["late"] == 0
    newest = max(e.occurred_at for e in events)
    assert header["newest_ms"] == int(newest.timestamp() * 1000)
    assert list(batcher.drain()) == []  # drained


def test_points_cover_every_locality_and_minute() -> None:
    batcher = RowBatcher("t", grace_seconds=GRACE_S)
    base = datetime(2026, 11, 20, 2, 15, 30, tzinfo=UTC)
    events = [
        build(
            "invoice.issued",
            occurred_at=(base + timedelta(seconds=s)).isoformat(),
            locality_code=loc,
        )
        for s, loc in [(0, "01"), (20, "01"), (40, "79"), (3600, "01")]
    ]
    add(batcher, events)
    header = decode(next(batcher.drain()).value).header
    m = int(base.timestamp()) // 60
    assert header["points"] == [["01", m], ["01", m + 60], ["79", m + 1]]


def test_late_rows_are_counted_exactly_at_the_grace_boundary() -> None:
    event = build("invoice.cancelled")  # 02:15:00.123 UTC
    window_end_ms = (int(event.occurred_at.timestamp()) // 60 + 1) * 60_000
    batcher = RowBatcher("t", grace_seconds=GRACE_S)
    for published_ms in (window_end_ms + GRACE_S * 1000, window_end_ms + GRACE_S * 1000 + 1):
        add(batcher, [event], published_ms=published_ms)
    assert decode(next(batcher.drain()).value).header["late"] == 1


def test_messages_are_split_by_size_and_source_partition() -> None:
    event = build("payment.succeeded")
    size = len(orjson.dumps(add(RowBatcher("x", grace_seconds=0), [event])[0])) + 1
    batcher = RowBatcher("t", grace_seconds=GRACE_S, max_bytes=size * 10)
    for _ in range(5):
        add(batcher, [event] * 5, partition=1)
    add(batcher, [event], partition=3)
    messages = list(batcher.drain())
    counts = sorted((m.partition, decode(m.value).count) for m in messages)
    assert counts == [(1, 5), (1, 10), (1, 10), (3, 1)]
    assert all(len(decode(m.value).rows) <= size * 10 for m in messages)


def test_the_format_header_marks_row_batches() -> None:
    assert is_row_batch([FORMAT_HEADER])
    assert is_row_batch([("other", b"x"), FORMAT_HEADER])
    assert not is_row_batch([])
    assert not is_row_batch(None)
    assert not is_row_batch([("dx-format", b"rows-v3")])
