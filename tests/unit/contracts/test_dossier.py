"""Topic dx.dossier.v1: dossier.received, dossier.completed, dossier.rated."""

from __future__ import annotations

from typing import Any

import pytest

from dxpulse.contracts import (
    DOSSIER_TOPIC,
    DossierCompleted,
    DossierRated,
    DossierReceived,
    pseudonymize,
)
from tests.unit.contracts.examples import (
    DOSSIER_TYPES,
    DROP,
    accepted,
    assert_rejected,
    make,
    rejected,
)

CITIZEN_ID = "raw citizen ID"


def test_topic_and_key() -> None:
    assert DOSSIER_TOPIC == "dx.dossier.v1"
    for model in (DossierReceived, DossierCompleted, DossierRated):
        assert model.topic == DOSSIER_TOPIC
        assert model.key_field == "dossier_id"


@pytest.mark.parametrize("event_type", DOSSIER_TYPES)
def test_key_is_the_dossier_id(event_type: str) -> None:
    event = accepted(make(event_type, dossier_id="000.00.05.H26-261120-0042"))
    assert event.topic == "dx.dossier.v1"
    assert event.key == "000.00.05.H26-261120-0042"


# --- dossier_id (every dossier event) ---------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "x",
        "D" * 64,
        "12345678",  # 8 digits
        "1234567890",  # 10 digits
        "12345678901",  # 11 digits
        "1234567890123",  # 13 digits
        "H26.123456789",
        "HS-001204012345",
        "HS-Hà-Nội-0001",
    ],
)
@pytest.mark.parametrize("event_type", DOSSIER_TYPES)
def test_dossier_id_accepted(event_type: str, value: str) -> None:
    assert accepted(make(event_type, dossier_id=value)).dossier_id == value


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "at least 1 character"),
        ("D" * 65, "at most 64 characters"),
        ("123456789", CITIZEN_ID),  # CMND: 9 digits
        ("001204012345", CITIZEN_ID),  # CCCD: 12 digits
        ("000000000", CITIZEN_ID),
        (123456789, "valid string"),
        (None, "valid string"),
    ],
)
@pytest.mark.parametrize("event_type", DOSSIER_TYPES)
def test_dossier_id_rejected(event_type: str, value: Any, fragment: str) -> None:
    assert_rejected(make(event_type, dossier_id=value), "dossier_id", fragment)


@pytest.mark.parametrize("event_type", DOSSIER_TYPES)
def test_dossier_id_required(event_type: str) -> None:
    assert_rejected(make(event_type, dossier_id=DROP), "dossier_id", "is required")


def test_citizen_id_reason_points_at_pseudonymize() -> None:
    (error,) = rejected(make("dossier.received", dossier_id="001204012345"))
    assert "pseudonymize()" in error.reason
    assert "001204012345" not in error.reason  # never echo the personal datum


# --- dossier.received -------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    ["procedure_code", "channel", "due_at", "fee_required", "applicant_type"],
)
def test_received_required_fields(field: str) -> None:
    data = make("dossier.received", **{field: DROP})
    if field == "channel":
        data.pop("online_level")
    assert_rejected(data, field, "is required")


@pytest.mark.parametrize(
    "value", ["1.004227", "2.002154.000.00.00.H26", "P" * 32, "12345678", "1234567890", "TTHC-01"]
)
def test_procedure_code_accepted(value: str) -> None:
    assert accepted(make("dossier.received", procedure_code=value)).procedure_code == value


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "at least 1 character"),
        ("P" * 33, "at most 32 characters"),
        ("123456789", CITIZEN_ID),
        ("001204012345", CITIZEN_ID),
        (1.004227, "valid string"),
    ],
)
def test_procedure_code_rejected(value: Any, fragment: str) -> None:
    assert_rejected(make("dossier.received", procedure_code=value), "procedure_code", fragment)


@pytest.mark.parametrize(
    ("channel", "online_level"),
    [("online", "full"), ("online", "partial"), ("in_person", DROP), ("postal", DROP)],
)
def test_channel_and_online_level_accepted(channel: str, online_level: Any) -> None:
    event = accepted(make("dossier.received", channel=channel, online_level=online_level))
    assert event.channel == channel
    assert event.online_level == (None if online_level is DROP else online_level)


@pytest.mark.parametrize("value", ["offline", "Online", "ONLINE", "web", "", None, 1])
def test_channel_enum(value: Any) -> None:
    assert_rejected(
        make("dossier.received", channel=value, online_level=DROP), "channel", "Input should be"
    )


@pytest.mark.parametrize("value", ["Full", "level4", "3", "", 4])
def test_online_level_enum(value: Any) -> None:
    assert_rejected(make("dossier.received", online_level=value), "online_level", "Input should be")


@pytest.mark.parametrize("online_level", [DROP, None])
def test_online_level_required_when_online(online_level: Any) -> None:
    assert_rejected(
        make("dossier.received", channel="online", online_level=online_level),
        "online_level",
        "is required when channel is online",
    )


@pytest.mark.parametrize("channel", ["in_person", "postal"])
@pytest.mark.parametrize("online_level", ["full", "partial"])
def test_online_level_absent_otherwise(channel: str, online_level: str) -> None:
    assert_rejected(
        make("dossier.received", channel=channel, online_level=online_level),
        "online_level",
        f"must be absent when channel is {channel}",
    )


@pytest.mark.parametrize(
    "due_at",
    [
        "2026-11-20T09:15:01+07:00",
        "2026-11-27T17:00:00+07:00",
        "2026-11-20T02:16:00Z",
        "2027-01-05T17:00:00+07:00",
    ],
)
def test_due_at_later_than_occurred_at_accepted(due_at: str) -> None:
    accepted(make("dossier.received", due_at=due_at))


@pytest.mark.parametrize(
    "due_at",
    [
        "2026-11-20T09:15:00+07:00",  # equal
        "2026-11-20T02:15:00Z",  # the same instant in UTC
        "2026-11-20T09:14:59+07:00",
        "2026-11-19T17:00:00+07:00",
    ],
)
def test_due_at_not_later_than_occurred_at_rejected(due_at: str) -> None:
    assert_rejected(
        make("dossier.received", due_at=due_at), "due_at", "must be later than occurred_at"
    )


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("2026-11-27T17:00:00", "RFC 3339 with an offset"),
        ("2026-11-27 17:00:00+07:00", "RFC 3339 with an offset"),
        ("2026-11-27", "RFC 3339 with an offset"),
        ("2026-11-31T17:00:00+07:00", "not a valid date and time"),
        (None, "RFC 3339 timestamp string"),
    ],
)
def test_due_at_must_be_rfc3339(value: Any, fragment: str) -> None:
    assert_rejected(make("dossier.received", due_at=value), "due_at", fragment)


def test_due_at_may_be_far_in_the_future() -> None:
    """Only occurred_at has the ten-minute rule."""
    accepted(make("dossier.received", due_at="2030-01-01T00:00:00+07:00"))


@pytest.mark.parametrize("value", [True, False])
def test_fee_required_accepts_booleans(value: bool) -> None:
    assert accepted(make("dossier.received", fee_required=value)).fee_required is value


@pytest.mark.parametrize("value", ["true", "false", "yes", "1", "0", "", 1, 0, 1.0, None])
def test_fee_required_rejects_non_booleans(value: Any) -> None:
    assert_rejected(make("dossier.received", fee_required=value), "fee_required", "valid boolean")


@pytest.mark.parametrize("value", ["citizen", "business"])
def test_applicant_type_accepted(value: str) -> None:
    assert accepted(make("dossier.received", applicant_type=value)).applicant_type == value


@pytest.mark.parametrize("value", ["organisation", "Citizen", "cong_dan", "", None])
def test_applicant_type_enum(value: Any) -> None:
    assert_rejected(
        make("dossier.received", applicant_type=value), "applicant_type", "Input should be"
    )


def test_applicant_ref_is_optional() -> None:
    event = accepted(make("dossier.received", applicant_ref=DROP))
    assert event.applicant_ref is None
    assert b"applicant_ref" not in event.to_json()


def test_applicant_ref_accepts_a_pseudonym() -> None:
    ref = pseudonymize("001204012345", "khoa-bi-mat-cua-so-tttt-ha-noi")
    assert accepted(make("dossier.received", applicant_ref=ref)).applicant_ref == ref


@pytest.mark.parametrize(
    "value",
    [
        "a" * 63,
        "a" * 65,
        "A" * 64,  # uppercase hex
        "g" * 64,
        "001204012345",  # a raw CCCD is exactly what must not be sent
        "",
    ],
)
def test_applicant_ref_must_be_64_lowercase_hex(value: str) -> None:
    assert_rejected(
        make("dossier.received", applicant_ref=value), "applicant_ref", "should match pattern"
    )


def test_received_collects_independent_problems() -> None:
    errors = rejected(
        make("dossier.received", channel="fax", fee_required="no", procedure_code="123456789")
    )
    assert {e.field for e in errors} == {"channel", "fee_required", "procedure_code"}


# --- dossier.completed ------------------------------------------------------------------


@pytest.mark.parametrize("result", ["approved", "rejected"])
@pytest.mark.parametrize("digitized", [True, False])
def test_completed_accepted(result: str, digitized: bool) -> None:
    event = accepted(make("dossier.completed", result=result, digitized=digitized))
    assert isinstance(event, DossierCompleted)
    assert (event.result, event.digitized) == (result, digitized)


@pytest.mark.parametrize("field", ["result", "digitized"])
def test_completed_required_fields(field: str) -> None:
    assert_rejected(make("dossier.completed", **{field: DROP}), field, "is required")


@pytest.mark.parametrize("value", ["approve", "Approved", "cancelled", "withdrawn", "", None, 1])
def test_completed_result_enum(value: Any) -> None:
    assert_rejected(make("dossier.completed", result=value), "result", "Input should be")


@pytest.mark.parametrize("value", ["true", "True", "1", 1, 0, None])
def test_completed_digitized_must_be_boolean(value: Any) -> None:
    assert_rejected(make("dossier.completed", digitized=value), "digitized", "valid boolean")


@pytest.mark.parametrize("extra", ["due_at", "channel", "satisfaction"])
def test_completed_rejects_fields_of_other_types(extra: str) -> None:
    assert_rejected(make("dossier.completed", **{extra: "x"}), extra, "unknown field")


# --- dossier.rated ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["satisfied", "neutral", "dissatisfied"])
def test_rated_accepted(value: str) -> None:
    event = accepted(make("dossier.rated", satisfaction=value))
    assert isinstance(event, DossierRated)
    assert event.satisfaction == value


@pytest.mark.parametrize("value", ["happy", "Satisfied", "hai_long", "5", 5, "", None])
def test_rated_satisfaction_enum(value: Any) -> None:
    assert_rejected(make("dossier.rated", satisfaction=value), "satisfaction", "Input should be")


def test_rated_satisfaction_required() -> None:
    assert_rejected(make("dossier.rated", satisfaction=DROP), "satisfaction", "is required")


@pytest.mark.parametrize("topic", ["dx.invoice.v1", "dx.payment.v1"])
@pytest.mark.parametrize("event_type", DOSSIER_TYPES)
def test_dossier_events_only_on_their_topic(event_type: str, topic: str) -> None:
    assert_rejected(
        make(event_type), "event_type", f"belongs on dx.dossier.v1, not {topic}", topic=topic
    )
    assert accepted(make(event_type), topic="dx.dossier.v1").event_type == event_type
