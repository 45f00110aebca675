"""Fields every event carries: event_id, event_type, occurred_at, agency_code, locality_code, schema_version."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest

from dxpulse.contracts import (
    MAX_FUTURE,
    SCHEMA_VERSION,
    DossierRated,
    EventValidationError,
    FieldError,
    validate_event,
)
from dxpulse.contracts.common import reject_citizen_id
from dxpulse.reference import load_localities
from tests.unit.contracts.examples import (
    DROP,
    EVENT_TYPES,
    ICT,
    NOW,
    accepted,
    assert_rejected,
    make,
    rejected,
)

COMMON_FIELDS = [
    "event_id",
    "event_type",
    "occurred_at",
    "agency_code",
    "locality_code",
    "schema_version",
]


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_example_is_valid(event_type: str) -> None:
    event = accepted(make(event_type))
    assert event.event_type == event_type
    assert event.schema_version == SCHEMA_VERSION == 1


# --- required and unknown fields -------------------------------------------------------


@pytest.mark.parametrize("event_type", EVENT_TYPES)
@pytest.mark.parametrize("field", [f for f in COMMON_FIELDS if f != "event_type"])
def test_missing_common_field_is_rejected(event_type: str, field: str) -> None:
    assert_rejected(make(event_type, **{field: DROP}), field, "is required")


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_missing_event_type_is_rejected(event_type: str) -> None:
    assert_rejected(make(event_type, event_type=DROP), "event_type", "is required")


@pytest.mark.parametrize("event_type", EVENT_TYPES)
@pytest.mark.parametrize("extra", ["note", "Event_ID", "ten_nguoi_nop", "schemaVersion"])
def test_unknown_field_is_rejected(event_type: str, extra: str) -> None:
    assert_rejected(make(event_type, **{extra: "x"}), extra, "unknown field")


# --- event_id ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not-a-uuid",
        "0b3c7a1e5d2f4c8e9a612f0e8d4b7c19",  # no hyphens
        "0b3c7a1e-5d2f-4c8e-9a61-2f0e8d4b7c1",  # one hex digit short
        "0b3c7a1e-5d2f-4c8e-9a61-2f0e8d4b7c19a",
        "0b3c7a1e-5d2f-4c8e-9a61-2f0e8d4b7c1g",
        "{0b3c7a1e-5d2f-4c8e-9a61-2f0e8d4b7c19}",
        "0b3c7a1e-5d2f-4c8e-9a61-2f0e8d4b7c19\n",
        " 0b3c7a1e-5d2f-4c8e-9a61-2f0e8d4b7c19",
        12345,
        None,
        True,
    ],
)
@pytest.mark.parametrize("event_type", ["dossier.rated", "invoice.cancelled", "payment.failed"])
def test_event_id_must_be_a_uuid(event_type: str, value: Any) -> None:
    assert_rejected(make(event_type, event_id=value), "event_id", "must be a UUID")


def test_event_id_is_normalised_to_lowercase() -> None:
    event = accepted(make("dossier.rated", event_id="0B3C7A1E-5D2F-4C8E-9A61-2F0E8D4B7C19"))
    assert event.event_id == "0b3c7a1e-5d2f-4c8e-9a61-2f0e8d4b7c19"


# --- event_type -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["dossier.deleted", "Dossier.Received", "dossier_received", "", "invoice", 5, None]
)
def test_unknown_event_type_is_rejected(value: Any) -> None:
    assert_rejected(make("dossier.rated", event_type=value), "event_type", "unknown event type")


def test_unknown_event_type_lists_the_known_ones() -> None:
    (error,) = rejected(make("dossier.rated", event_type="dossier.deleted"))
    for event_type in EVENT_TYPES:
        assert event_type in error.reason


@pytest.mark.parametrize(
    ("event_type", "other"),
    [("dossier.rated", "dossier.completed"), ("payment.failed", "invoice.cancelled")],
)
def test_event_type_selects_the_model_and_its_fields(event_type: str, other: str) -> None:
    """A valid dossier.rated relabelled as dossier.completed lacks result/digitized."""
    errors = rejected(make(event_type, event_type=other))
    assert {e.reason for e in errors} >= {"is required"}


# --- occurred_at ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-20T09:15:00+07:00",
        "2026-11-20T02:15:00Z",
        "2026-11-20T02:15:00z",
        "2026-11-20t09:15:00+07:00",
        "2026-11-20T02:15:00+00:00",
        "2026-11-19T21:15:00-05:00",
        "2026-11-20T09:15:00.5+07:00",
        "2026-11-20T09:15:00.123456789+07:00",  # nanoseconds, trimmed to microseconds
    ],
)
def test_rfc3339_with_offset_is_accepted(value: str) -> None:
    event = accepted(make("dossier.rated", occurred_at=value))
    assert event.occurred_at.utcoffset() is not None
    assert abs(event.occurred_at - datetime(2026, 11, 20, 9, 15, tzinfo=ICT)) < timedelta(seconds=1)


def test_z_suffix_means_utc() -> None:
    event = accepted(make("dossier.rated", occurred_at="2026-11-20T02:15:00Z"))
    assert event.occurred_at == datetime(2026, 11, 20, 9, 15, tzinfo=ICT)
    assert event.occurred_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("2026-11-20T09:15:00", "RFC 3339 with an offset"),  # naive
        ("2026-11-20 09:15:00+07:00", "RFC 3339 with an offset"),  # no T
        ("2026-11-20", "RFC 3339 with an offset"),
        ("20261120T091500+0700", "RFC 3339 with an offset"),
        ("2026-11-20T09:15+07:00", "RFC 3339 with an offset"),  # no seconds
        ("2026-11-20T09:15:00+07", "RFC 3339 with an offset"),
        ("2026-11-20T09:15:00 +07:00", "RFC 3339 with an offset"),
        ("2026-11-20T09:15:00+07:00\n", "RFC 3339 with an offset"),
        ("20/11/2026 09:15", "RFC 3339 with an offset"),
        ("", "RFC 3339 with an offset"),
        ("2026-02-30T09:15:00+07:00", "not a valid date and time"),
        ("2026-11-20T25:15:00+07:00", "not a valid date and time"),
        (1_795_000_000, "RFC 3339 timestamp string"),
        (None, "RFC 3339 timestamp string"),
    ],
)
@pytest.mark.parametrize("event_type", ["dossier.completed", "invoice.issued", "payment.refunded"])
def test_occurred_at_must_be_rfc3339_with_offset(
    event_type: str, value: Any, fragment: str
) -> None:
    assert_rejected(make(event_type, occurred_at=value), "occurred_at", fragment)


def test_naive_datetime_object_is_rejected() -> None:
    assert_rejected(
        make("dossier.rated", occurred_at=datetime(2026, 11, 20, 9, 15)),
        "occurred_at",
        "timezone-aware",
    )


@pytest.mark.parametrize(
    ("ahead", "ok"),
    [
        (timedelta(minutes=-600), True),
        (timedelta(0), True),
        (timedelta(minutes=9), True),
        (timedelta(minutes=10), True),  # exactly the allowance
        (timedelta(minutes=10, seconds=1), False),
        (timedelta(minutes=11), False),
        (timedelta(days=1), False),
    ],
)
@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_occurred_at_at_most_ten_minutes_in_the_future(
    event_type: str, ahead: timedelta, ok: bool
) -> None:
    now = datetime(2026, 11, 20, 2, 0, tzinfo=ICT)  # before every example's occurred_at
    occurred = now + ahead
    data = make(event_type, occurred_at=occurred.isoformat())
    if ok:
        assert accepted(data, now=now).occurred_at == occurred
    else:
        assert_rejected(data, "occurred_at", "more than 10 minutes in the future", now=now)


def test_future_rule_compares_instants_across_offsets() -> None:
    now = datetime(2026, 11, 20, 9, 0, tzinfo=ICT)
    # 02:09Z is 09:09+07:00: nine minutes ahead, accepted; 02:11Z is eleven.
    accepted(make("dossier.rated", occurred_at="2026-11-20T02:09:00Z"), now=now)
    assert_rejected(
        make("dossier.rated", occurred_at="2026-11-20T02:11:00Z"),
        "occurred_at",
        "in the future",
        now=now,
    )


def test_future_rule_uses_the_real_clock_by_default() -> None:
    soon = datetime.now(ICT) + timedelta(minutes=5)
    later = datetime.now(ICT) + timedelta(hours=1)
    validate_event(make("dossier.rated", occurred_at=soon.isoformat()))
    with pytest.raises(EventValidationError) as info:
        validate_event(make("dossier.rated", occurred_at=later.isoformat()))
    assert [e.field for e in info.value.errors] == ["occurred_at"]


def test_max_future_is_ten_minutes() -> None:
    assert timedelta(minutes=10) == MAX_FUTURE


# --- agency_code ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["HN.MOTCUA", "a", "A" * 64, "so-tttt_hcm.01", "000.00.01.H26", "X-1_2.3"]
)
def test_agency_code_accepted(value: str) -> None:
    assert accepted(make("payment.succeeded", agency_code=value)).agency_code == value


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "at least 1 character"),
        ("A" * 65, "at most 64 characters"),
        ("HN MOTCUA", "should match pattern"),
        ("HN/MOTCUA", "should match pattern"),
        ("HN.MỘTCỬA", "should match pattern"),
        ("HN:MOTCUA", "should match pattern"),
        ("HN.MOTCUA\n", "should match pattern"),
        (42, "valid string"),
        (None, "valid string"),
    ],
)
@pytest.mark.parametrize("event_type", ["dossier.received", "invoice.cancelled", "payment.failed"])
def test_agency_code_rejected(event_type: str, value: Any, fragment: str) -> None:
    assert_rejected(make(event_type, agency_code=value), "agency_code", fragment)


# --- locality_code ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "01",  # Hà Nội, current
        "79",  # Thành phố Hồ Chí Minh, current
        "24",  # current Bắc Ninh (and pre-2025 Bắc Giang)
        "27",  # pre-2025 Bắc Ninh
        "02",  # pre-2025 Hà Giang
        "77",  # pre-2025 Bà Rịa - Vũng Tàu
    ],
)
def test_current_and_legacy_locality_codes_accepted(value: str) -> None:
    assert accepted(make("dossier.completed", locality_code=value)).locality_code == value


def test_every_reference_code_is_accepted() -> None:
    codes = load_localities().known_codes
    assert len(load_localities().current) == 34
    for code in sorted(codes):
        accepted(make("dossier.rated", locality_code=code))


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("99", "unknown locality code '99'"),
        ("00", "unknown locality code '00'"),
        ("03", "unknown locality code '03'"),
        ("1", "should match pattern"),
        ("001", "should match pattern"),
        ("HN", "should match pattern"),
        ("", "should match pattern"),
        (1, "valid string"),
        (None, "valid string"),
    ],
)
@pytest.mark.parametrize("event_type", ["dossier.rated", "invoice.issued", "payment.succeeded"])
def test_unknown_locality_code_rejected(event_type: str, value: Any, fragment: str) -> None:
    assert_rejected(make(event_type, locality_code=value), "locality_code", fragment)


# --- schema_version ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (2, "must be the integer 1"),
        (0, "must be the integer 1"),
        (-1, "must be the integer 1"),
        (True, "must be the integer 1"),
        (1.0, "must be the integer 1"),
        ("1", "must be the integer 1"),
        ("v1", "must be the integer 1"),
        (None, "must be the integer 1"),
    ],
)
@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_schema_version_must_be_integer_1(event_type: str, value: Any, fragment: str) -> None:
    assert_rejected(make(event_type, schema_version=value), "schema_version", fragment)


def test_schema_version_2_in_json_is_rejected() -> None:
    wire = orjson.dumps(make("invoice.issued", schema_version=2))
    assert_rejected(wire, "schema_version", "must be the integer 1")
    assert_rejected(
        wire.replace(b'"schema_version":2', b'"schema_version":true'), "schema_version", "integer 1"
    )


# --- whole messages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "fragment"),
    [
        (b"", "invalid JSON"),
        (b"{", "invalid JSON"),
        (b"{'event_type': 'dossier.rated'}", "invalid JSON"),
        (b"[]", "must be a JSON object, got list"),
        (b'"dossier.rated"', "must be a JSON object, got str"),
        (b"null", "must be a JSON object, got NoneType"),
        ("42", "must be a JSON object, got int"),
    ],
)
def test_not_a_json_object_is_rejected(wire: bytes | str, fragment: str) -> None:
    assert_rejected(wire, "$", fragment)


def test_every_problem_is_reported_at_once() -> None:
    errors = rejected(
        make(
            "invoice.issued",
            agency_code="",
            locality_code="99",
            amount_vnd=-1,
            seller_tax_code="123",
            note="x",
        )
    )
    assert {e.field for e in errors} == {
        "agency_code",
        "locality_code",
        "amount_vnd",
        "seller_tax_code",
        "note",
    }


def test_error_message_names_every_field() -> None:
    with pytest.raises(EventValidationError) as info:
        validate_event(make("dossier.rated", locality_code="99", satisfaction="ok"), now=NOW)
    message = str(info.value)
    assert message.startswith("invalid event: ")
    assert "locality_code: unknown locality code '99'" in message
    assert "satisfaction: " in message
    assert isinstance(info.value, ValueError)


def test_field_error_str() -> None:
    assert str(FieldError("amount_vnd", "must be > 0")) == "amount_vnd: must be > 0"


# --- create() and reject_citizen_id -----------------------------------------------------


def test_create_fills_event_id_type_and_version() -> None:
    first = DossierRated.create(
        occurred_at="2025-11-20T09:15:00+07:00",
        agency_code="HN.MOTCUA",
        locality_code="01",
        dossier_id="000.00.01.H26-261120-0001",
        satisfaction="neutral",
    )
    second = DossierRated.create(**first.model_dump(exclude={"event_id"}))
    assert first.event_type == "dossier.rated"
    assert first.schema_version == 1
    assert first.event_id != second.event_id
    assert accepted(first.to_json()) == first


def test_create_validates() -> None:
    with pytest.raises(EventValidationError) as info:
        DossierRated.create(
            occurred_at="2025-11-20T09:15:00+07:00",
            agency_code="HN.MOTCUA",
            locality_code="01",
            dossier_id="000.00.01.H26-261120-0001",
            satisfaction="ok",
        )
    assert [e.field for e in info.value.errors] == ["satisfaction"]


@pytest.mark.parametrize("value", ["123456789", "001204012345"])
def test_reject_citizen_id_refuses_9_and_12_digits(value: str) -> None:
    with pytest.raises(ValueError, match="raw citizen ID"):
        reject_citizen_id(value)


@pytest.mark.parametrize(
    "value", [None, "12345678", "1234567890", "12345678901", "1234567890123", "HS-123456789"]
)
def test_reject_citizen_id_lets_other_values_through(value: str | None) -> None:
    assert reject_citizen_id(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-20T09:15:00+07:00",
        "2026-11-20t09:15:00z",
        "2026-11-20T09:15:00.123456789Z",
        "2026-11-20T09:15:00.1234567890Z",
        "2026-11-20T09:15:00",
        "2026-11-20 09:15:00+07:00",
        "2026-11-20T09:15+07:00",
        "2026-11-20T09:15:00+0700",
        "2026-11-20T09:15:00+07:00\n",
        "x2026-11-20T09:15:00Z",
    ],
)
def test_fast_rfc3339_rule_is_the_documented_one(value: str) -> None:
    from dxpulse.contracts.common import _RFC3339, _RFC3339_FAST

    assert bool(_RFC3339_FAST.fullmatch(value)) == bool(_RFC3339.fullmatch(value))


def test_fast_rfc3339_rule_takes_ascii_digits_only() -> None:
    from dxpulse.contracts.common import _RFC3339_FAST

    assert not _RFC3339_FAST.fullmatch("٢٠٢٦-11-20T09:15:00Z")
