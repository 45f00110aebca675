"""The 1-minute window and hourly roll-up metrics, and the SQL that recomputes them.

Each metric is one column of ``window_1m`` and ``rollup_1h`` (sql/0005_windows.sql) and
one aggregate over one raw table. The sink calls :func:`window_sql` for the
(locality, time range) spans a batch touched, then :func:`rollup_sql` for their hours:
both recompute *absolute* values from de-duplicated data and upsert them with a newer
version, so replays and late events correct rather than double count.

Example::

    spans = [Span("01", start, end)]
    client.command(window_sql("dx", spans, version=v, grace_seconds=300))
    client.command(rollup_sql("dx", spans, version=v))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["METRICS", "Metric", "Span", "coalesce_spans", "rollup_sql", "window_sql"]


@dataclass(frozen=True)
class Metric:
    """A window column: its name, the raw table it counts, and the aggregate over ``e``."""

    name: str
    table: str
    expr: str


_RECEIVED = "e.event_type = 'dossier.received'"
_COMPLETED = "e.event_type = 'dossier.completed'"
_RATED = "e.event_type = 'dossier.rated'"
_ISSUED = "e.event_type = 'invoice.issued'"
_CANCELLED = "e.event_type = 'invoice.cancelled'"

#: Every summed metric, in column order.
METRICS: tuple[Metric, ...] = (
    Metric("received", "dossier_events", f"countIf({_RECEIVED})"),
    Metric("received_online", "dossier_events", f"countIf({_RECEIVED} AND e.channel = 'online')"),
    Metric(
        "received_full_online",
        "dossier_events",
        f"countIf({_RECEIVED} AND e.channel = 'online' AND e.online_level = 'full')",
    ),
    Metric("received_fee_required", "dossier_events", f"countIf({_RECEIVED} AND e.fee_required)"),
    Metric("completed", "dossier_events", f"countIf({_COMPLETED})"),
    Metric(
        "completed_on_time",
        "dossier_events",
        f"countIf({_COMPLETED} AND l.due_at IS NOT NULL AND e.occurred_at <= l.due_at)",
    ),
    Metric(
        "completed_late",
        "dossier_events",
        f"countIf({_COMPLETED} AND l.due_at IS NOT NULL AND e.occurred_at > l.due_at)",
    ),
    Metric(
        "completed_on_time_unknown", "dossier_events", f"countIf({_COMPLETED} AND l.due_at IS NULL)"
    ),
    Metric("completed_digitized", "dossier_events", f"countIf({_COMPLETED} AND e.digitized)"),
    Metric("rated", "dossier_events", f"countIf({_RATED})"),
    Metric(
        "rated_dissatisfied",
        "dossier_events",
        f"countIf({_RATED} AND e.satisfaction = 'dissatisfied')",
    ),
    Metric("invoices_issued", "invoice_events", f"countIf({_ISSUED})"),
    Metric("invoices_cancelled", "invoice_events", f"countIf({_CANCELLED})"),
    Metric("issued_amount_vnd", "invoice_events", f"sumIf(e.amount_vnd, {_ISSUED})"),
    Metric("issued_vat_vnd", "invoice_events", f"sumIf(e.vat_vnd, {_ISSUED})"),
    Metric("cancelled_amount_vnd", "invoice_events", f"sumIf(e.amount_vnd, {_CANCELLED})"),
    Metric(
        "issued_with_code", "invoice_events", f"countIf({_ISSUED} AND e.invoice_kind = 'with_code')"
    ),
    Metric(
        "issued_without_code",
        "invoice_events",
        f"countIf({_ISSUED} AND e.invoice_kind = 'without_code')",
    ),
    Metric(
        "issued_cash_register",
        "invoice_events",
        f"countIf({_ISSUED} AND e.invoice_kind = 'cash_register')",
    ),
    Metric("payments_succeeded", "payment_events", "countIf(e.event_type = 'payment.succeeded')"),
    Metric("payments_failed", "payment_events", "countIf(e.event_type = 'payment.failed')"),
    Metric("payments_refunded", "payment_events", "countIf(e.event_type = 'payment.refunded')"),
    Metric(
        "succeeded_amount_vnd",
        "payment_events",
        "sumIf(e.amount_vnd, e.event_type = 'payment.succeeded')",
    ),
    Metric(
        "refunded_amount_vnd",
        "payment_events",
        "sumIf(e.amount_vnd, e.event_type = 'payment.refunded')",
    ),
)

#: Distinct dossier_ids with a succeeded payment (an aggregate state, merged upward).
PAID_DOSSIERS = (
    "uniqExactStateIf(e.dossier_id, e.event_type = 'payment.succeeded' AND e.dossier_id != '')"
)
TABLES = ("dossier_events", "invoice_events", "payment_events")
COLUMNS = (
    "locality_code",
    "window_start",
    *(m.name for m in METRICS),
    "paid_dossiers",
    "events",
    "late_events",
    "computed_at",
    "version",
)


@dataclass(frozen=True)
class Span:
    """Minutes ``start``..``end`` (inclusive, minute starts, UTC) of one locality."""

    locality_code: str
    start: datetime
    end: datetime


def coalesce_spans(
    points: Iterable[tuple[str, datetime]], *, max_gap: timedelta = timedelta(minutes=15)
) -> list[Span]:
    """Group (locality, minute) points into few spans, splitting where a gap exceeds ``max_gap``."""
    by_locality: dict[str, set[datetime]] = {}
    for locality, minute in points:
        by_locality.setdefault(locality, set()).add(minute)
    spans: list[Span] = []
    for locality in sorted(by_locality):
        minutes = sorted(by_locality[locality])
        start = prev = minutes[0]
        for minute in minutes[1:]:
            if minute - prev > max_gap:
                spans.append(Span(locality, start, prev))
                start = minute
            prev = minute
        spans.append(Span(locality, start, prev))
    return spans


def _literal(value: datetime) -> str:
    return f"toDateTime('{value.astimezone(UTC):%Y-%m-%d %H:%M:%S}', 'UTC')"


def _where(
    spans: Sequence[Span], column: str, unit: str, *, max_gap: timedelta = timedelta(minutes=15)
) -> str:
    """A filter covering every whole ``unit`` of ``spans``: one term per cluster of times.

    Spans whose times lie within ``max_gap`` of each other share one term,
    ``(column in [start, end) AND locality_code IN (...))``. That selects a superset of
    the touched cells; recomputing a cell that did not change rewrites the same absolute
    values, and a cell without rows produces nothing, so the result is the same and the
    query stays small (a batch touches ~34 localities over the same few minutes).
    """
    end_shift = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1)}[unit]
    for span in spans:
        if not span.locality_code.isdigit():  # validated upstream; never interpolate anything else
            raise ValueError(f"bad locality code {span.locality_code!r}")
    clusters: list[tuple[datetime, datetime, set[str]]] = []
    for span in sorted(spans, key=lambda s: s.start):
        if clusters and span.start - clusters[-1][1] <= max_gap:
            start, end, codes = clusters[-1]
            clusters[-1] = (start, max(end, span.end), codes | {span.locality_code})
        else:
            clusters.append((span.start, span.end, {span.locality_code}))
    parts = [
        f"({column} >= {_literal(start)} AND {column} < {_literal(end + end_shift)} "
        f"AND locality_code IN ({', '.join(repr(c) for c in sorted(codes))}))"
        for start, end, codes in clusters
    ]
    return "(" + " OR ".join(parts) + ")"


def _family_select(table: str, database: str, where: str, grace_seconds: int) -> str:
    metrics = ",\n        ".join(
        f"{m.expr if m.table == table else '0'} AS {m.name}" for m in METRICS
    )
    paid = PAID_DOSSIERS if table == "payment_events" else "uniqExactStateIf('', 0)"
    lifecycle = ""
    if table == "dossier_events":
        lifecycle = f"""
    LEFT JOIN
    (
        SELECT dossier_id, argMax(due_at, version) AS due_at
        FROM {database}.dossier_lifecycle
        WHERE dossier_id IN
            (SELECT dossier_id FROM {database}.dossier_events
             WHERE event_type = 'dossier.completed' AND {where})
        GROUP BY dossier_id
    ) AS l ON l.dossier_id = e.dossier_id"""
    return f"""
    SELECT
        e.locality_code AS locality_code,
        toStartOfMinute(e.occurred_at) AS minute,
        {metrics},
        {paid} AS paid_dossiers,
        count() AS events,
        countIf(e.published_at > toStartOfMinute(e.occurred_at) + {60 + grace_seconds}) AS late_events
    FROM {database}.{table} AS e FINAL{lifecycle}
    WHERE {where.replace("locality_code", "e.locality_code").replace("occurred_at", "e.occurred_at")}
    GROUP BY locality_code, minute"""


def window_sql(database: str, spans: Sequence[Span], *, version: int, grace_seconds: int) -> str:
    """INSERT that recomputes ``window_1m`` for every minute of ``spans``."""
    where = _where(spans, "occurred_at", "minute")
    union = "\n    UNION ALL".join(
        _family_select(t, database, where, grace_seconds) for t in TABLES
    )
    sums = ",\n    ".join(f"sum({m.name})" for m in METRICS)
    return f"""INSERT INTO {database}.window_1m ({", ".join(COLUMNS)})
SELECT
    locality_code,
    minute,
    {sums},
    uniqExactMergeState(paid_dossiers),
    sum(events),
    sum(late_events),
    now64(3),
    {int(version)}
FROM
({union}
)
GROUP BY locality_code, minute
SETTINGS join_use_nulls = 1"""


def rollup_sql(database: str, spans: Sequence[Span], *, version: int) -> str:
    """INSERT that recomputes ``rollup_1h`` for every hour touched by ``spans``."""
    hours = [
        Span(
            s.locality_code,
            s.start.replace(minute=0, second=0, microsecond=0),
            s.end.replace(minute=0, second=0, microsecond=0),
        )
        for s in spans
    ]
    where = _where(hours, "window_start", "hour")
    sums = ",\n    ".join(f"sum({m.name})" for m in METRICS)
    return f"""INSERT INTO {database}.rollup_1h ({", ".join(COLUMNS)})
SELECT
    locality_code,
    toStartOfHour(w.window_start) AS hour,
    {sums},
    uniqExactMergeState(w.paid_dossiers),
    sum(w.events),
    sum(w.late_events),
    now64(3),
    {int(version)}
FROM {database}.window_1m AS w FINAL
WHERE {where.replace("window_start", "w.window_start")}
GROUP BY locality_code, hour"""
