"""Every alert rule's SQL runs on the migrated schema and fires exactly where it should.

The rules' SQL names tables unqualified (Grafana's data source sets defaultDatabase), so
each test migrates a fresh database, makes it the client's current database, inserts
crafted rows (explicit column lists) and evaluates the rule the way Grafana would: one
series per row (string columns as labels), threshold on the numeric column.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dxpulse.clickhouse import Client
from dxpulse.dashboards.alerts import AlertRuleSpec, AlertThresholds, rule_specs
from dxpulse.migrations import Migrator

pytestmark = pytest.mark.integration

HEALTH_COLUMNS = [
    "sampled_at",
    "component",
    "topic",
    "partition",
    "committed_offset",
    "end_offset",
    "lag",
    "events_per_s",
    "dead_letters",
    "late_events",
    "newest_event_time",
]
ROLLUP_COLUMNS = [
    "locality_code",
    "window_start",
    "received",
    "completed",
    "completed_on_time",
    "completed_late",
    "events",
    "computed_at",
    "version",
]
DOSSIER = "dx.dossier.v1"
INVOICE = "dx.invoice.v1"
PAYMENT = "dx.payment.v1"

SPECS = {spec.uid: spec for spec in rule_specs()}


@pytest.fixture
def db(ch_client: Client, database: str) -> Iterator[Client]:
    """The session client with a freshly migrated ``database`` as its current database."""
    Migrator(ch_client, database=database).migrate()
    previous = ch_client.database
    ch_client.database = database
    try:
        yield ch_client
    finally:
        ch_client.database = previous


def now() -> datetime:
    return datetime.now(UTC)


def health_row(
    ago: timedelta,
    topic: str,
    *,
    partition: int = 0,
    component: str = "workers",
    lag: int = 0,
    dead_letters: int = 0,
    newest_ago: timedelta | None = None,
) -> list[Any]:
    sampled = now() - ago
    newest = None if newest_ago is None else now() - newest_ago
    return [
        sampled,
        component,
        topic,
        partition,
        100,
        100 + lag,
        lag,
        12.5,
        dead_letters,
        0,
        newest,
    ]


def insert_health(client: Client, rows: Sequence[Sequence[Any]]) -> None:
    client.insert("pipeline_health", list(rows), column_names=HEALTH_COLUMNS)


def evaluate(client: Client, spec: AlertRuleSpec) -> dict[tuple[str, ...], tuple[float, bool]]:
    """labels -> (value, fires), checking the shape Grafana needs: strings + one number."""
    result = client.query(spec.sql)
    if not result.result_rows:
        return {}  # chDB reports no column names for an empty result
    names = list(result.column_names)
    assert spec.value_column in names, names
    assert names[-1] == spec.value_column, "the value is the last column"
    series: dict[tuple[str, ...], tuple[float, bool]] = {}
    for row in result.result_rows:
        *labels, value = row
        assert all(isinstance(label, str) for label in labels), row
        assert isinstance(value, float), row
        key = tuple(labels)
        assert key not in series, f"two rows with the labels {key}"
        series[key] = (value, spec.fires(value))
    return series


@pytest.mark.parametrize("uid", sorted(SPECS))
def test_every_rule_runs_on_an_empty_schema(db: Client, uid: str) -> None:
    assert evaluate(db, SPECS[uid]) == {}


def test_freshness_fires_for_a_stale_topic_only(db: Client) -> None:
    insert_health(
        db,
        [
            # dossiers: newest event 40 s old (two samples, the last one counts)
            health_row(timedelta(minutes=2), DOSSIER, newest_ago=timedelta(minutes=3)),
            health_row(timedelta(seconds=5), DOSSIER, newest_ago=timedelta(seconds=40)),
            health_row(timedelta(seconds=5), DOSSIER, partition=1, newest_ago=timedelta(minutes=1)),
            # invoices: samples keep coming but the newest event is 20 minutes old
            health_row(timedelta(seconds=5), INVOICE, newest_ago=timedelta(minutes=20)),
            # payments: never saw an event -> no series
            health_row(timedelta(seconds=5), PAYMENT),
            # the sink's rows carry no event time and are not source topics
            health_row(timedelta(seconds=5), "dx.internal.dossier_events.v1", component="sink"),
        ],
    )
    series = evaluate(db, SPECS["dxpulse-freshness"])
    assert set(series) == {(DOSSIER,), (INVOICE,)}
    value, fires = series[(DOSSIER,)]
    assert 35 <= value <= 120 and not fires
    value, fires = series[(INVOICE,)]
    assert 1190 <= value <= 1300 and fires


def test_freshness_threshold_comes_from_the_settings(db: Client) -> None:
    insert_health(db, [health_row(timedelta(seconds=5), DOSSIER, newest_ago=timedelta(minutes=7))])
    lenient = {s.uid: s for s in rule_specs(AlertThresholds(freshness_s=900))}
    assert evaluate(db, SPECS["dxpulse-freshness"])[(DOSSIER,)][1] is True
    assert evaluate(db, lenient["dxpulse-freshness"])[(DOSSIER,)][1] is False


def test_consumer_lag_fires_only_when_growing_and_high(db: Client) -> None:
    before, later = timedelta(minutes=12), timedelta(seconds=10)
    insert_health(
        db,
        [
            # dossiers: 2 partitions, 600 -> 5200 messages: growing and above 1000
            health_row(before, DOSSIER, partition=0, lag=300),
            health_row(before, DOSSIER, partition=1, lag=300),
            health_row(timedelta(minutes=5), DOSSIER, partition=0, lag=1500),
            health_row(later, DOSSIER, partition=0, lag=2600),
            health_row(later, DOSSIER, partition=1, lag=2600),
            # invoices: high but shrinking (8000 -> 3000)
            health_row(before, INVOICE, lag=8000),
            health_row(later, INVOICE, lag=3000),
            # payments: growing but small (10 -> 50)
            health_row(before, PAYMENT, lag=10),
            health_row(later, PAYMENT, lag=50),
            # a topic sampled only recently has nothing to compare with -> no series
            health_row(later, "dx.new.v1", lag=9000),
            # the sink's lag is not the workers'
            health_row(before, "dx.internal.x", component="sink", lag=0),
            health_row(later, "dx.internal.x", component="sink", lag=90000),
        ],
    )
    series = evaluate(db, SPECS["dxpulse-consumer-lag"])
    assert series == {
        (DOSSIER,): (5200.0, True),
        (INVOICE,): (0.0, False),
        (PAYMENT,): (50.0, False),
    }
    assert SPECS["dxpulse-consumer-lag"].pending == "10m"


def test_dead_letters_rate_over_the_last_ten_minutes(db: Client) -> None:
    insert_health(
        db,
        [
            # dossiers: 120 dead letters in the last 10 minutes = 12 per minute
            health_row(timedelta(minutes=8), DOSSIER, dead_letters=70),
            health_row(timedelta(minutes=1), DOSSIER, dead_letters=50),
            # invoices: 10 = 1 per minute, plus an old burst outside the window
            health_row(timedelta(minutes=30), INVOICE, dead_letters=1000),
            health_row(timedelta(minutes=3), INVOICE, dead_letters=10),
            health_row(timedelta(minutes=3), PAYMENT, dead_letters=0),
        ],
    )
    series = evaluate(db, SPECS["dxpulse-dead-letters"])
    assert series == {
        (DOSSIER,): (12.0, True),
        (INVOICE,): (1.0, False),
        (PAYMENT,): (0.0, False),
    }


def rollup_row(
    code: str, hours_ago: int, *, on_time: int, late: int, version: int = 1
) -> list[Any]:
    hour = now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours_ago)
    completed = on_time + late
    return [code, hour, completed, completed, on_time, late, 2 * completed, now(), version]


def test_on_time_rate_one_series_per_province(db: Client) -> None:
    db.insert(
        "rollup_1h",
        [
            # Hà Nội: 95 % on time over two hours; an older bad day does not count
            rollup_row("01", 2, on_time=50, late=2),
            rollup_row("01", 5, on_time=45, late=3),
            rollup_row("01", 30, on_time=0, late=500),
            # Hồ Chí Minh: version 2 of the hour (70 %) replaces version 1 (100 %)
            rollup_row("79", 1, on_time=100, late=0, version=1),
            rollup_row("79", 1, on_time=70, late=30, version=2),
            # Đà Nẵng: only 10 completions -> not evaluated
            rollup_row("48", 3, on_time=1, late=9),
            # Cần Thơ: exactly at the target -> does not fire
            rollup_row("92", 4, on_time=90, late=10),
        ],
        column_names=ROLLUP_COLUMNS,
    )
    series = evaluate(db, SPECS["dxpulse-province-on-time"])
    assert set(series) == {
        ("01", "Thành phố Hà Nội"),
        ("79", "Thành phố Hồ Chí Minh"),
        ("92", "Thành phố Cần Thơ"),
    }
    assert series[("01", "Thành phố Hà Nội")] == (pytest.approx(95 / 100), False)
    assert series[("79", "Thành phố Hồ Chí Minh")] == (pytest.approx(0.7), True)
    assert series[("92", "Thành phố Cần Thơ")] == (pytest.approx(0.9), False)
