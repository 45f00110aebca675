"""Topic dx.invoice.v1: invoice.issued, invoice.cancelled."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from dxpulse.contracts import INVOICE_TOPIC, InvoiceCancelled, InvoiceIssued
from tests.unit.contracts.examples import (
    DROP,
    INVOICE_TYPES,
    accepted,
    assert_rejected,
    make,
    rejected,
)

NOT_AN_INT = [
    (1.0, "valid integer"),
    (100000.5, "valid integer"),
    ("100000", "valid integer"),
    ("", "valid integer"),
    (True, "valid integer"),
    (False, "valid integer"),
    (None, "valid integer"),
]


def test_topic_and_key() -> None:
    assert INVOICE_TOPIC == "dx.invoice.v1"
    for model in (InvoiceIssued, InvoiceCancelled):
        assert model.topic == INVOICE_TOPIC
        assert model.key_field == "invoice_id"


@pytest.mark.parametrize("event_type", INVOICE_TYPES)
def test_key_is_the_invoice_id(event_type: str) -> None:
    event = accepted(make(event_type, invoice_id="1C26TAA-00000789"))
    assert event.topic == "dx.invoice.v1"
    assert event.key == "1C26TAA-00000789"


@pytest.mark.parametrize("event_type", INVOICE_TYPES)
@pytest.mark.parametrize("field", ["invoice_id", "seller_tax_code", "amount_vnd"])
def test_required_fields(event_type: str, field: str) -> None:
    assert_rejected(make(event_type, **{field: DROP}), field, "is required")


@pytest.mark.parametrize("field", ["invoice_kind", "vat_vnd"])
def test_issued_required_fields(field: str) -> None:
    assert_rejected(make("invoice.issued", **{field: DROP}), field, "is required")


# --- invoice_id -------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "I" * 64, "C26TAA-0000123", "HĐ-2026-000123", "123456789"])
@pytest.mark.parametrize("event_type", INVOICE_TYPES)
def test_invoice_id_accepted(event_type: str, value: str) -> None:
    assert accepted(make(event_type, invoice_id=value)).invoice_id == value


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("", "at least 1 character"), ("I" * 65, "at most 64 characters"), (123, "valid string")],
)
@pytest.mark.parametrize("event_type", INVOICE_TYPES)
def test_invoice_id_rejected(event_type: str, value: Any, fragment: str) -> None:
    assert_rejected(make(event_type, invoice_id=value), "invoice_id", fragment)


# --- seller_tax_code --------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0101234567", "0101234567-001", "0300588569-999"])
@pytest.mark.parametrize("event_type", INVOICE_TYPES)
def test_tax_code_accepted(event_type: str, value: str) -> None:
    assert accepted(make(event_type, seller_tax_code=value)).seller_tax_code == value


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("010123456", "should match pattern"),  # 9 digits
        ("01012345678", "should match pattern"),  # 11 digits
        ("0101234567-01", "should match pattern"),
        ("0101234567-0001", "should match pattern"),
        ("0101234567001", "should match pattern"),  # branch without the hyphen
        ("0101234567_001", "should match pattern"),
        ("010123456A", "should match pattern"),
        (" 0101234567", "should match pattern"),
        ("0101234567\n", "should match pattern"),
        ("٠١٠١٢٣٤٥٦٧", "should match pattern"),  # Arabic-Indic digits are not ASCII digits
        ("", "should match pattern"),
        (101234567, "valid string"),
    ],
)
@pytest.mark.parametrize("event_type", INVOICE_TYPES)
def test_tax_code_rejected(event_type: str, value: Any, fragment: str) -> None:
    assert_rejected(make(event_type, seller_tax_code=value), "seller_tax_code", fragment)


# --- amounts ----------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, 1, 1_100_000, 9_999_999_999_999])
@pytest.mark.parametrize("event_type", INVOICE_TYPES)
def test_amount_accepted(event_type: str, amount: int) -> None:
    data = make(event_type, amount_vnd=amount)
    if event_type == "invoice.issued":
        data["vat_vnd"] = 0
    assert accepted(data).amount_vnd == amount


@pytest.mark.parametrize(
    ("value", "fragment"),
    [(-1, "greater than or equal to 0"), (-1_100_000, "greater than or equal to 0"), *NOT_AN_INT],
)
@pytest.mark.parametrize("event_type", INVOICE_TYPES)
def test_amount_rejected(event_type: str, value: Any, fragment: str) -> None:
    assert_rejected(make(event_type, amount_vnd=value), "amount_vnd", fragment)


@pytest.mark.parametrize(
    ("amount", "vat"), [(0, 0), (1_100_000, 0), (1_100_000, 100_000), (1_100_000, 1_100_000)]
)
def test_vat_within_amount_accepted(amount: int, vat: int) -> None:
    event = accepted(make("invoice.issued", amount_vnd=amount, vat_vnd=vat))
    assert (event.amount_vnd, event.vat_vnd) == (amount, vat)


@pytest.mark.parametrize(("amount", "vat"), [(0, 1), (1_100_000, 1_100_001), (100, 1_000)])
def test_vat_above_amount_rejected(amount: int, vat: int) -> None:
    assert_rejected(
        make("invoice.issued", amount_vnd=amount, vat_vnd=vat),
        "vat_vnd",
        f"must not exceed amount_vnd ({vat} > {amount})",
    )


@pytest.mark.parametrize(("value", "fragment"), [(-1, "greater than or equal to 0"), *NOT_AN_INT])
def test_vat_rejected(value: Any, fragment: str) -> None:
    assert_rejected(make("invoice.issued", vat_vnd=value), "vat_vnd", fragment)


@pytest.mark.parametrize("wire_amount", [b"1100000.0", b"1.1e6", b'"1100000"', b"true"])
def test_amount_must_be_a_json_integer(wire_amount: bytes) -> None:
    wire = orjson.dumps(make("invoice.cancelled")).replace(b"1100000", wire_amount)
    assert_rejected(wire, "amount_vnd", "valid integer")


# --- invoice_kind and the cancelled shape -----------------------------------------------


@pytest.mark.parametrize("value", ["with_code", "without_code", "cash_register"])
def test_invoice_kind_accepted(value: str) -> None:
    assert accepted(make("invoice.issued", invoice_kind=value)).invoice_kind == value


@pytest.mark.parametrize("value", ["pos", "with-code", "WITH_CODE", "co_ma", "", None])
def test_invoice_kind_enum(value: Any) -> None:
    assert_rejected(make("invoice.issued", invoice_kind=value), "invoice_kind", "Input should be")


@pytest.mark.parametrize("extra", ["invoice_kind", "vat_vnd", "reason"])
def test_cancelled_has_no_issued_only_fields(extra: str) -> None:
    assert_rejected(make("invoice.cancelled", **{extra: 0}), extra, "unknown field")


def test_cancelled_amount_zero_allowed() -> None:
    assert accepted(make("invoice.cancelled", amount_vnd=0)).amount_vnd == 0


def test_issued_collects_independent_problems() -> None:
    errors = rejected(make("invoice.issued", amount_vnd=-5, invoice_kind="paper"))
    assert {e.field for e in errors} == {"amount_vnd", "invoice_kind"}


@pytest.mark.parametrize("topic", ["dx.dossier.v1", "dx.payment.v1"])
@pytest.mark.parametrize("event_type", INVOICE_TYPES)
def test_invoice_events_only_on_their_topic(event_type: str, topic: str) -> None:
    assert_rejected(
        make(event_type), "event_type", f"belongs on dx.invoice.v1, not {topic}", topic=topic
    )
    assert accepted(make(event_type), topic="dx.invoice.v1").event_type == event_type
