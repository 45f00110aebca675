"""Realistic valid events, one per type, and helpers to break them one field at a time."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from dxpulse.contracts import EventValidationError, FieldError, validate_event

#: Hanoi time; every example happened at 09:15 on 2026-11-20.
ICT = timezone(timedelta(hours=7))
OCCURRED_AT = "2026-11-20T09:15:00+07:00"
#: A fixed clock a quarter of an hour after the examples.
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=ICT)

_COMMON: dict[str, Any] = {
    "event_id": "0b3c7a1e-5d2f-4c8e-9a61-2f0e8d4b7c19",
    "occurred_at": OCCURRED_AT,
    "agency_code": "HN.MOTCUA",
    "locality_code": "01",
    "schema_version": 1,
}

_PAYMENT: dict[str, Any] = {
    "payment_id": "PAY-20261120-000123",
    "dossier_id": "000.00.01.H26-261120-0001",
    "amount_vnd": 150_000,
    "method": "qr",
    "gateway": "national_portal",
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "dossier.received": {
        **_COMMON,
        "event_type": "dossier.received",
        "dossier_id": "000.00.01.H26-261120-0001",
        "procedure_code": "1.004227",
        "channel": "online",
        "online_level": "full",
        "due_at": "2026-11-27T17:00:00+07:00",
        "fee_required": True,
        "applicant_type": "citizen",
        "applicant_ref": "3f1e" * 16,
    },
    "dossier.completed": {
        **_COMMON,
        "event_type": "dossier.completed",
        "dossier_id": "000.00.01.H26-261120-0001",
        "result": "approved",
        "digitized": True,
    },
    "dossier.rated": {
        **_COMMON,
        "event_type": "dossier.rated",
        "dossier_id": "000.00.01.H26-261120-0001",
        "satisfaction": "satisfied",
    },
    "invoice.issued": {
        **_COMMON,
        "event_type": "invoice.issued",
        "agency_code": "HN.CUCTHUE",
        "invoice_id": "C26TAA-0000123",
        "seller_tax_code": "0101234567",
        "invoice_kind": "with_code",
        "amount_vnd": 1_100_000,
        "vat_vnd": 100_000,
    },
    "invoice.cancelled": {
        **_COMMON,
        "event_type": "invoice.cancelled",
        "agency_code": "HN.CUCTHUE",
        "invoice_id": "C26TAA-0000123",
        "seller_tax_code": "0101234567-001",
        "amount_vnd": 1_100_000,
    },
    "payment.succeeded": {**_COMMON, "event_type": "payment.succeeded", **_PAYMENT},
    "payment.failed": {**_COMMON, "event_type": "payment.failed", **_PAYMENT, "method": "card"},
    "payment.refunded": {
        **_COMMON,
        "event_type": "payment.refunded",
        **_PAYMENT,
        "method": "bank_transfer",
        "gateway": "local_gateway",
    },
}

EVENT_TYPES = list(EXAMPLES)
DOSSIER_TYPES = [t for t in EVENT_TYPES if t.startswith("dossier.")]
INVOICE_TYPES = [t for t in EVENT_TYPES if t.startswith("invoice.")]
PAYMENT_TYPES = [t for t in EVENT_TYPES if t.startswith("payment.")]

#: Pass as an override value to leave the field out.
DROP: Any = object()


def make(event_type: str, /, **overrides: Any) -> dict[str, Any]:
    """A fresh copy of the example of ``event_type`` with ``overrides`` applied."""
    data = copy.deepcopy(EXAMPLES[event_type])
    for name, value in overrides.items():
        if value is DROP:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def accepted(data: Mapping[str, Any] | bytes | str, **kwargs: Any) -> Any:
    """Validate with the fixed clock (unless ``now`` is given) and return the model."""
    kwargs.setdefault("now", NOW)
    return validate_event(data, **kwargs)


def rejected(data: Mapping[str, Any] | bytes | str, **kwargs: Any) -> list[FieldError]:
    """The field errors of an event that must not validate."""
    kwargs.setdefault("now", NOW)
    with pytest.raises(EventValidationError) as info:
        validate_event(data, **kwargs)
    assert info.value.errors, "EventValidationError without errors"
    return info.value.errors


def assert_rejected(
    data: Mapping[str, Any] | bytes | str, field: str, fragment: str, **kwargs: Any
) -> None:
    """``data`` is rejected with exactly one error, on ``field``, whose reason has ``fragment``."""
    errors = rejected(data, **kwargs)
    assert [e.field for e in errors] == [field], errors
    assert fragment in errors[0].reason, errors
