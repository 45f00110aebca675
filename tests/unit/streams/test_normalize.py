"""normalize.to_row: the raw-table row of every event type, as the sink inserts it unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from dxpulse.contracts import (
    DOSSIER_TOPIC,
    EVENT_MODELS,
    INVOICE_TOPIC,
    PAYMENT_TOPIC,
    validate_event,
)
from dxpulse.streams.normalize import VERSION_BASE, Source, ch_time, to_row, version_of
from dxpulse.streams.topics import ROW_TOPICS, TABLE_OF_TOPIC

from .events import (
    APPLICANT,
    DOSSIER,
    ICT,
    OCCURRED_UTC,
    PUBLISHED_MS,
    PUBLISHED_UTC,
    build,
    topic_of,
)
from .sqltext import table_columns


def source(topic: str, *, partition: int = 2, offset: int = 41) -> Source:
    return Source(topic, partition=partition, offset=offset, timestamp_ms=PUBLISHED_MS)


#: Columns each event type leaves to the table default (besides ingested_at).
OMITTED = {
    "dossier.received": {"result", "digitized", "satisfaction"},
    "dossier.completed": {
        "procedure_code",
        "channel",
        "online_level",
        "due_at",
        "fee_required",
        "applicant_type",
        "applicant_ref",
        "satisfaction",
    },
    "dossier.rated": {
        "procedure_code",
        "channel",
        "online_level",
        "due_at",
        "fee_required",
        "applicant_type",
        "applicant_ref",
        "result",
        "digitized",
    },
    "invoice.issued": set(),
    "invoice.cancelled": {"invoice_kind", "vat_vnd"},
    "payment.succeeded": set(),
    "payment.failed": set(),
    "payment.refunded": set(),
}


def test_every_event_type_is_covered() -> None:
    assert set(OMITTED) == set(EVENT_MODELS)


@pytest.mark.parametrize("event_type", list(OMITTED))
def test_row_columns_match_the_raw_table(event_type: str) -> None:
    topic = topic_of(event_type)
    table = TABLE_OF_TOPIC[ROW_TOPICS[topic]]
    columns = {c.name: c for c in table_columns("0003_raw_events.sql", table)}
    row = to_row(build(event_type), source(topic))

    unknown = set(row) - set(columns)
    assert not unknown, f"{event_type}: keys that are not columns of {table}: {unknown}"
    left_out = set(columns) - set(row)
    assert left_out == {"ingested_at", *OMITTED[event_type]}
    for name in left_out:
        assert columns[name].has_default, f"{table}.{name} is left out but has no default"


@pytest.mark.parametrize("event_type", list(OMITTED))
def test_common_fields(event_type: str) -> None:
    topic = topic_of(event_type)
    event = build(event_type)
    row = to_row(event, source(topic, partition=3, offset=12345))
    assert row["event_id"] == event.event_id
    assert row["event_type"] == event_type
    assert row["occurred_at"] == OCCURRED_UTC
    assert row["published_at"] == PUBLISHED_UTC
    assert row["agency_code"] == "HN.MOTCUA"
    assert row["locality_code"] == "01"
    assert row["source_locality_code"] == "01"
    assert row["source_topic"] == topic
    assert row["source_partition"] == 3
    assert row["source_offset"] == 12345
    assert row["version"] == version_of(PUBLISHED_MS)
    # the internal topic carries it as JSON: it must serialise and come back unchanged
    assert orjson.loads(orjson.dumps(row)) == row


def test_dossier_received_values() -> None:
    row = to_row(build("dossier.received"), source(DOSSIER_TOPIC))
    assert row["dossier_id"] == DOSSIER
    assert row["procedure_code"] == "1.004227"
    assert row["channel"] == "online"
    assert row["online_level"] == "full"
    assert row["due_at"] == ch_time(datetime(2026, 11, 27, 10, tzinfo=UTC))
    assert row["fee_required"] is True
    assert row["applicant_type"] == "citizen"
    assert row["applicant_ref"] == APPLICANT


def test_dossier_received_optional_fields_become_defaults() -> None:
    event = build(
        "dossier.received",
        channel="in_person",
        online_level=None,
        applicant_ref=None,
        fee_required=False,
        applicant_type="business",
    )
    row = to_row(event, source(DOSSIER_TOPIC))
    assert row["online_level"] == ""
    assert row["applicant_ref"] == ""
    assert row["fee_required"] is False
    assert row["channel"] == "in_person"
    assert row["applicant_type"] == "business"


def test_dossier_completed_and_rated_values() -> None:
    completed = to_row(build("dossier.completed"), source(DOSSIER_TOPIC))
    assert (completed["dossier_id"], completed["result"], completed["digitized"]) == (
        DOSSIER,
        "rejected",
        False,
    )
    rated = to_row(build("dossier.rated"), source(DOSSIER_TOPIC))
    assert (rated["dossier_id"], rated["satisfaction"]) == (DOSSIER, "dissatisfied")


def test_invoice_values() -> None:
    issued = to_row(build("invoice.issued"), source(INVOICE_TOPIC))
    assert issued["invoice_id"] == "C26TAA-1"
    assert issued["seller_tax_code"] == "0101234567"
    assert issued["amount_vnd"] == 1_100_000
    assert issued["vat_vnd"] == 100_000
    assert issued["invoice_kind"] == "cash_register"
    cancelled = to_row(
        build("invoice.cancelled", seller_tax_code="0101234567-001"), source(INVOICE_TOPIC)
    )
    assert cancelled["seller_tax_code"] == "0101234567-001"
    assert cancelled["amount_vnd"] == 1_100_000


@pytest.mark.parametrize("event_type", ["payment.succeeded", "payment.failed", "payment.refunded"])
def test_payment_values(event_type: str) -> None:
    event = build(event_type)
    row = to_row(event, source(PAYMENT_TOPIC))
    assert row["payment_id"] == "PAY-1"
    assert row["dossier_id"] == DOSSIER
    assert row["amount_vnd"] == 150_000
    assert row["method"] == event.method  # type: ignore[attr-defined]
    assert row["gateway"] == event.gateway  # type: ignore[attr-defined]


def test_payment_without_dossier_has_empty_dossier_id() -> None:
    row = to_row(build("payment.succeeded", dossier_id=None), source(PAYMENT_TOPIC))
    assert row["dossier_id"] == ""


@pytest.mark.parametrize("event_type", list(OMITTED))
def test_legacy_locality_code_is_normalised(event_type: str) -> None:
    topic = topic_of(event_type)
    row = to_row(build(event_type, locality_code="27"), source(topic))  # old Bắc Ninh
    assert row["locality_code"] == "24"  # new Bắc Ninh
    assert row["source_locality_code"] == "27"


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("24", "24"),  # current Bắc Ninh (also old Bắc Giang: same successor)
        ("01", "01"),
        ("79", "79"),
        ("74", "79"),  # old Bình Dương -> Hồ Chí Minh City
    ],
)
def test_locality_codes(sent: str, stored: str) -> None:
    row = to_row(build("dossier.rated", locality_code=sent), source(DOSSIER_TOPIC))
    assert (row["locality_code"], row["source_locality_code"]) == (stored, sent)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 11, 20, 9, 15, 0, 123000, tzinfo=ICT), "2026-11-20 02:15:00.123"),
        (datetime(2026, 11, 20, 2, 15, tzinfo=UTC), "2026-11-20 02:15:00.000"),
        # milliseconds are truncated, never rounded up into the next second
        (datetime(2026, 11, 20, 2, 15, 59, 999999, tzinfo=UTC), "2026-11-20 02:15:59.999"),
        # crossing midnight backwards into the previous UTC day
        (datetime(2026, 1, 1, 6, 59, 59, 1000, tzinfo=ICT), "2025-12-31 23:59:59.001"),
        (
            datetime(2026, 3, 1, 0, 0, tzinfo=timezone(timedelta(hours=-5))),
            "2026-03-01 05:00:00.000",
        ),
    ],
)
def test_ch_time_is_utc_with_milliseconds(value: datetime, expected: str) -> None:
    utc = datetime.strptime(expected, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
    assert ch_time(value) == f"{int(utc.timestamp())}.{expected[-3:]}"


def test_occurred_at_with_offset_and_nanoseconds() -> None:
    event = validate_event(
        {
            "event_id": "0b3c7a1e-5d2f-4c8e-9a61-2f0e8d4b7c19",
            "event_type": "dossier.rated",
            "occurred_at": "2026-11-20T09:15:00.123456789+07:00",
            "agency_code": "HN.MC",
            "locality_code": "01",
            "schema_version": 1,
            "dossier_id": "HS-1",
            "satisfaction": "neutral",
        },
        topic=DOSSIER_TOPIC,
    )
    row = to_row(event, source(DOSSIER_TOPIC))
    assert row["occurred_at"] == OCCURRED_UTC


def test_published_at_is_the_kafka_timestamp_in_utc() -> None:
    row = to_row(
        build("dossier.rated"), Source(DOSSIER_TOPIC, partition=0, offset=0, timestamp_ms=1)
    )
    assert row["published_at"] == "0.001"


def test_earlier_publication_has_higher_version() -> None:
    event = build("dossier.completed")
    first = to_row(event, Source(DOSSIER_TOPIC, 0, 10, PUBLISHED_MS))
    replay = to_row(event, Source(DOSSIER_TOPIC, 1, 99, PUBLISHED_MS + 1))
    assert first["version"] > replay["version"]
    assert version_of(1_000) > version_of(2_000)
    assert version_of(PUBLISHED_MS) == VERSION_BASE - PUBLISHED_MS
    assert version_of(VERSION_BASE + 5) == 0  # never negative (UInt64 column)
    # the same copy always gets the same version (replays de-duplicate)
    assert to_row(event, Source(DOSSIER_TOPIC, 0, 10, PUBLISHED_MS)) == first


def test_version_fits_uint64_and_orders_real_timestamps() -> None:
    now_ms = int(datetime(2026, 11, 20, tzinfo=UTC).timestamp() * 1000)
    assert 0 < version_of(now_ms + 1) < version_of(now_ms) < 2**64


def test_published_at_keeps_every_millisecond() -> None:
    # the Kafka timestamp goes through a float division: no millisecond may be lost
    event = build("dossier.rated")
    for timestamp_ms in range(PUBLISHED_MS, PUBLISHED_MS + 20_000, 7):
        row = to_row(event, Source(DOSSIER_TOPIC, 0, 0, timestamp_ms))
        assert int(row["published_at"][-3:]) == timestamp_ms % 1000
        assert row["published_at"][:-4] == str(timestamp_ms // 1000)
