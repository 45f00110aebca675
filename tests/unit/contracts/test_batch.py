"""The batched message form: a JSON array of events, each judged on its own."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
import pytest

from dxpulse.contracts import DOSSIER_TOPIC, INVOICE_TOPIC, PAYMENT_TOPIC, validate_event
from dxpulse.contracts.batch import MAX_BATCH_BYTES, MAX_BATCH_EVENTS, is_batch, validate_message

ICT = timezone(timedelta(hours=7))
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=ICT)


def invoice(n: int, **overrides: Any) -> dict[str, Any]:
    event = {
        "event_id": str(uuid.UUID(int=n)),
        "event_type": "invoice.issued",
        "occurred_at": "2026-11-20T09:15:00+07:00",
        "agency_code": "HN.THUE",
        "locality_code": "01",
        "schema_version": 1,
        "invoice_id": f"C26TAA-{n}",
        "seller_tax_code": "0101234567",
        "amount_vnd": 1_100_000,
        "invoice_kind": "with_code",
        "vat_vnd": 100_000,
    }
    event.update(overrides)
    return event


def batch(*events: Any) -> bytes:
    return orjson.dumps(list(events))


def test_a_valid_batch_gives_every_event_in_order() -> None:
    events = [invoice(n) for n in range(1, 6)]
    result = validate_message(batch(*events), topic=INVOICE_TOPIC, now=NOW)
    assert result.batched
    assert not result.rejected
    assert [i for i, _ in result.events] == [0, 1, 2, 3, 4]
    assert [e for _, e in result.events] == [validate_event(e, now=NOW) for e in events]


def test_batch_and_single_event_give_the_same_model() -> None:
    single = validate_message(orjson.dumps(invoice(7)), topic=INVOICE_TOPIC, now=NOW)
    batched = validate_message(batch(invoice(7)), topic=INVOICE_TOPIC, now=NOW)
    assert not single.batched
    assert single.events == batched.events


def test_invalid_events_are_rejected_alone_with_their_index() -> None:
    events = [
        invoice(1),
        invoice(2, locality_code="99"),
        invoice(3),
        invoice(4, seller_tax_code="x"),
        "not an object",
    ]
    result = validate_message(batch(*events), topic=INVOICE_TOPIC, now=NOW)
    assert [i for i, _ in result.events] == [0, 2]
    assert [r.index for r in result.rejected] == [1, 3, 4]
    bad_locality, bad_tax_code, not_object = result.rejected
    assert orjson.loads(bad_locality.payload) == events[1]  # that event alone is kept
    assert [e.field for e in bad_locality.errors] == ["locality_code"]
    assert [e.field for e in bad_tax_code.errors] == ["seller_tax_code"]
    assert not_object.errors[0].field == "$"


def test_event_of_another_topic_in_a_batch_names_its_topic() -> None:
    stray = {**invoice(2), "event_type": "payment.failed"}
    result = validate_message(batch(invoice(1), stray), topic=INVOICE_TOPIC, now=NOW)
    assert [i for i, _ in result.events] == [0]
    (rejected,) = result.rejected
    assert rejected.errors[0].field == "event_type"
    assert PAYMENT_TOPIC in rejected.errors[0].reason


def test_the_clock_of_the_batch_decides_the_future_rule() -> None:
    early = NOW - timedelta(minutes=30)
    result = validate_message(batch(invoice(1)), topic=INVOICE_TOPIC, now=early)
    assert result.rejected[0].errors[0].field == "occurred_at"
    assert "future" in result.rejected[0].errors[0].reason


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (b"[", "invalid JSON"),
        (b"[]", "batch is empty"),
        (b"  [ ] ", "batch is empty"),
    ],
)
def test_unusable_batches_are_one_rejection(value: bytes, fragment: str) -> None:
    result = validate_message(value, topic=INVOICE_TOPIC, now=NOW)
    assert result.batched
    assert not result.events
    (rejected,) = result.rejected
    assert rejected.index is None
    assert rejected.payload == value
    assert fragment in rejected.errors[0].reason


def test_too_many_events_is_one_rejection() -> None:
    value = batch(*(invoice(n) for n in range(MAX_BATCH_EVENTS + 1)))
    result = validate_message(value, topic=INVOICE_TOPIC, now=NOW)
    assert not result.events
    assert f"at most {MAX_BATCH_EVENTS}" in result.rejected[0].errors[0].reason


def test_the_largest_batch_is_accepted() -> None:
    value = batch(*(invoice(n) for n in range(MAX_BATCH_EVENTS)))
    assert len(value) < MAX_BATCH_BYTES
    result = validate_message(value, topic=INVOICE_TOPIC, now=NOW)
    assert len(result.events) == MAX_BATCH_EVENTS
    assert not result.rejected


def test_too_many_bytes_is_one_rejection() -> None:
    padding = " " * (MAX_BATCH_BYTES + 1)
    value = b"[" + orjson.dumps(invoice(1)) + padding.encode() + b"]"
    result = validate_message(value, topic=INVOICE_TOPIC, now=NOW)
    assert not result.events
    assert "bytes" in result.rejected[0].errors[0].reason


def test_unknown_topic_rejects_each_event() -> None:
    result = validate_message(batch(invoice(1), invoice(2)), topic="dx.other.v1", now=NOW)
    assert not result.events
    assert [r.index for r in result.rejected] == [0, 1]
    assert "unknown topic" in result.rejected[0].errors[0].reason


def test_single_event_messages_are_unchanged() -> None:
    bad = orjson.dumps(invoice(1, locality_code="99"))
    result = validate_message(bad, topic=INVOICE_TOPIC, now=NOW)
    assert not result.batched
    assert result.rejected[0].index is None
    assert result.rejected[0].payload == bad
    assert validate_message(None, topic=DOSSIER_TOPIC).rejected[0].errors[0].field == "$"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(b"[1]", True), (b"\n  [", True), (b"{}", False), (b"", False), (b" 5", False)],
)
def test_is_batch(value: bytes, expected: bool) -> None:
    assert is_batch(value) is expected
