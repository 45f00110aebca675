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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dxpulse.contracts import (
    DossierCompleted,
    DossierRated,
    DossierReceived,
    EventBase,
    InvoiceCancelled,
    InvoiceIssued,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
)
from dxpulse.reference import load_localities

__all__ = [
    "VERSION_BASE",
    "Source",
    "ch_ms",
    "ch_time",
    "epoch_ms",
    "to_row",
    "to_rows",
    "version_of",
]

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
    return to_rows([event], source)[0][0]


def to_rows(events: Sequence[EventBase], source: Source) -> tuple[list[dict[str, Any]], list[int]]:
    """:func:`to_row` of every event of one message, and each event's ``occurred_at`` in ms.

    What the message gives every row (source coordinates, publish time, version) is
    worked out once.
    """
    successor = load_localities().successor
    common = {
        "published_at": ch_ms(source.timestamp_ms),
        "source_topic": source.topic,
        "source_partition": source.partition,
        "source_offset": source.offset,
        "version": version_of(source.timestamp_ms),
    }
    rows: list[dict[str, Any]] = []
    occurred: list[int] = []
    for event in events:
        ms = epoch_ms(event.occurred_at)
        fields = event.__dict__
        row = {
            "event_id": fields["event_id"],
            "event_type": fields["event_type"],
            "occurred_at": ch_ms(ms),
            "agency_code": fields["agency_code"],
            "locality_code": successor(fields["locality_code"]),
            "source_locality_code": fields["locality_code"],
            **common,
        }
        try:
            specific = _SPECIFIC[type(event)]
        except KeyError:  # pragma: no cover - every contract type has a mapping
            raise TypeError(f"no row mapping for {type(event).__name__}") from None
        row.update(specific(fields))
        rows.append(row)
        occurred.append(ms)
    return rows, occurred


def _received(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "dossier_id": f["dossier_id"],
        "procedure_code": f["procedure_code"],
        "channel": f["channel"],
        "online_level": f["online_level"] or "",
        "due_at": ch_time(f["due_at"]),
        "fee_required": f["fee_required"],
        "applicant_type": f["applicant_type"],
        "applicant_ref": f["applicant_ref"] or "",
    }


def _completed(f: dict[str, Any]) -> dict[str, Any]:
    return {"dossier_id": f["dossier_id"], "result": f["result"], "digitized": f["digitized"]}


def _rated(f: dict[str, Any]) -> dict[str, Any]:
    return {"dossier_id": f["dossier_id"], "satisfaction": f["satisfaction"]}


def _invoice(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "invoice_id": f["invoice_id"],
        "seller_tax_code": f["seller_tax_code"],
        "amount_vnd": f["amount_vnd"],
    }


def _issued(f: dict[str, Any]) -> dict[str, Any]:
    return {**_invoice(f), "invoice_kind": f["invoice_kind"], "vat_vnd": f["vat_vnd"]}


def _payment(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "payment_id": f["payment_id"],
        "dossier_id": f["dossier_id"] or "",
        "amount_vnd": f["amount_vnd"],
        "method": f["method"],
        "gateway": f["gateway"],
    }


#: event class -> the columns only its family has.
_SPECIFIC: dict[type[EventBase], Callable[[dict[str, Any]], dict[str, Any]]] = {
    DossierReceived: _received,
    DossierCompleted: _completed,
    DossierRated: _rated,
    InvoiceIssued: _issued,
    InvoiceCancelled: _invoice,
    PaymentSucceeded: _payment,
    PaymentFailed: _payment,
    PaymentRefunded: _payment,
}
