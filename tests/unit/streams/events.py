"""Valid events of every type for the stream unit tests, and their wire form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson

from dxpulse.contracts import (
    DOSSIER_TOPIC,
    EVENT_MODELS,
    INVOICE_TOPIC,
    PAYMENT_TOPIC,
    EventBase,
)

ICT = timezone(timedelta(hours=7))
OCCURRED = "2026-11-20T09:15:00.123+07:00"
#: ... as a row stores it: Unix seconds with milliseconds (2026-11-20 02:15:00.123 UTC).
OCCURRED_UTC = f"{int(datetime(2026, 11, 20, 2, 15, tzinfo=UTC).timestamp())}.123"
#: Kafka timestamp 2026-11-20T02:15:30.456Z.
PUBLISHED_MS = int(datetime(2026, 11, 20, 2, 15, 30, 456000, tzinfo=UTC).timestamp() * 1000)
PUBLISHED_UTC = f"{int(datetime(2026, 11, 20, 2, 15, 30, tzinfo=UTC).timestamp())}.456"
#: A fixed clock a little after the events (for the "not in the future" rule).
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=ICT)
DOSSIER = "000.00.01.H26-261120-0001"
APPLICANT = "3f1e" * 16
EVENT_ID = "0b3c7a1e-5d2f-4c8e-9a61-2f0e8d4b7c19"

EVENT_TYPES = list(EVENT_MODELS)
TOPIC_OF_FAMILY = {"dossier": DOSSIER_TOPIC, "invoice": INVOICE_TOPIC, "payment": PAYMENT_TOPIC}

_COMMON: dict[str, Any] = {
    "occurred_at": OCCURRED,
    "agency_code": "HN.MOTCUA",
    "locality_code": "01",
}
_PAYMENT: dict[str, Any] = {
    "payment_id": "PAY-1",
    "dossier_id": DOSSIER,
    "amount_vnd": 150_000,
    "method": "qr",
    "gateway": "national_portal",
}
_INVOICE: dict[str, Any] = {
    "invoice_id": "C26TAA-1",
    "seller_tax_code": "0101234567",
    "amount_vnd": 1_100_000,
}
#: Type-specific fields, every optional one set.
FIELDS: dict[str, dict[str, Any]] = {
    "dossier.received": {
        "dossier_id": DOSSIER,
        "procedure_code": "1.004227",
        "channel": "online",
        "online_level": "full",
        "due_at": "2026-11-27T17:00:00+07:00",
        "fee_required": True,
        "applicant_type": "citizen",
        "applicant_ref": APPLICANT,
    },
    "dossier.completed": {"dossier_id": DOSSIER, "result": "rejected", "digitized": False},
    "dossier.rated": {"dossier_id": DOSSIER, "satisfaction": "dissatisfied"},
    "invoice.issued": {**_INVOICE, "invoice_kind": "cash_register", "vat_vnd": 100_000},
    "invoice.cancelled": _INVOICE,
    "payment.succeeded": _PAYMENT,
    "payment.failed": {**_PAYMENT, "method": "card"},
    "payment.refunded": {**_PAYMENT, "gateway": "local_gateway"},
}


def topic_of(event_type: str) -> str:
    """The source topic of ``event_type``'s family."""
    return TOPIC_OF_FAMILY[event_type.split(".")[0]]


def build(event_type: str, /, **overrides: Any) -> EventBase:
    """A valid event of ``event_type`` (via the model's ``create``), with ``overrides``."""
    model = EVENT_MODELS[event_type]
    return model.create(**{**_COMMON, **FIELDS[event_type], **overrides})


#: Pass to :func:`wire` as a value to leave that field out.
DROP: Any = object()


def wire(event_type: str, /, **overrides: Any) -> dict[str, Any]:
    """The JSON object of a valid event with ``overrides`` applied afterwards (may break it)."""
    data: dict[str, Any] = orjson.loads(build(event_type, event_id=EVENT_ID).to_json())
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not DROP}


def wire_bytes(event_type: str, /, **overrides: Any) -> bytes:
    """:func:`wire` as the bytes a producer sends."""
    return orjson.dumps(wire(event_type, **overrides))
