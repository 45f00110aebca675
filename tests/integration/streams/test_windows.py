"""Windows, roll-ups and analyst views computed by the real SQL on the embedded ClickHouse.

No Kafka: rows are built as the workers build them (``normalize.to_row``) and inserted as
the sink inserts them (one ``JSONEachRow`` insert per table), then the sink's window and
roll-up statements (``windows.window_sql`` / ``rollup_sql`` over ``coalesce_spans``) run.
Expected values are worked out by hand from the events each test writes.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pytest

from dxpulse.clickhouse import Client
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
from dxpulse.migrations import Migrator
from dxpulse.settings import Settings
from dxpulse.streams.normalize import Source, to_row
from dxpulse.streams.topics import ROW_TOPICS, TABLE_OF_TOPIC
from dxpulse.streams.windows import METRICS, coalesce_spans, rollup_sql, window_sql

pytestmark = pytest.mark.integration

#: Extra columns read back next to the metrics (paid_dossiers finalised to a count).
EXTRA = ("paid_dossiers", "events", "late_events")
WEEK = timedelta(days=7)


def utc(text: str) -> datetime:
    """``'2026-10-20 02:15:05.250'`` (UTC) as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def minute_of(row: dict[str, Any]) -> datetime:
    """The minute of a row's ``occurred_at`` (Unix seconds with milliseconds, "s.fff")."""
    seconds = int(row["occurred_at"].split(".")[0])
    return datetime.fromtimestamp(seconds - seconds % 60, UTC)


def counts(**nonzero: int) -> dict[str, int]:
    """Every window column read back, 0 unless given."""
    names = [m.name for m in METRICS] + list(EXTRA)
    unknown = set(nonzero) - set(names)
    assert not unknown, unknown
    return {name: nonzero.get(name, 0) for name in names}


# Events ----------------------------------------------------------------------------------


def received(
    dossier: str,
    at: datetime,
    *,
    locality: str = "01",
    channel: str = "online",
    level: str | None = "full",
    fee: bool = True,
    due: datetime | None = None,
) -> DossierReceived:
    return DossierReceived.create(
        occurred_at=at,
        agency_code="TEST.MC",
        locality_code=locality,
        dossier_id=dossier,
        procedure_code="1.004227",
        channel=channel,
        online_level=level if channel == "online" else None,
        due_at=due or at + WEEK,
        fee_required=fee,
        applicant_type="citizen",
    )


def completed(
    dossier: str, at: datetime, *, locality: str = "01", digitized: bool = True
) -> DossierCompleted:
    return DossierCompleted.create(
        occurred_at=at,
        agency_code="TEST.MC",
        locality_code=locality,
        dossier_id=dossier,
        result="approved",
        digitized=digitized,
    )


def rated(
    dossier: str, at: datetime, satisfaction: str = "satisfied", *, locality: str = "01"
) -> DossierRated:
    return DossierRated.create(
        occurred_at=at,
        agency_code="TEST.MC",
        locality_code=locality,
        dossier_id=dossier,
        satisfaction=satisfaction,
    )


def issued(
    invoice: str, at: datetime, amount: int, vat: int, kind: str = "with_code", locality: str = "01"
) -> InvoiceIssued:
    return InvoiceIssued.create(
        occurred_at=at,
        agency_code="TEST.THUE",
        locality_code=locality,
        invoice_id=invoice,
        seller_tax_code="0101234567",
        invoice_kind=kind,
        amount_vnd=amount,
        vat_vnd=vat,
    )


def cancelled(invoice: str, at: datetime, amount: int, locality: str = "01") -> InvoiceCancelled:
    return InvoiceCancelled.create(
        occurred_at=at,
        agency_code="TEST.THUE",
        locality_code=locality,
        invoice_id=invoice,
        seller_tax_code="0101234567",
        amount_vnd=amount,
    )


_PAYMENT_MODELS: dict[str, type[EventBase]] = {
    "succeeded": PaymentSucceeded,
    "failed": PaymentFailed,
    "refunded": PaymentRefunded,
}


def payment(
    payment_id: str,
    at: datetime,
    dossier: str | None,
    amount: int,
    outcome: str = "succeeded",
    *,
    locality: str = "01",
) -> EventBase:
    return _PAYMENT_MODELS[outcome].create(
        occurred_at=at,
        agency_code="TEST.PAY",
        locality_code=locality,
        payment_id=payment_id,
        dossier_id=dossier,
        amount_vnd=amount,
        method="qr",
        gateway="national_portal",
    )


# The warehouse under test -----------------------------------------------------------------


class Warehouse:
    """A migrated test database plus the sink's write path, step by step."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self.client = client
        self.database = settings.database
        self.grace_seconds = settings.window_grace_seconds
        Migrator(client, database=self.database).migrate()
        self._offsets = itertools.count()
        self._versions = itertools.count(1)

    # rows as the workers build them

    def rows(
        self,
        events: Iterable[EventBase],
        *,
        published: datetime | None = None,
        delay: timedelta = timedelta(seconds=2),
    ) -> list[dict[str, Any]]:
        """Normalised rows, each copy published ``delay`` after it occurred (or at ``published``)."""
        out = []
        for event in events:
            when = published or event.occurred_at + delay
            source = Source(
                event.topic, partition=0, offset=next(self._offsets), timestamp_ms=ms(when)
            )
            out.append(to_row(event, source))
        return out

    # what the sink does with them

    def insert(self, rows: Sequence[dict[str, Any]]) -> None:
        by_table: dict[str, list[bytes]] = defaultdict(list)
        for row in rows:
            by_table[TABLE_OF_TOPIC[ROW_TOPICS[row["source_topic"]]]].append(orjson.dumps(row))
        for table, lines in by_table.items():
            self.client.raw_insert(
                f"{self.database}.{table}", None, b"\n".join(lines), fmt="JSONEachRow"
            )

    def recompute(
        self, points: Iterable[tuple[str, datetime]], *, grace_seconds: int | None = None
    ) -> None:
        spans = coalesce_spans(points)
        assert spans
        version = next(self._versions)
        grace = self.grace_seconds if grace_seconds is None else grace_seconds
        self.client.command(window_sql(self.database, spans, version=version, grace_seconds=grace))
        self.client.command(rollup_sql(self.database, spans, version=version))

    def completions_of(self, dossier_ids: Sequence[str]) -> set[tuple[str, datetime]]:
        """Windows of completions of these dossiers (what the sink adds for received rows)."""
        result = self.client.query(
            f"SELECT DISTINCT locality_code, toStartOfMinute(occurred_at) "
            f"FROM {self.database}.dossier_events "
            "WHERE event_type = 'dossier.completed' AND dossier_id IN {ids:Array(String)}",
            parameters={"ids": list(dossier_ids)},
        )
        return {(str(loc), at.replace(tzinfo=UTC)) for loc, at in result.result_rows}

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """One sink batch: insert, then recompute every window the rows touch."""
        self.insert(rows)
        points = {(r["locality_code"], minute_of(r)) for r in rows}
        received_ids = [r["dossier_id"] for r in rows if r["event_type"] == "dossier.received"]
        if received_ids:
            points |= self.completions_of(received_ids)
        self.recompute(points)

    # reading back

    def _read(self, table: str) -> dict[tuple[str, str], dict[str, int]]:
        metrics = ", ".join(m.name for m in METRICS)
        result = self.client.query(
            f"SELECT locality_code, toString(window_start) AS at, {metrics}, "
            "finalizeAggregation(paid_dossiers) AS paid_dossiers, events, late_events "
            f"FROM {self.database}.{table} FINAL ORDER BY locality_code, window_start"
        )
        out: dict[tuple[str, str], dict[str, int]] = {}
        for row in result.named_results():
            key = (str(row.pop("locality_code")), str(row.pop("at")))
            assert key not in out, f"FINAL returned {key} twice"
            out[key] = {k: int(v) for k, v in row.items()}
        return out

    def windows(self) -> dict[tuple[str, str], dict[str, int]]:
        return self._read("window_1m")

    def hours(self) -> dict[tuple[str, str], dict[str, int]]:
        return self._read("rollup_1h")

    def view(self, name: str, order_by: str = "day, locality_code") -> list[dict[str, Any]]:
        result = self.client.query(f"SELECT * FROM {self.database}.{name} ORDER BY {order_by}")
        return list(result.named_results())

    def raw_count(self, table: str) -> int:
        return int(self.client.command(f"SELECT count() FROM {self.database}.{table} FINAL"))


@pytest.fixture
def warehouse(ch_client: Client, settings: Settings) -> Warehouse:
    assert settings.window_grace_seconds == 300
    return Warehouse(ch_client, settings)


# Exact counts, replays --------------------------------------------------------------------


def mixed_batch() -> list[EventBase]:
    """Every metric at least once: 01 at 02:15 and 02:47, legacy 27 at 02:16, 79 at 03:05."""
    m = utc("2026-10-20 02:15:00")
    m2 = utc("2026-10-20 02:47:00")
    m3 = utc("2026-10-20 03:05:00")
    return [
        received("R1", m + timedelta(seconds=5)),
        received("R2", m + timedelta(seconds=10), level="partial"),
        received("R3", m + timedelta(seconds=20), channel="in_person", fee=False),
        completed("R3", m + timedelta(seconds=50)),  # on time: received in the same batch
        completed("D-X", m + timedelta(seconds=51), digitized=False),  # received never seen
        rated("R1", m + timedelta(seconds=55)),
        rated("R2", m + timedelta(seconds=56), "dissatisfied"),
        issued("I-1", m + timedelta(seconds=1), 1_100_000, 100_000, "with_code"),
        issued("I-2", m + timedelta(seconds=2), 550_000, 50_000, "cash_register"),
        issued("I-3", m + timedelta(seconds=3), 330_000, 30_000, "without_code"),
        cancelled("I-0", m + timedelta(seconds=4), 200_000),
        payment("P-1", m + timedelta(seconds=30), "R1", 100_000),
        payment("P-2", m + timedelta(seconds=31), "R2", 200_000),
        payment("P-3", m + timedelta(seconds=32), "R1", 50_000, "failed"),
        payment("P-4", m + timedelta(seconds=33), "R2", 30_000, "refunded"),
        payment("P-5", m + timedelta(seconds=34), None, 70_000),  # not for a dossier
        received("R4", m2 + timedelta(seconds=1), channel="postal", fee=False),
        payment("P-6", m2 + timedelta(seconds=2), "R1", 10_000),  # R1 again, another minute
        rated("R9", utc("2026-10-20 02:16:10"), "neutral", locality="27"),
        received("R5", m3 + timedelta(seconds=7)),
        payment("P-7", m3 + timedelta(seconds=8), "R5", 40_000, locality="79"),
    ]


EXPECTED_WINDOWS = {
    ("01", "2026-10-20 02:15:00"): counts(
        received=3,
        received_online=2,
        received_full_online=1,
        received_fee_required=2,
        completed=2,
        completed_on_time=1,
        completed_on_time_unknown=1,
        completed_digitized=1,
        rated=2,
        rated_dissatisfied=1,
        invoices_issued=3,
        invoices_cancelled=1,
        issued_amount_vnd=1_980_000,
        issued_vat_vnd=180_000,
        cancelled_amount_vnd=200_000,
        issued_with_code=1,
        issued_without_code=1,
        issued_cash_register=1,
        payments_succeeded=3,
        payments_failed=1,
        payments_refunded=1,
        succeeded_amount_vnd=370_000,
        refunded_amount_vnd=30_000,
        paid_dossiers=2,
        events=16,
    ),
    ("01", "2026-10-20 02:47:00"): counts(
        received=1,
        payments_succeeded=1,
        succeeded_amount_vnd=10_000,
        paid_dossiers=1,
        events=2,
    ),
    ("01", "2026-10-20 03:05:00"): counts(
        received=1,
        received_online=1,
        received_full_online=1,
        received_fee_required=1,
        events=1,
    ),
    ("24", "2026-10-20 02:16:00"): counts(rated=1, events=1),
    ("79", "2026-10-20 03:05:00"): counts(
        payments_succeeded=1, succeeded_amount_vnd=40_000, paid_dossiers=1, events=1
    ),
}


def hourly(windows: dict[tuple[str, str], dict[str, int]], **paid: int) -> dict[Any, Any]:
    """Sum windows per (locality, hour); paid_dossiers is distinct, so it is given per hour."""
    out: dict[tuple[str, str], dict[str, int]] = {}
    for (locality, at), values in windows.items():
        key = (locality, at[:13] + ":00:00")
        into = out.setdefault(key, counts())
        for name, value in values.items():
            into[name] += value
    for key, into in out.items():
        into["paid_dossiers"] = paid.get(f"h{key[0]}_{key[1][11:13]}", into["paid_dossiers"])
    return out


def test_windows_and_rollups_hold_exact_counts(warehouse: Warehouse) -> None:
    events = mixed_batch()
    warehouse.write(warehouse.rows(events))

    assert warehouse.windows() == EXPECTED_WINDOWS
    # 01 02:00-03:00: R1 and R2 paid (R1 in both minutes) -> 2 distinct, not 3
    assert warehouse.hours() == hourly(EXPECTED_WINDOWS, h01_02=2)
    assert warehouse.hours()[("01", "2026-10-20 02:00:00")]["events"] == 18
    assert warehouse.raw_count("dossier_events") + warehouse.raw_count(
        "invoice_events"
    ) + warehouse.raw_count("payment_events") == len(events)


def test_a_replay_changes_no_count(warehouse: Warehouse) -> None:
    events = mixed_batch()
    rows = warehouse.rows(events)
    warehouse.write(rows)
    windows, hours = warehouse.windows(), warehouse.hours()
    days = warehouse.view("v_dossier_daily"), warehouse.view("v_payment_daily")

    # the same messages again (a sink crash before commit) ...
    warehouse.write(rows)
    # ... then copies re-published an hour later (a producer retry): later copies lose
    warehouse.write(warehouse.rows(events, delay=timedelta(hours=1)))
    # ... and the same batch once more, in another order and split in two
    warehouse.write(rows[::-2])
    warehouse.write(rows[-2::-2])

    assert warehouse.windows() == windows == EXPECTED_WINDOWS
    assert warehouse.hours() == hours
    assert (warehouse.view("v_dossier_daily"), warehouse.view("v_payment_daily")) == days
    assert warehouse.raw_count("dossier_events") == sum(
        1 for e in events if e.event_type.startswith("dossier.")
    )
    # the copy kept is the one published first (not late, original offset)
    published = warehouse.client.query(
        f"SELECT toString(published_at) FROM {warehouse.database}.payment_events FINAL "
        "WHERE payment_id = 'P-1'"
    ).result_rows
    assert published == [("2026-10-20 02:15:32.000",)]


# The lifecycle join -----------------------------------------------------------------------


def test_completion_waits_for_its_received_event(warehouse: Warehouse) -> None:
    t = utc("2026-10-21 03:30:00")
    done = t + timedelta(seconds=30)
    window = ("01", "2026-10-21 03:30:00")
    hour = ("01", "2026-10-21 03:00:00")

    # completions of A, B, C arrive first: their received events are not in yet
    warehouse.write(
        warehouse.rows(
            [
                completed("A", done),
                completed("B", done, digitized=False),
                completed("C", done),
            ]
        )
    )
    waiting = counts(completed=3, completed_on_time_unknown=3, completed_digitized=2, events=3)
    assert warehouse.windows()[window] == waiting
    assert warehouse.hours()[hour] == waiting

    # now the received events: A due a week later, B due the day before, C due at that instant
    late_rows = warehouse.rows(
        [
            received("A", t - timedelta(hours=2)),
            received("B", t - timedelta(days=10), due=t - timedelta(days=1)),
            received("C", t - timedelta(days=1), due=done),
        ]
    )
    warehouse.insert(late_rows)
    # the sink finds the completions' windows through the received dossier ids
    points = {(r["locality_code"], minute_of(r)) for r in late_rows}
    completion_points = warehouse.completions_of(["A", "B", "C"])
    assert completion_points == {("01", t)}
    warehouse.recompute(points | completion_points)

    settled = counts(
        completed=3, completed_on_time=2, completed_late=1, completed_digitized=2, events=3
    )
    assert warehouse.windows()[window] == settled
    assert warehouse.hours()[hour] == settled
    daily = {(r["day"], r["locality_code"]): r for r in warehouse.view("v_dossier_daily")}
    today = daily[(date(2026, 10, 21), "01")]
    assert (today["completed"], today["completed_on_time"], today["completed_late"]) == (3, 2, 1)
    # the received events count in their own days
    assert daily[(date(2026, 10, 11), "01")]["received"] == 1  # B, 10:30 ICT
    assert daily[(date(2026, 10, 20), "01")]["received"] == 1  # C


def test_received_in_the_same_batch_as_its_completion(warehouse: Warehouse) -> None:
    t = utc("2026-10-21 05:00:00")
    warehouse.write(
        warehouse.rows(
            [
                received("E", t - timedelta(days=3), due=t - timedelta(days=2)),
                completed("E", t),
                received("F", t - timedelta(minutes=5)),
                completed("F", t + timedelta(seconds=1)),
            ]
        )
    )
    assert warehouse.windows()[("01", "2026-10-21 05:00:00")] == counts(
        completed=2, completed_on_time=1, completed_late=1, completed_digitized=2, events=2
    )


# Late events ------------------------------------------------------------------------------


def test_late_events_are_those_published_after_window_end_plus_grace(
    warehouse: Warehouse,
) -> None:
    at = utc("2026-10-22 04:10:30")  # window 04:10-04:11, final at 04:16:00 (grace 300 s)
    rows = [
        *warehouse.rows([rated("L1", at)], published=utc("2026-10-22 04:10:31")),
        *warehouse.rows([rated("L2", at)], published=utc("2026-10-22 04:16:00")),  # on the edge
        *warehouse.rows([rated("L3", at)], published=utc("2026-10-22 04:16:00.001")),
        *warehouse.rows([issued("L4", at, 100, 10)], published=utc("2026-10-22 05:00:00")),
        *warehouse.rows([payment("L5", at, "L5", 100)], published=utc("2026-10-22 04:12:00")),
        *warehouse.rows([received("L6", at)], published=utc("2026-10-23 04:10:30")),
    ]
    warehouse.write(rows)
    window = warehouse.windows()[("01", "2026-10-22 04:10:00")]
    assert (window["events"], window["late_events"]) == (6, 3)  # L3, L4, L6
    hour = warehouse.hours()[("01", "2026-10-22 04:00:00")]
    assert (hour["events"], hour["late_events"]) == (6, 3)

    # a different grace period moves the line: with none, all but L1 are late
    warehouse.recompute({("01", utc("2026-10-22 04:10:00"))}, grace_seconds=0)
    assert warehouse.windows()[("01", "2026-10-22 04:10:00")]["late_events"] == 5


def test_a_late_event_still_corrects_its_window(warehouse: Warehouse) -> None:
    at = utc("2026-10-22 06:00:10")
    warehouse.write(warehouse.rows([rated("M1", at)]))
    warehouse.write(warehouse.rows([rated("M2", at, "dissatisfied")], delay=timedelta(days=1)))
    assert warehouse.windows()[("01", "2026-10-22 06:00:00")] == counts(
        rated=2, rated_dissatisfied=1, events=2, late_events=1
    )


# Distinct paid dossiers -------------------------------------------------------------------


def test_paid_dossiers_are_distinct_across_payments_windows_and_hours(
    warehouse: Warehouse,
) -> None:
    h1 = utc("2026-10-23 01:05:00")  # 08:05 ICT
    h3 = utc("2026-10-23 03:10:00")  # 10:10 ICT, same day
    events = [
        received("X", utc("2026-10-23 00:30:00")),
        received("Y", utc("2026-10-23 00:30:01")),
        received("Z", utc("2026-10-23 00:30:02")),
        payment("P-X1", h1 + timedelta(seconds=1), "X", 100_000),
        payment("P-Y1", h1 + timedelta(seconds=2), "Y", 200_000),
        payment("P-N1", h1 + timedelta(seconds=3), None, 300_000),
        payment("P-Z1", h1 + timedelta(seconds=4), "Z", 400_000, "failed"),
        payment("P-X2", h1 + timedelta(minutes=1), "X", 110_000),
        payment("P-X3", h3 + timedelta(seconds=1), "X", 120_000),
        payment("P-Y2", h3 + timedelta(seconds=2), "Y", 200_000, "refunded"),
    ]
    warehouse.write(warehouse.rows(events))

    windows = warehouse.windows()
    # X and Y; the payment for no dossier is not a paid dossier
    assert windows[("01", "2026-10-23 01:05:00")]["paid_dossiers"] == 2
    assert windows[("01", "2026-10-23 01:05:00")]["payments_succeeded"] == 3
    assert windows[("01", "2026-10-23 01:06:00")]["paid_dossiers"] == 1
    assert windows[("01", "2026-10-23 03:10:00")]["paid_dossiers"] == 1
    hours = warehouse.hours()
    assert hours[("01", "2026-10-23 01:00:00")]["paid_dossiers"] == 2  # X twice + Y
    assert hours[("01", "2026-10-23 03:00:00")]["paid_dossiers"] == 1
    assert hours[("01", "2026-10-23 00:00:00")]["paid_dossiers"] == 0

    [day] = warehouse.view("v_payment_daily")
    assert day == {
        "day": date(2026, 10, 23),
        "locality_code": "01",
        "succeeded": 5,
        "failed": 1,
        "refunded": 1,
        "succeeded_amount_vnd": 830_000,
        "refunded_amount_vnd": 200_000,
        "paid_dossiers": 2,  # X in three payments over two hours, Y once
    }
    [indicators] = warehouse.view("v_indicators_daily")
    assert indicators["online_payment_rate"] == pytest.approx(2 / 3)
    assert indicators["payment_amount_vnd"] == 830_000


# Days in Vietnamese time ------------------------------------------------------------------


def test_day_boundary_is_midnight_in_ho_chi_minh_city(warehouse: Warehouse) -> None:
    before = utc("2026-10-24 16:59:30")  # 23:59:30 ICT on the 24th
    after = utc("2026-10-24 17:00:10")  # 00:00:10 ICT on the 25th
    warehouse.write(
        warehouse.rows(
            [
                received("N1", before),
                completed("N0", before + timedelta(seconds=20)),
                received("N2", after, channel="in_person", fee=False),
                issued("N3", after, 1_000, 100),
            ]
        )
    )
    assert set(warehouse.windows()) == {
        ("01", "2026-10-24 16:59:00"),
        ("01", "2026-10-24 17:00:00"),
    }
    rows = warehouse.view("v_dossier_daily")
    assert [(r["day"], r["received"], r["received_online"], r["completed"]) for r in rows] == [
        (date(2026, 10, 24), 1, 1, 1),
        (date(2026, 10, 25), 1, 0, 0),
    ]
    invoices = warehouse.view("v_invoice_daily")
    assert [(r["day"], r["issued"], r["issued_amount_vnd"]) for r in invoices] == [
        (date(2026, 10, 25), 1, 1_000)
    ]
    indicator_days = [r["day"] for r in warehouse.view("v_indicators_daily")]
    assert indicator_days == [date(2026, 10, 24), date(2026, 10, 25)]


# Indicators -------------------------------------------------------------------------------

DAY = date(2026, 10, 26)


def indicator_events() -> list[EventBase]:
    """Day 2026-10-26 (10:00 ICT) in six provinces; received events of completions 5 days before."""
    t = utc("2026-10-26 03:00:00")
    before = utc("2026-10-21 03:00:00")
    early_due = t - timedelta(days=1)

    def s(n: int) -> timedelta:
        return timedelta(seconds=n)

    return [
        # 01: every rate defined; online payment capped at 1
        received("R1", t + s(1)),
        received("R2", t + s(2), level="partial"),
        received("R3", t + s(3), level="partial", fee=False),
        received("R4", t + s(4), channel="in_person", fee=False),
        payment("P1", t + s(5), "R1", 10_000),
        payment("P2", t + s(6), "R2", 10_000),
        payment("P3", t + s(7), "OLD", 10_000),  # a dossier received earlier: 3 paid > 2 fee
        received("L1", before),
        received("L2", before + s(1)),
        received("L3", before + s(2), due=early_due),
        completed("L1", t + s(10)),
        completed("L2", t + s(11), digitized=False),
        completed("L3", t + s(12)),
        completed("L4", t + s(13), digitized=False),  # never received: on-time unknown
        rated("R1", t + s(20)),
        rated("R2", t + s(21)),
        rated("R3", t + s(22), "neutral"),
        rated("R4", t + s(23), "dissatisfied"),
        # 79: completions only (3 on time, 1 late); nothing received that day
        *[received(f"H{i}", before + s(i), locality="79") for i in range(3)],
        received("H3", before + s(3), locality="79", due=early_due),
        *[completed(f"H{i}", t + s(i), locality="79") for i in range(4)],
        # 24: all late and half dissatisfied: 1 - 1 - 0.5 < 0 -> 0
        received("B1", before, locality="24", due=early_due),
        received("B2", before, locality="24", due=early_due),
        completed("B1", t, locality="24"),
        completed("B2", t, locality="24"),
        rated("B1", t, "dissatisfied", locality="24"),
        rated("B2", t, locality="24"),
        # 48: ratings only
        rated("D1", t, "dissatisfied", locality="48"),
        rated("D2", t, locality="48"),
        # 31: invoices only
        issued("V1", t, 1_100_000, 100_000, locality="31"),
        issued("V2", t, 2_200_000, 200_000, locality="31"),
        # 96: received in person only, one completion of an unknown dossier
        received("K1", t, locality="96", channel="in_person", fee=False),
        received("K2", t, locality="96", channel="postal", fee=False),
        completed("K9", t, locality="96"),
    ]


def test_indicators_daily(warehouse: Warehouse) -> None:
    warehouse.write(warehouse.rows(indicator_events()))
    rows = {r["locality_code"]: r for r in warehouse.view("v_indicators_daily") if r["day"] == DAY}
    assert set(rows) == {"01", "79", "24", "48", "31", "96"}

    rate_names = (
        "online_rate",
        "full_online_rate",
        "on_time_rate",
        "digitization_rate",
        "online_payment_rate",
        "satisfaction_rate",
    )

    def rates(code: str) -> dict[str, Any]:
        return {name: rows[code][name] for name in rate_names}

    approx = pytest.approx
    assert rates("01") == {
        "online_rate": approx(3 / 4),
        "full_online_rate": approx(1 / 4),
        "on_time_rate": approx(2 / 3),  # L4 (unknown) is in neither term
        "digitization_rate": approx(2 / 4),
        "online_payment_rate": 1.0,  # min(1, 3 paid / 2 fee-required)
        "satisfaction_rate": approx(1 - 1 / 4 - 1 / 4),
    }
    assert rows["01"]["locality_name"] == "Thành phố Hà Nội"
    assert rates("79") == {
        "online_rate": None,
        "full_online_rate": None,
        "on_time_rate": approx(3 / 4),
        "digitization_rate": 1.0,
        "online_payment_rate": None,
        "satisfaction_rate": approx(3 / 4),  # 1 - 1/4; no ratings: that term is 0
    }
    assert rates("24")["satisfaction_rate"] == 0.0  # 1 - 2/2 - 1/2, floored at 0
    assert rates("24")["on_time_rate"] == 0.0
    assert rates("48") == {
        "online_rate": None,
        "full_online_rate": None,
        "on_time_rate": None,
        "digitization_rate": None,
        "online_payment_rate": None,
        "satisfaction_rate": approx(1 / 2),  # no completions: that term is 0
    }
    assert rates("31") == dict.fromkeys(rate_names)  # both denominators 0: NULL
    assert (rows["31"]["invoices_issued"], rows["31"]["invoice_amount_vnd"]) == (2, 3_300_000)
    assert rates("96") == {
        "online_rate": 0.0,
        "full_online_rate": 0.0,
        "on_time_rate": None,  # its one completion has no due date
        "digitization_rate": 1.0,
        "online_payment_rate": None,  # no fee-required dossier
        "satisfaction_rate": 1.0,
    }
    for row in rows.values():
        for name in rate_names:
            assert row[name] is None or 0.0 <= row[name] <= 1.0, (row["locality_code"], name)


# Service index ----------------------------------------------------------------------------

MAXIMA = {
    "progress_score": 20,
    "digitization_score": 22,
    "online_score": 22,
    "satisfaction_score": 18,
}


def service_index_events() -> list[EventBase]:
    """October 2026 in three provinces, plus 01 on 1 November (ICT) only."""
    t = utc("2026-10-10 02:00:00")

    def s(n: int) -> timedelta:
        return timedelta(seconds=n)

    events: list[EventBase] = []
    # 01: perfect on every count
    for i in range(4):
        d = f"P{i}"
        events += [
            received(d, t + s(i)),
            payment(f"PAY-{d}", t + s(10 + i), d, 50_000),
            completed(d, t + timedelta(days=1) + s(i)),
            rated(d, t + timedelta(days=2) + s(i)),
        ]
    # 79: 2 of 4 online (1 full), 1 of 2 fee dossiers paid, 3 of 4 on time, 2 digitised,
    # 1 of 4 dissatisfied
    spec = [
        ("online", "full", True, True, True, "satisfied"),
        ("online", "partial", True, True, False, "satisfied"),
        ("in_person", None, False, True, True, "neutral"),
        ("in_person", None, False, False, False, "dissatisfied"),
    ]
    for i, (channel, level, fee, on_time, digitized, satisfaction) in enumerate(spec):
        d = f"M{i}"
        due = t + WEEK if on_time else t + timedelta(hours=1)
        events += [
            received(d, t + s(i), locality="79", channel=channel, level=level, fee=fee, due=due),
            completed(d, t + timedelta(days=1) + s(i), locality="79", digitized=digitized),
            rated(d, t + timedelta(days=2) + s(i), satisfaction, locality="79"),
        ]
    events.append(payment("PAY-M0", t + s(20), "M0", 50_000, locality="79"))
    # 48: in person, late, not digitised, dissatisfied
    for i in range(2):
        d = f"W{i}"
        events += [
            received(d, t + s(i), locality="48", channel="in_person", fee=False, due=t + s(60)),
            completed(d, t + timedelta(days=3), locality="48", digitized=False),
        ]
    events.append(rated("W0", t + timedelta(days=4), "dissatisfied", locality="48"))
    # 01 in November (ICT): 2026-10-31 17:30 UTC is 00:30 on 1 November in Hà Nội
    events.append(rated("P0", utc("2026-10-31 17:30:00"), "neutral"))
    return events


def test_service_index_monthly(warehouse: Warehouse) -> None:
    warehouse.write(warehouse.rows(service_index_events()))
    rows = warehouse.view("v_service_index_monthly", order_by="month, rank, locality_code")
    october, november = date(2026, 10, 1), date(2026, 11, 1)
    assert [(r["month"], r["locality_code"], r["rank"]) for r in rows] == [
        (october, "01", 1),
        (october, "79", 2),
        (october, "48", 3),
        (november, "01", 1),
    ]
    by_key = {(r["month"], r["locality_code"]): r for r in rows}

    perfect = by_key[(october, "01")]
    assert {name: perfect[name] for name in MAXIMA} == MAXIMA
    assert (perfect["total"], perfect["total_100"], perfect["rating"]) == (82, 100, "excellent")
    assert perfect["locality_name"] == "Thành phố Hà Nội"

    medium = by_key[(october, "79")]
    assert medium["progress_score"] == 15.0  # 20 x 3/4
    assert medium["digitization_score"] == 13.75  # 22 x (2/4) / 0.8
    assert medium["online_score"] == pytest.approx(12.83)  # 22/3 x (1 + 1/4 + 1/2)
    assert medium["satisfaction_score"] == 9.0  # 18 x (1 - 1/4 - 1/4)
    assert medium["total"] == pytest.approx(50.58)
    assert medium["rating"] == "average"

    weak = by_key[(october, "48")]
    assert weak["progress_score"] == 0.0
    assert weak["digitization_score"] == 0.0
    assert weak["online_score"] == pytest.approx(7.33)  # only the payment third: no fee dossiers
    assert weak["satisfaction_score"] == 0.0
    assert weak["rating"] == "weak"

    only_rated = by_key[(november, "01")]
    assert only_rated["satisfaction_score"] == 18.0
    assert only_rated["progress_score"] is None
    assert only_rated["digitization_score"] is None
    assert only_rated["online_score"] is None
    assert only_rated["total"] == 18.0

    for row in rows:
        present = [row[name] for name in MAXIMA if row[name] is not None]
        for name, maximum in MAXIMA.items():
            assert row[name] is None or 0 <= row[name] <= maximum, (row["locality_code"], name)
        assert row["total"] == pytest.approx(sum(present), abs=0.02)
        assert row["total_100"] == pytest.approx(row["total"] * 100 / 82, abs=0.01)
        assert 0 <= row["total_100"] <= 100
    for month in (october, november):
        ranked = [r for r in rows if r["month"] == month]
        assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
        totals = [r["total"] for r in ranked]
        assert totals == sorted(totals, reverse=True)
