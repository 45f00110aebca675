"""Row batches: many rows per internal message, with the header the sink needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from dxpulse.streams.normalize import Source, to_row
from dxpulse.streams.rowbatch import FORMAT_HEADER, RowBatcher, decode, is_row_batch
from dxpulse.streams.topics import ROW_TOPICS

from .events import DOSSIER, PUBLISHED_MS, build, topic_of

GRACE_S = 300


def row(event_type: str, *, published_ms: int = PUBLISHED_MS, **overrides: object) -> dict:
    topic = topic_of(event_type)
    return to_row(build(event_type, **overrides), Source(topic, 2, 41, published_ms))


def test_message_is_a_header_then_the_rows_unchanged() -> None:
    rows = [row("dossier.received"), row("dossier.completed"), row("dossier.rated")]
    batcher = RowBatcher(ROW_TOPICS["dx.dossier.v1"], grace_seconds=GRACE_S)
    for r in rows:
        batcher.add(r, source_topic="dx.dossier.v1", source_partition=2)
    (message,) = batcher.drain()
    assert (message.topic, message.partition) == ("dx.internal.dossier_events.v1", 2)
    batch = decode(message.value)
    assert [orjson.loads(line) for line in batch.rows.split(b"\n")] == rows
    header = batch.header
    assert header["rows"] == batch.count == 3
    assert (header["source_topic"], header["source_partition"]) == ("dx.dossier.v1", 2)
    minute = int(build("dossier.rated").occurred_at.timestamp()) // 60
    assert header["points"] == [["01", minute]]
    assert header["received"] == [DOSSIER]
    assert header["late"] == 0
    newest = max(build(t).occurred_at for t in ("dossier.received", "dossier.rated"))
    assert header["newest_ms"] == int(newest.timestamp() * 1000)
    assert list(batcher.drain()) == []  # drained


def test_points_cover_every_locality_and_minute() -> None:
    batcher = RowBatcher("t", grace_seconds=GRACE_S)
    base = datetime(2026, 11, 20, 2, 15, 30, tzinfo=UTC)
    for offset_s, locality in [(0, "01"), (20, "01"), (40, "79"), (3600, "01")]:
        occurred = (base + timedelta(seconds=offset_s)).isoformat()
        batcher.add(
            row("invoice.issued", occurred_at=occurred, locality_code=locality),
            source_topic="dx.invoice.v1",
            source_partition=0,
        )
    header = decode(next(batcher.drain()).value).header
    m = int(base.timestamp()) // 60
    assert header["points"] == [["01", m], ["01", m + 60], ["79", m + 1]]


def test_late_rows_are_counted_exactly_at_the_grace_boundary() -> None:
    occurred = build("invoice.cancelled").occurred_at  # 02:15:00.123 UTC
    window_end_ms = (int(occurred.timestamp()) // 60 + 1) * 60_000
    batcher = RowBatcher("t", grace_seconds=GRACE_S)
    for published_ms in (window_end_ms + GRACE_S * 1000, window_end_ms + GRACE_S * 1000 + 1):
        batcher.add(
            row("invoice.cancelled", published_ms=published_ms),
            source_topic="dx.invoice.v1",
            source_partition=0,
        )
    assert decode(next(batcher.drain()).value).header["late"] == 1


def test_messages_are_split_by_size_and_source_partition() -> None:
    r = row("payment.succeeded")
    size = len(orjson.dumps(r)) + 1
    batcher = RowBatcher("t", grace_seconds=GRACE_S, max_bytes=size * 10)
    for _ in range(25):
        batcher.add(r, source_topic="dx.payment.v1", source_partition=1)
    batcher.add(r, source_topic="dx.payment.v1", source_partition=3)
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
