"""Turn a validated event into the row its raw table stores.

Example::

    from dxpulse.streams.normalize import Source, to_row

    row = to_row(event, Source("dx.dossier.v1", partition=2, offset=41, timestamp_ms=1763600100000))
    # {'event_id': ..., 'locality_code': '24', 'source_locality_code': '27', ...}

Normalisation: the locality code becomes the current unit's code (a pre-2025 code maps to
its successor; the code as sent is kept); timestamps become Unix seconds with millisecond
precision (``"1763604900.123"``, what ``DateTime64(3, 'UTC')`` parses fastest and without
time-zone ambiguity); absent optional fields become the column default. ``version`` orders copies of
one event so that the copy published first wins (see sql/0003_raw_events.sql).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dxpulse.contracts import (
    DossierCompleted,
    DossierRated,
    DossierReceived,
    EventBase,
    InvoiceIssued,
)
from dxpulse.contracts.invoice import InvoiceEventBase
from dxpulse.contracts.payment import PaymentEventBase
from dxpulse.reference import load_localities

__all__ = ["VERSION_BASE", "Source", "ch_ms", "ch_time", "epoch_ms", "to_row", "version_of"]

#: version = VERSION_BASE - publish time in ms: the earliest copy has the highest version.
VERSION_BASE = 10**13


@dataclass(frozen=True)
class Source:
    """Where a message came from: topic, partition, offset and Kafka timestamp (ms)."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def epoch_ms(value: datetime) -> int:
    """Milliseconds since the Unix epoch of an aware ``value`` (exact, truncating µs)."""
    return (value - _EPOCH) // _MS


def ch_ms(ms: int) -> str:
    """A ``DateTime64(3, 'UTC')`` value for JSONEachRow: Unix seconds with 3 decimals."""
    return f"{ms // 1000}.{ms % 1000:03d}"


def ch_time(value: datetime) -> str:
    """:func:`ch_ms` of an aware datetime, e.g. ``"1763604900.123"``."""
    return ch_ms(epoch_ms(value))


def version_of(timestamp_ms: int) -> int:
    """Row version for a copy published at ``timestamp_ms`` (earlier -> higher)."""
    return max(VERSION_BASE - timestamp_ms, 0)


def to_row(event: EventBase, source: Source) -> dict[str, Any]:
    """The raw-table row for ``event`` (keys are the table's column names)."""
    localities = load_localities()
    row: dict[str, Any] = {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "occurred_at": ch_time(event.occurred_at),
        "published_at": ch_ms(source.timestamp_ms),
        "agency_code": event.agency_code,
        "locality_code": localities.successor(event.locality_code),
        "source_locality_code": event.locality_code,
        "source_topic": source.topic,
        "source_partition": source.partition,
        "source_offset": source.offset,
        "version": version_of(source.timestamp_ms),
    }
    if isinstance(event, DossierReceived):
        row.update(
            dossier_id=event.dossier_id,
            procedure_code=event.procedure_code,
            channel=event.channel,
            online_level=event.online_level or "",
            due_at=ch_time(event.due_at),
            fee_required=event.fee_required,
            applicant_type=event.applicant_type,
            applicant_ref=event.applicant_ref or "",
        )
    elif isinstance(event, DossierCompleted):
        row.update(dossier_id=event.dossier_id, result=event.result, digitized=event.digitized)
    elif isinstance(event, DossierRated):
        row.update(dossier_id=event.dossier_id, satisfaction=event.satisfaction)
    elif isinstance(event, InvoiceEventBase):
        row.update(
            invoice_id=event.invoice_id,
            seller_tax_code=event.seller_tax_code,
            amount_vnd=event.amount_vnd,
        )
        if isinstance(event, InvoiceIssued):
            row.update(invoice_kind=event.invoice_kind, vat_vnd=event.vat_vnd)
    elif isinstance(event, PaymentEventBase):
        row.update(
            payment_id=event.payment_id,
            dossier_id=event.dossier_id or "",
            amount_vnd=event.amount_vnd,
            method=event.method,
            gateway=event.gateway,
        )
    else:  # pragma: no cover - every contract type is handled above
        raise TypeError(f"no row mapping for {type(event).__name__}")
    return row
