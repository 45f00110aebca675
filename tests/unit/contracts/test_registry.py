"""The registry: every event type, its topic and key, and validate_event's entry points."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from dxpulse.contracts import (
    DEAD_LETTER_TOPIC,
    EVENT_MODELS,
    TOPIC_ADAPTERS,
    TOPIC_KEYS,
    DossierCompleted,
    DossierRated,
    DossierReceived,
    EventBase,
    InvoiceCancelled,
    InvoiceIssued,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
    field_errors,
)
from tests.unit.contracts.examples import (
    EVENT_TYPES,
    EXAMPLES,
    NOW,
    accepted,
    assert_rejected,
    make,
)

#: event_type -> (model, topic, key field, key of the example)
EXPECTED: dict[str, tuple[type[EventBase], str, str, str]] = {
    "dossier.received": (
        DossierReceived,
        "dx.dossier.v1",
        "dossier_id",
        "000.00.01.H26-261120-0001",
    ),
    "dossier.completed": (
        DossierCompleted,
        "dx.dossier.v1",
        "dossier_id",
        "000.00.01.H26-261120-0001",
    ),
    "dossier.rated": (DossierRated, "dx.dossier.v1", "dossier_id", "000.00.01.H26-261120-0001"),
    "invoice.issued": (InvoiceIssued, "dx.invoice.v1", "invoice_id", "C26TAA-0000123"),
    "invoice.cancelled": (InvoiceCancelled, "dx.invoice.v1", "invoice_id", "C26TAA-0000123"),
    "payment.succeeded": (PaymentSucceeded, "dx.payment.v1", "payment_id", "PAY-20261120-000123"),
    "payment.failed": (PaymentFailed, "dx.payment.v1", "payment_id", "PAY-20261120-000123"),
    "payment.refunded": (PaymentRefunded, "dx.payment.v1", "payment_id", "PAY-20261120-000123"),
}


def test_every_event_type_is_registered() -> None:
    assert set(EVENT_MODELS) == set(EXPECTED) == set(EXAMPLES)
    assert len(EVENT_MODELS) == 8


def test_topics_and_keys() -> None:
    assert TOPIC_KEYS == {
        "dx.dossier.v1": "dossier_id",
        "dx.invoice.v1": "invoice_id",
        "dx.payment.v1": "payment_id",
    }
    assert set(TOPIC_ADAPTERS) == set(TOPIC_KEYS)
    assert DEAD_LETTER_TOPIC == "dx.deadletter.v1"
    assert DEAD_LETTER_TOPIC not in TOPIC_ADAPTERS


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_model_topic_and_key(event_type: str) -> None:
    model, topic, key_field, key = EXPECTED[event_type]
    assert EVENT_MODELS[event_type] is model
    assert model.topic == topic
    assert model.key_field == key_field == TOPIC_KEYS[topic]
    event = accepted(make(event_type))
    assert type(event) is model
    assert event.topic == topic
    assert event.key == key


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_round_trip_model_json_model(event_type: str) -> None:
    event = accepted(make(event_type))
    wire = event.to_json()
    assert isinstance(wire, bytes)
    assert accepted(wire) == event
    assert accepted(wire, topic=event.topic) == event
    assert accepted(wire.decode("utf-8")) == event
    assert orjson.loads(wire) == make(event_type)  # nothing added, nothing lost


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_wire_json_is_compact(event_type: str) -> None:
    wire = accepted(make(event_type)).to_json()
    assert b"\n" not in wire
    assert b", " not in wire
    assert b'": ' not in wire
    assert wire == orjson.dumps(orjson.loads(wire))


@pytest.mark.parametrize(
    ("event_type", "field", "text"),
    [
        ("dossier.received", "dossier_id", "HS-Hà-Nội-Đống-Đa-0001"),
        ("dossier.completed", "dossier_id", "Hồ-sơ-ĐKKD-0042"),
        ("invoice.issued", "invoice_id", "HĐ-Cần-Thơ-000123"),
        ("payment.succeeded", "payment_id", "Thanh-toán-Huế-77"),
    ],
)
def test_vietnamese_text_travels_as_raw_utf8(event_type: str, field: str, text: str) -> None:
    event = accepted(make(event_type, **{field: text}))
    wire = event.to_json()
    assert text.encode("utf-8") in wire  # not \u-escaped
    assert b"\\u" not in wire
    assert getattr(accepted(wire), field) == text


def test_optional_fields_left_out_when_unset() -> None:
    event = accepted(make("payment.failed", dossier_id=None))
    assert b"dossier_id" not in event.to_json()
    received = accepted(make("dossier.received", channel="postal", online_level=None))
    assert b"online_level" not in received.to_json()


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_validate_accepts_mapping_bytes_str_and_model(event_type: str) -> None:
    data = make(event_type)
    event = accepted(data)
    wire = orjson.dumps(data)
    assert accepted(wire) == event
    assert accepted(bytearray(wire)) == event
    assert accepted(memoryview(wire)) == event
    assert accepted(wire.decode()) == event
    assert accepted(event) == event


def test_events_are_immutable() -> None:
    event = accepted(make("dossier.rated"))
    with pytest.raises(ValidationError):
        event.satisfaction = "neutral"


@pytest.mark.parametrize("topic", ["dx.dossier.v2", "dx.deadletter.v1", "dossier", ""])
def test_unknown_topic_is_rejected(topic: str) -> None:
    assert_rejected(make("dossier.rated"), "$", f"unknown topic {topic!r}", topic=topic)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
@pytest.mark.parametrize("topic", list(TOPIC_KEYS))
def test_event_on_the_wrong_topic_is_rejected(event_type: str, topic: str) -> None:
    own = EXPECTED[event_type][1]
    if topic == own:
        assert accepted(make(event_type), topic=topic).event_type == event_type
    else:
        assert_rejected(
            make(event_type), "event_type", f"belongs on {own}, not {topic}", topic=topic
        )


@pytest.mark.parametrize("topic", list(TOPIC_KEYS))
def test_unknown_event_type_on_a_topic(topic: str) -> None:
    assert_rejected(
        make("dossier.rated", event_type="dossier.deleted"),
        "event_type",
        "unknown event type",
        topic=topic,
    )


def test_field_errors_names_fields_as_on_the_wire() -> None:
    with pytest.raises(ValidationError) as info:
        DossierReceived.model_validate(
            make("dossier.received", channel="postal", due_at="2026-11-01T00:00:00+07:00"),
            context={"now": NOW},
        )
    errors = field_errors(info.value)
    assert [(e.field, e.reason) for e in errors] == [
        ("online_level", "must be absent when channel is postal")
    ]


def _all_example_payloads() -> list[Any]:
    return [make(t) for t in EVENT_TYPES]


def test_examples_cover_every_topic() -> None:
    topics = {accepted(p).topic for p in _all_example_payloads()}
    assert topics == set(TOPIC_KEYS)
