"""Dead letters: original bytes kept (text or base64), reasons classified, rows for the table."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from dxpulse.contracts import (
    DOSSIER_TOPIC,
    INVOICE_TOPIC,
    PAYMENT_TOPIC,
    EventValidationError,
    FieldError,
    validate_event,
)
from dxpulse.streams.deadletter import classify, dead_letter, dead_letter_row
from dxpulse.streams.normalize import version_of

from .events import DROP, ICT, NOW, OCCURRED_UTC, wire_bytes
from .sqltext import table_columns

FIRST_SEEN = datetime(2026, 11, 20, 2, 15, 0, 123000, tzinfo=UTC)


def errors_of(value: bytes, topic: str = DOSSIER_TOPIC) -> list[FieldError]:
    """The field errors the contract reports for ``value`` on ``topic``."""
    with pytest.raises(EventValidationError) as info:
        validate_event(value, topic=topic, now=NOW)
    return info.value.errors


def letter(
    value: bytes | None,
    *,
    key: bytes | None = b"HS-1",
    errors: list[FieldError] | None = None,
    topic: str = DOSSIER_TOPIC,
) -> dict[str, object]:
    raw = dead_letter(
        topic=topic,
        partition=2,
        offset=1041,
        key=key,
        value=value,
        errors=errors if errors is not None else [FieldError("$", "invalid JSON: x")],
        first_seen=FIRST_SEEN,
    )
    assert isinstance(raw, bytes)
    record: dict[str, object] = orjson.loads(raw)
    return record


# Encoding of the original bytes ----------------------------------------------------------


def test_utf8_payload_stays_text() -> None:
    value = '{"agency_code": "Sở Tư pháp", "x": 1'.encode()
    record = letter(value, key="HS-Đà-Nẵng".encode())
    assert record["payload"] == value.decode("utf-8")
    assert record["payload_encoding"] == "utf-8"
    assert record["key"] == "HS-Đà-Nẵng"
    assert record["key_encoding"] == "utf-8"


def test_non_utf8_payload_becomes_base64_and_round_trips() -> None:
    value = b'\xff\xfe{"event_type": "dossier.received"}\x80'
    record = letter(value)
    assert record["payload_encoding"] == "base64"
    assert isinstance(record["payload"], str)
    assert base64.b64decode(record["payload"], validate=True) == value
    # no event type is guessed from undecodable bytes
    assert record["event_type"] is None
    # and the key, valid UTF-8, stays text
    assert record["key_encoding"] == "utf-8"


def test_non_utf8_key_becomes_base64() -> None:
    key = b"\xc3\x28-bad"
    record = letter(b"{}", key=key)
    assert record["key_encoding"] == "base64"
    assert isinstance(record["key"], str)
    assert base64.b64decode(record["key"]) == key
    assert record["payload_encoding"] == "utf-8"


def test_utf16_text_is_not_mistaken_for_utf8() -> None:
    value = "Hồ sơ".encode("utf-16")
    record = letter(value)
    assert record["payload_encoding"] == "base64"
    assert base64.b64decode(str(record["payload"])) == value


def test_missing_value_and_key() -> None:
    record = letter(None, key=None)
    assert record["payload"] == ""
    assert record["payload_encoding"] == "utf-8"
    assert record["key"] is None
    row = dead_letter_row(orjson.dumps(record))
    assert row["message_key"] == ""
    assert row["payload"] == ""


def test_event_type_is_taken_from_a_json_object_payload() -> None:
    record = letter(wire_bytes("dossier.received", locality_code="99"))
    assert record["event_type"] == "dossier.received"
    long_type = "x" * 100
    record = letter(orjson.dumps({"event_type": long_type}))
    assert record["event_type"] == long_type[:64]
    for value in (b"[1, 2]", b'{"event_type": 5}', b"not json", b'"dossier.received"'):
        assert letter(value)["event_type"] is None


def test_letter_fields() -> None:
    errors = [FieldError("locality_code", "unknown"), FieldError("channel", "bad")]
    record = letter(b"{}", errors=errors, topic=PAYMENT_TOPIC)
    assert record["source_topic"] == PAYMENT_TOPIC
    assert record["source_partition"] == 2
    assert record["source_offset"] == 1041
    assert record["errors"] == [
        {"field": "locality_code", "reason": "unknown"},
        {"field": "channel", "reason": "bad"},
    ]
    assert record["reason"] == "unknown_locality"
    assert record["first_seen_at"] == "2026-11-20T02:15:00.123+00:00"


def test_first_seen_defaults_to_now() -> None:
    before = datetime.now(UTC)
    raw = dead_letter(topic=DOSSIER_TOPIC, partition=0, offset=0, key=None, value=b"x", errors=[])
    after = datetime.now(UTC)
    seen = datetime.fromisoformat(orjson.loads(raw)["first_seen_at"])
    assert seen.utcoffset() == timedelta(0)
    assert before - timedelta(milliseconds=1) <= seen <= after


# Classification -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "topic", "expected"),
    [
        (b'{"event_type": "dossier.received", ', DOSSIER_TOPIC, "invalid_json"),
        (b"", DOSSIER_TOPIC, "invalid_json"),
        (b"\xff\xfe", DOSSIER_TOPIC, "invalid_json"),
        (b"[1, 2, 3]", DOSSIER_TOPIC, "not_an_object"),
        (b'"dossier.received"', DOSSIER_TOPIC, "not_an_object"),
        (b"42", INVOICE_TOPIC, "not_an_object"),
        (
            wire_bytes("dossier.rated", event_type="dossier.lost"),
            DOSSIER_TOPIC,
            "unknown_event_type",
        ),
        (wire_bytes("dossier.rated", event_type=DROP), DOSSIER_TOPIC, "unknown_event_type"),
        (wire_bytes("payment.succeeded"), DOSSIER_TOPIC, "wrong_topic"),
        (wire_bytes("dossier.received"), INVOICE_TOPIC, "wrong_topic"),
        (wire_bytes("invoice.issued"), PAYMENT_TOPIC, "wrong_topic"),
        (wire_bytes("dossier.received", locality_code="99"), DOSSIER_TOPIC, "unknown_locality"),
        (wire_bytes("invoice.cancelled", locality_code="00"), INVOICE_TOPIC, "unknown_locality"),
        (wire_bytes("dossier.received", dossier_id="012345678901"), DOSSIER_TOPIC, "citizen_id"),
        (wire_bytes("dossier.rated", dossier_id="123456789"), DOSSIER_TOPIC, "citizen_id"),
        (
            wire_bytes("dossier.received", procedure_code="001234567890"),
            DOSSIER_TOPIC,
            "citizen_id",
        ),
        (wire_bytes("payment.failed", dossier_id="001234567890"), PAYMENT_TOPIC, "citizen_id"),
        (wire_bytes("dossier.received", channel="fax"), DOSSIER_TOPIC, "contract"),
        (wire_bytes("dossier.completed", digitized="yes"), DOSSIER_TOPIC, "contract"),
        (wire_bytes("invoice.issued", vat_vnd=2_000_000), INVOICE_TOPIC, "contract"),
        (wire_bytes("payment.succeeded", amount_vnd=0), PAYMENT_TOPIC, "contract"),
        (wire_bytes("dossier.rated", surprise=1), DOSSIER_TOPIC, "contract"),
    ],
)
def test_classify_real_validation_errors(value: bytes, topic: str, expected: str) -> None:
    errors = errors_of(value, topic)
    assert classify(errors) == expected
    record = letter(value, errors=errors, topic=topic)
    assert record["reason"] == expected


def test_classify_unknown_locality_among_other_problems() -> None:
    errors = errors_of(
        wire_bytes("dossier.received", locality_code="99", dossier_id="012345678901", channel="fax")
    )
    assert {e.field for e in errors} >= {"locality_code", "dossier_id", "channel"}
    assert classify(errors) == "unknown_locality"


def test_classify_citizen_id_among_other_problems() -> None:
    errors = errors_of(wire_bytes("dossier.received", dossier_id="012345678901", channel="fax"))
    assert classify(errors) == "citizen_id"


def test_classify_hand_made_errors() -> None:
    assert classify([FieldError("$", "invalid JSON: unexpected end")]) == "invalid_json"
    assert classify([FieldError("$", "must be a JSON object, got list")]) == "not_an_object"
    assert classify([FieldError("event_type", "unknown event type 'a.b'")]) == "unknown_event_type"
    assert (
        classify([FieldError("event_type", "'x.y' belongs on dx.payment.v1, not dx.dossier.v1")])
        == "wrong_topic"
    )
    assert classify([FieldError("amount_vnd", "must be > 0")]) == "contract"
    assert classify([]) == "not_an_object"  # never raises


# Table rows ------------------------------------------------------------------------------


def test_dead_letter_row_maps_every_field() -> None:
    value = wire_bytes("dossier.received", locality_code="99", channel="fax")
    errors = errors_of(value)
    message = dead_letter(
        topic=DOSSIER_TOPIC,
        partition=3,
        offset=77,
        key=b"HS-1",
        value=value,
        errors=errors,
        first_seen=datetime(2026, 11, 20, 9, 15, 0, 123456, tzinfo=ICT),
    )
    row = dead_letter_row(message)
    assert row == {
        "first_seen_at": OCCURRED_UTC,
        "source_topic": DOSSIER_TOPIC,
        "source_partition": 3,
        "source_offset": 77,
        "source_index": 0,
        "message_key": "HS-1",
        "payload": value.decode(),
        "payload_encoding": "utf-8",
        "error_fields": [e.field for e in errors],
        "error_reasons": [e.reason for e in errors],
        "reason": "unknown_locality",
        "event_type": "dossier.received",
        "version": version_of(
            int(datetime(2026, 11, 20, 2, 15, 0, 123000, tzinfo=UTC).timestamp() * 1000)
        ),
    }
    assert row["error_fields"][:2] == ["locality_code", "channel"]
    assert len(row["error_fields"]) == len(row["error_reasons"]) == len(errors)


def test_dead_letter_row_of_base64_payload() -> None:
    value = b"\x00\xff\xfe garbage"
    row = dead_letter_row(
        dead_letter(
            topic=INVOICE_TOPIC,
            partition=0,
            offset=1,
            key=None,
            value=value,
            errors=[FieldError("$", "invalid JSON: x")],
            first_seen=FIRST_SEEN,
        )
    )
    assert row["payload_encoding"] == "base64"
    assert base64.b64decode(row["payload"]) == value
    assert row["event_type"] == ""
    assert row["message_key"] == ""
    assert row["error_fields"] == ["$"]
    assert row["reason"] == "invalid_json"


def test_dead_letter_row_matches_the_table() -> None:
    columns = [c.name for c in table_columns("0004_dead_letters.sql", "dead_letters")]
    columns.append("source_index")  # added by 0010_dead_letter_index.sql
    row = dead_letter_row(letter_bytes())
    assert sorted(row) == sorted(columns)
    assert orjson.loads(orjson.dumps(row)) == row


def test_first_rejection_has_the_highest_version() -> None:
    first = dead_letter_row(letter_bytes(FIRST_SEEN))
    again = dead_letter_row(letter_bytes(FIRST_SEEN + timedelta(seconds=30)))
    assert first["version"] > again["version"]
    # the same message rejected twice is one row of dead_letters (same sorting key)
    keys = ("source_topic", "source_partition", "source_offset")
    assert [first[k] for k in keys] == [again[k] for k in keys]


def letter_bytes(first_seen: datetime = FIRST_SEEN) -> bytes:
    return dead_letter(
        topic=DOSSIER_TOPIC,
        partition=1,
        offset=5,
        key=b"k",
        value=b"{",
        errors=[FieldError("$", "invalid JSON: x")],
        first_seen=first_seen,
    )
