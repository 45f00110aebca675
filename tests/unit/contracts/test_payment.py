"""Topic dx.payment.v1: payment.succeeded, payment.failed, payment.refunded."""

from __future__ import annotations

from typing import Any

import pytest

from dxpulse.contracts import PAYMENT_TOPIC, PaymentFailed, PaymentRefunded, PaymentSucceeded
from tests.unit.contracts.examples import (
    DROP,
    PAYMENT_TYPES,
    accepted,
    assert_rejected,
    make,
)

pytestmark = pytest.mark.parametrize("event_type", PAYMENT_TYPES)


def test_topic_and_key(event_type: str) -> None:
    model = {
        "payment.succeeded": PaymentSucceeded,
        "payment.failed": PaymentFailed,
        "payment.refunded": PaymentRefunded,
    }[event_type]
    assert PAYMENT_TOPIC == model.topic == "dx.payment.v1"
    assert model.key_field == "payment_id"
    event = accepted(make(event_type, payment_id="VNPAY-20261120-7781"))
    assert isinstance(event, model)
    assert event.key == "VNPAY-20261120-7781"
    assert event.topic == "dx.payment.v1"


@pytest.mark.parametrize("field", ["payment_id", "amount_vnd", "method", "gateway"])
def test_required_fields(event_type: str, field: str) -> None:
    assert_rejected(make(event_type, **{field: DROP}), field, "is required")


# --- payment_id -------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "P" * 64, "VNPAY-20261120-7781", "123456789"])
def test_payment_id_accepted(event_type: str, value: str) -> None:
    assert accepted(make(event_type, payment_id=value)).payment_id == value


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("", "at least 1 character"), ("P" * 65, "at most 64 characters"), (7781, "valid string")],
)
def test_payment_id_rejected(event_type: str, value: Any, fragment: str) -> None:
    assert_rejected(make(event_type, payment_id=value), "payment_id", fragment)


# --- dossier_id (optional) --------------------------------------------------------------


@pytest.mark.parametrize("value", [DROP, None])
def test_dossier_id_is_optional(event_type: str, value: Any) -> None:
    event = accepted(make(event_type, dossier_id=value))
    assert event.dossier_id is None
    assert b"dossier_id" not in event.to_json()


@pytest.mark.parametrize(
    "value", ["000.00.01.H26-261120-0001", "D" * 64, "12345678", "1234567890", "1234567890123"]
)
def test_dossier_id_accepted(event_type: str, value: str) -> None:
    assert accepted(make(event_type, dossier_id=value)).dossier_id == value


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "at least 1 character"),
        ("D" * 65, "at most 64 characters"),
        ("123456789", "raw citizen ID"),
        ("001204012345", "raw citizen ID"),
    ],
)
def test_dossier_id_rejected(event_type: str, value: str, fragment: str) -> None:
    assert_rejected(make(event_type, dossier_id=value), "dossier_id", fragment)


# --- amount_vnd -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1, 150_000, 50_000_000_000])
def test_amount_accepted(event_type: str, value: int) -> None:
    assert accepted(make(event_type, amount_vnd=value)).amount_vnd == value


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (0, "greater than 0"),
        (-1, "greater than 0"),
        (150_000.0, "valid integer"),
        (0.5, "valid integer"),
        ("150000", "valid integer"),
        (True, "valid integer"),
        (False, "valid integer"),
        (None, "valid integer"),
    ],
)
def test_amount_rejected(event_type: str, value: Any, fragment: str) -> None:
    assert_rejected(make(event_type, amount_vnd=value), "amount_vnd", fragment)


# --- method and gateway -----------------------------------------------------------------


@pytest.mark.parametrize("value", ["bank_transfer", "card", "e_wallet", "qr"])
def test_method_accepted(event_type: str, value: str) -> None:
    assert accepted(make(event_type, method=value)).method == value


@pytest.mark.parametrize("value", ["cash", "QR", "ewallet", "e-wallet", "", None])
def test_method_enum(event_type: str, value: Any) -> None:
    assert_rejected(make(event_type, method=value), "method", "Input should be")


@pytest.mark.parametrize("value", ["national_portal", "local_gateway"])
def test_gateway_accepted(event_type: str, value: str) -> None:
    assert accepted(make(event_type, gateway=value)).gateway == value


@pytest.mark.parametrize("value", ["vnpay", "1", 1, "National_Portal", "", None])
def test_gateway_enum(event_type: str, value: Any) -> None:
    assert_rejected(make(event_type, gateway=value), "gateway", "Input should be")


@pytest.mark.parametrize("topic", ["dx.dossier.v1", "dx.invoice.v1"])
def test_payment_events_only_on_their_topic(event_type: str, topic: str) -> None:
    assert_rejected(
        make(event_type), "event_type", f"belongs on dx.payment.v1, not {topic}", topic=topic
    )
    assert accepted(make(event_type), topic="dx.payment.v1").event_type == event_type
