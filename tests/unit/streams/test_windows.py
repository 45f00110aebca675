"""windows: span coalescing, the injection guard, and the column list against sql/0005."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from dxpulse.sql import MIGRATIONS_DIR
from dxpulse.streams.windows import (
    COLUMNS,
    METRICS,
    TABLES,
    Span,
    coalesce_spans,
    rollup_sql,
    window_sql,
)

from .events import ICT
from .sqltext import table_columns

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def minute(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


# coalesce_spans ---------------------------------------------------------------------------


def test_no_points_no_spans() -> None:
    assert coalesce_spans([]) == []


def test_one_point_is_a_one_minute_span() -> None:
    assert coalesce_spans([("01", minute(5))]) == [Span("01", minute(5), minute(5))]


def test_gap_of_exactly_fifteen_minutes_stays_in_one_span() -> None:
    points = [("01", minute(0)), ("01", minute(5)), ("01", minute(20))]
    assert coalesce_spans(points) == [Span("01", minute(0), minute(20))]


def test_gap_over_fifteen_minutes_splits() -> None:
    points = [("01", minute(0)), ("01", minute(3)), ("01", minute(19)), ("01", minute(25))]
    assert coalesce_spans(points) == [
        Span("01", minute(0), minute(3)),
        Span("01", minute(19), minute(25)),
    ]


def test_spans_are_per_locality_sorted_and_deduplicated() -> None:
    points = [
        ("79", minute(30)),
        ("01", minute(10)),
        ("79", minute(0)),
        ("01", minute(10)),  # duplicate
        ("01", minute(2)),
        ("79", minute(1)),
        ("24", minute(500)),
    ]
    assert coalesce_spans(points) == [
        Span("01", minute(2), minute(10)),
        Span("24", minute(500), minute(500)),
        Span("79", minute(0), minute(1)),
        Span("79", minute(30), minute(30)),
    ]


def test_every_point_is_inside_exactly_one_span_of_its_locality() -> None:
    points = [("01", minute(n)) for n in (0, 1, 2, 40, 41, 100, 115, 131)] + [
        ("48", minute(n)) for n in (7, 300)
    ]
    spans = coalesce_spans(points)
    for locality, at in points:
        holders = [s for s in spans if s.locality_code == locality and s.start <= at <= s.end]
        assert len(holders) == 1
    # spans of one locality never overlap and are separated by more than the gap
    for a, b in pairwise(spans):
        if a.locality_code == b.locality_code:
            assert b.start - a.end > timedelta(minutes=15)
    # 01: 0-2, 40-41, 100-115 (gap of exactly 15), 131; 48: 7, 300
    assert len(spans) == 6


def test_custom_gap() -> None:
    points = [("01", minute(0)), ("01", minute(2)), ("01", minute(4))]
    assert len(coalesce_spans(points, max_gap=timedelta(minutes=1))) == 3
    assert len(coalesce_spans(points, max_gap=timedelta(minutes=2))) == 1


# SQL text --------------------------------------------------------------------------------

BAD_CODES = [
    "01' OR 1=1 --",
    "01'); DROP TABLE dx.window_1m; --",
    "",
    " 01",
    "0a",
    "01\n",
    "1.5",
    "-1",
]


@pytest.mark.parametrize("code", BAD_CODES)
def test_window_sql_refuses_a_non_digit_locality(code: str) -> None:
    spans = [Span("01", minute(0), minute(1)), Span(code, minute(0), minute(1))]
    with pytest.raises(ValueError, match="bad locality code"):
        window_sql("dx", spans, version=1, grace_seconds=300)


@pytest.mark.parametrize("code", BAD_CODES)
def test_rollup_sql_refuses_a_non_digit_locality(code: str) -> None:
    with pytest.raises(ValueError, match="bad locality code"):
        rollup_sql("dx", [Span(code, minute(0), minute(1))], version=1)


def test_window_sql_targets_the_window_table_with_every_column() -> None:
    sql = window_sql("dxtest", [Span("01", minute(0), minute(0))], version=42, grace_seconds=300)
    assert sql.startswith(f"INSERT INTO dxtest.window_1m ({', '.join(COLUMNS)})")
    for table in TABLES:
        assert f"FROM dxtest.{table} AS e FINAL" in sql
    assert "dxtest.dossier_lifecycle" in sql
    assert re.search(r"\b42\b", sql)
    assert "join_use_nulls = 1" in sql
    # late = published after the window end (+60 s) plus the grace period
    assert "+ 360)" in sql


def test_window_sql_covers_whole_minutes_of_the_span_in_utc() -> None:
    start = datetime(2026, 11, 20, 9, 15, tzinfo=ICT)
    sql = window_sql(
        "dx", [Span("01", start, start + timedelta(minutes=3))], version=1, grace_seconds=0
    )
    assert "e.occurred_at >= toDateTime('2026-11-20 02:15:00', 'UTC')" in sql
    # end is inclusive: the last minute is read up to its end
    assert "e.occurred_at < toDateTime('2026-11-20 02:19:00', 'UTC')" in sql
    assert "e.locality_code IN ('01')" in sql


def test_rollup_sql_covers_whole_hours_of_the_span() -> None:
    span = Span(
        "79", datetime(2026, 11, 20, 10, 59, tzinfo=UTC), datetime(2026, 11, 20, 11, 1, tzinfo=UTC)
    )
    sql = rollup_sql("dx", [span], version=7)
    assert sql.startswith(f"INSERT INTO dx.rollup_1h ({', '.join(COLUMNS)})")
    assert "FROM dx.window_1m AS w FINAL" in sql
    assert "w.window_start >= toDateTime('2026-11-20 10:00:00', 'UTC')" in sql
    assert "w.window_start < toDateTime('2026-11-20 12:00:00', 'UTC')" in sql
    assert "locality_code IN ('79')" in sql


def test_spans_far_apart_are_or_ed() -> None:
    spans = [Span("01", minute(0), minute(0)), Span("79", minute(120), minute(121))]
    sql = rollup_sql("dx", spans, version=1)
    assert "locality_code IN ('01')" in sql
    assert "locality_code IN ('79')" in sql
    assert " OR " in sql


def test_spans_close_in_time_share_one_term_with_their_localities() -> None:
    spans = [
        Span("79", minute(3), minute(5)),
        Span("01", minute(0), minute(1)),
        Span("48", minute(9), minute(9)),
    ]
    sql = window_sql("dx", spans, version=1, grace_seconds=0)
    where = sql.split("WHERE e.")[-1]
    assert " OR " not in where
    assert "e.locality_code IN ('01', '48', '79')" in sql


# Columns against the table definition ----------------------------------------------------


def test_columns_match_the_window_table_in_order() -> None:
    defined = table_columns("0005_windows.sql", "window_1m")
    assert [c.name for c in defined] == list(COLUMNS)


def test_metrics_are_uint64_columns_and_the_rest_is_typed_as_expected() -> None:
    types = {c.name: c.definition for c in table_columns("0005_windows.sql", "window_1m")}
    for metric in METRICS:
        assert types[metric.name] == "UInt64", metric.name
    assert types["paid_dossiers"] == "AggregateFunction(uniqExact, String)"
    assert types["window_start"] == "DateTime('UTC')"
    assert types["events"] == types["late_events"] == "UInt64"


def test_metrics_are_unique_and_read_known_tables() -> None:
    names = [m.name for m in METRICS]
    assert len(names) == len(set(names))
    assert {m.table for m in METRICS} == set(TABLES)
    for metric in METRICS:
        assert "e." in metric.expr


def test_rollup_table_is_a_copy_of_the_window_table() -> None:
    text = (MIGRATIONS_DIR / "0005_windows.sql").read_text()
    assert "CREATE TABLE IF NOT EXISTS {{database}}.rollup_1h AS {{database}}.window_1m" in text
