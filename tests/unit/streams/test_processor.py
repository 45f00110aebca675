"""processor.process: one source message -> a normalised row or a dead letter, deterministically."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from dxpulse.contracts import (
    DEAD_LETTER_TOPIC,
    DOSSIER_TOPIC,
    INVOICE_TOPIC,
    PAYMENT_TOPIC,
    validate_event,
)
from dxpulse.streams.normalize import Source, ch_time, to_row
from dxpulse.streams.processor import process
from dxpulse.streams.topics import ROW_TOPICS, SOURCE_TOPICS

from .events import EVENT_ID, EVENT_TYPES, NOW, topic_of, wire, wire_bytes

TIMESTAMP_MS = int(datetime(2026, 11, 20, 2, 15, 30, tzinfo=UTC).timestamp() * 1000)


@dataclass(frozen=True)
class Output:
    """The one thing a single-event message produces: a row or a dead letter."""

    topic: str
    key: bytes
    value: bytes

    @property
    def is_dead_letter(self) -> bool:
        return self.topic == DEAD_LETTER_TOPIC


def run(topic: str, value: bytes | None, **kwargs: Any) -> Output:
    kwargs.setdefault("partition", 2)
    kwargs.setdefault("offset", 41)
    kwargs.setdefault("timestamp_ms", TIMESTAMP_MS)
    kwargs.setdefault("key", b"HS-1")
    kwargs.setdefault("now", NOW)
    out = process(topic, value=value, **kwargs)
    assert len(out.rows) + len(out.dead_letters) == 1
    if out.dead_letters:
        return Output(DEAD_LETTER_TOPIC, *out.dead_letters[0])
    (row,) = out.rows
    return Output(out.row_topic, row["event_id"].encode(), orjson.dumps(row))


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_valid_event_goes_to_its_internal_topic(event_type: str) -> None:
    topic = topic_of(event_type)
    value = wire_bytes(event_type)
    out = run(topic, value)
    assert out.topic == ROW_TOPICS[topic]
    assert not out.is_dead_letter
    assert out.key == EVENT_ID.encode()
    expected = to_row(
        validate_event(value, topic=topic, now=NOW), Source(topic, 2, 41, TIMESTAMP_MS)
    )
    assert orjson.loads(out.value) == expected


def test_every_source_topic_has_an_internal_topic() -> None:
    assert set(ROW_TOPICS) == set(SOURCE_TOPICS)
    assert DEAD_LETTER_TOPIC not in ROW_TOPICS.values()
    assert len(set(ROW_TOPICS.values())) == len(ROW_TOPICS)


def test_key_is_the_event_id_whatever_the_message_key() -> None:
    value = wire_bytes("dossier.rated", event_id=EVENT_ID.upper())
    for key in (b"HS-1", b"other", None):
        out = run(DOSSIER_TOPIC, value, key=key)
        assert out.key == EVENT_ID.encode()  # normalised to lower case
        assert orjson.loads(out.value)["event_id"] == EVENT_ID


def test_row_carries_source_coordinates_and_normalised_locality() -> None:
    out = run(
        DOSSIER_TOPIC,
        wire_bytes("dossier.completed", locality_code="27"),
        partition=3,
        offset=9_999_999_999,
    )
    row = orjson.loads(out.value)
    assert row["source_topic"] == DOSSIER_TOPIC
    assert row["source_partition"] == 3
    assert row["source_offset"] == 9_999_999_999
    assert row["published_at"] == ch_time(datetime(2026, 11, 20, 2, 15, 30, tzinfo=UTC))
    assert (row["locality_code"], row["source_locality_code"]) == ("24", "27")


@pytest.mark.parametrize(
    ("topic", "value", "reason"),
    [
        (DOSSIER_TOPIC, b"{not json", "invalid_json"),
        (INVOICE_TOPIC, b"5", "not_an_object"),
        (INVOICE_TOPIC, b'"text"', "not_an_object"),
        (INVOICE_TOPIC, b"[]", "invalid_batch"),
        (INVOICE_TOPIC, b"[1, 2", "invalid_json"),
        (DOSSIER_TOPIC, wire_bytes("dossier.rated", event_type="dossier.x"), "unknown_event_type"),
        (PAYMENT_TOPIC, wire_bytes("payment.failed", locality_code="99"), "unknown_locality"),
        (DOSSIER_TOPIC, wire_bytes("dossier.rated", dossier_id="001234567890"), "citizen_id"),
        (
            DOSSIER_TOPIC,
            wire_bytes("dossier.received", due_at=wire("dossier.received")["occurred_at"]),
            "contract",
        ),
    ],
)
def test_invalid_event_becomes_a_dead_letter(topic: str, value: bytes, reason: str) -> None:
    out = run(topic, value, partition=1, offset=1041, key=b"K-1")
    assert out.topic == DEAD_LETTER_TOPIC
    assert out.is_dead_letter
    assert out.key == f"{topic}/1/1041".encode()
    letter = orjson.loads(out.value)
    assert letter["reason"] == reason
    assert letter["source_topic"] == topic
    assert letter["source_partition"] == 1
    assert letter["source_offset"] == 1041
    assert letter["key"] == "K-1"
    assert letter["payload"] == value.decode()
    assert letter["payload_encoding"] == "utf-8"
    assert letter["errors"]


@pytest.mark.parametrize(
    ("event_type", "topic"),
    [
        ("payment.succeeded", DOSSIER_TOPIC),
        ("invoice.issued", DOSSIER_TOPIC),
        ("dossier.received", INVOICE_TOPIC),
        ("payment.refunded", INVOICE_TOPIC),
        ("dossier.completed", PAYMENT_TOPIC),
        ("invoice.cancelled", PAYMENT_TOPIC),
    ],
)
def test_event_of_another_family_is_a_wrong_topic_dead_letter(event_type: str, topic: str) -> None:
    out = run(topic, wire_bytes(event_type))
    assert out.topic == DEAD_LETTER_TOPIC
    letter = orjson.loads(out.value)
    assert letter["reason"] == "wrong_topic"
    assert letter["event_type"] == event_type
    assert [e["field"] for e in letter["errors"]] == ["event_type"]
    assert topic_of(event_type) in letter["errors"][0]["reason"]


def test_missing_value_is_a_dead_letter() -> None:
    out = run(DOSSIER_TOPIC, None, key=None)
    assert out.is_dead_letter
    letter = orjson.loads(out.value)
    assert letter["reason"] == "invalid_json"
    assert letter["payload"] == ""
    assert letter["key"] is None


def test_non_utf8_value_is_kept_as_base64() -> None:
    out = run(INVOICE_TOPIC, b"\xff\x00\xfe")
    letter = orjson.loads(out.value)
    assert out.is_dead_letter
    assert letter["payload_encoding"] == "base64"


def test_clock_decides_the_future_rule() -> None:
    value = wire_bytes("dossier.rated")  # occurred 2026-11-20 02:15:00.123 UTC
    early = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 15 minutes before: too far ahead
    out = run(DOSSIER_TOPIC, value, now=early)
    assert out.is_dead_letter
    letter = orjson.loads(out.value)
    assert letter["reason"] == "contract"
    assert letter["errors"][0]["field"] == "occurred_at"
    assert not run(DOSSIER_TOPIC, value, now=early + timedelta(minutes=6)).is_dead_letter


def test_same_input_same_row() -> None:
    value = wire_bytes("dossier.received")
    first = run(DOSSIER_TOPIC, value)
    assert run(DOSSIER_TOPIC, value) == first
    # a copy of the event published later differs only in where/when it was read
    later = orjson.loads(run(DOSSIER_TOPIC, value, offset=99, timestamp_ms=TIMESTAMP_MS + 5).value)
    row = orjson.loads(first.value)
    assert later["version"] < row["version"]
    differing = {k for k in row if row[k] != later[k]}
    assert differing == {"source_offset", "published_at", "version"}


def test_same_input_same_dead_letter_apart_from_first_seen() -> None:
    value = wire_bytes("dossier.received", locality_code="99")
    a = run(DOSSIER_TOPIC, value)
    b = run(DOSSIER_TOPIC, value)
    assert (a.topic, a.key) == (b.topic, b.key)
    left, right = orjson.loads(a.value), orjson.loads(b.value)
    left.pop("first_seen_at")
    right.pop("first_seen_at")
    assert left == right


def test_unknown_source_topic_is_a_dead_letter() -> None:
    out = run("dx.unknown.v1", wire_bytes("dossier.rated"))
    assert out.is_dead_letter
    assert out.key == b"dx.unknown.v1/2/41"


# Batched messages ------------------------------------------------------------------------


def test_batch_gives_a_row_per_valid_event_and_a_dead_letter_per_invalid_one() -> None:
    good = [
        wire("invoice.issued", event_id=f"00000000-0000-4000-8000-00000000000{n}") for n in (1, 2)
    ]
    bad = wire("invoice.cancelled", locality_code="99")
    value = orjson.dumps([good[0], bad, good[1]])
    out = process(
        INVOICE_TOPIC,
        partition=1,
        offset=77,
        timestamp_ms=TIMESTAMP_MS,
        key=b"K",
        value=value,
        now=NOW,
    )
    assert out.row_topic == ROW_TOPICS[INVOICE_TOPIC]
    assert [r["event_id"] for r in out.rows] == [g["event_id"] for g in good]
    assert {r["source_offset"] for r in out.rows} == {77}
    ((key, letter_bytes),) = out.dead_letters
    assert key == f"{INVOICE_TOPIC}/1/77/1".encode()
    letter = orjson.loads(letter_bytes)
    assert letter["source_index"] == 1
    assert letter["reason"] == "unknown_locality"
    assert orjson.loads(letter["payload"]) == bad


def test_batch_rows_equal_single_event_rows() -> None:
    events = [wire(t) for t in ("dossier.received", "dossier.completed", "dossier.rated")]
    batched = process(
        DOSSIER_TOPIC,
        partition=0,
        offset=5,
        timestamp_ms=TIMESTAMP_MS,
        key=None,
        value=orjson.dumps(events),
        now=NOW,
    )
    singles = [
        process(
            DOSSIER_TOPIC,
            partition=0,
            offset=5,
            timestamp_ms=TIMESTAMP_MS,
            key=None,
            value=orjson.dumps(e),
            now=NOW,
        ).rows[0]
        for e in events
    ]
    assert batched.rows == singles


def test_an_unusable_batch_is_one_dead_letter_with_the_whole_message() -> None:
    out = process(
        PAYMENT_TOPIC,
        partition=0,
        offset=3,
        timestamp_ms=TIMESTAMP_MS,
        key=b"P",
        value=b"[]",
        now=NOW,
    )
    assert not out.rows
    ((key, letter_bytes),) = out.dead_letters
    assert key == f"{PAYMENT_TOPIC}/0/3".encode()
    letter = orjson.loads(letter_bytes)
    assert (letter["payload"], letter["source_index"], letter["reason"]) == (
        "[]",
        None,
        "invalid_batch",
    )
