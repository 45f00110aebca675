"""The panels benchmark's pieces that need no database: Grafana's interval, the query set."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench.panels import _p95, grafana_interval, panel_queries
from dxpulse.dashboards.build import build_all

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = 86400


@pytest.mark.parametrize(
    ("range_s", "width", "minimum", "expected"),
    [
        (7 * DAY, 24, None, 300),  # 336 s a point -> 5m
        (7 * DAY, 12, "1m", 600),  # 672 s -> 10m
        (30 * DAY, 24, None, 1200),  # 1440 s -> 20m: still 1-minute windows
        (30 * DAY, 12, None, 3600),  # 2880 s -> 1h: hourly roll-ups
        (90 * DAY, 24, None, 3600),  # 4320 s -> 1h
        (6 * 3600, 24, "30s", 30),  # 12 s -> 10 s, raised to the panel's minimum
        (6 * 3600, 6, None, 60),  # 48 s -> 1m
    ],
)
def test_interval_is_what_grafana_computes(
    range_s: int, width: int, minimum: str | None, expected: int
) -> None:
    assert grafana_interval(range_s, width, minimum) == expected


def test_max_data_points_coarsens_the_interval() -> None:
    assert grafana_interval(30 * DAY, 24, "1m", 720) == 3600  # whole hours: rollup_1h
    assert grafana_interval(7 * DAY, 24, "1m", 720) == 900
    assert grafana_interval(6 * 3600, 24, "1m", 720) == 60
    assert grafana_interval(30 * DAY, 6, None, 720) == 7200  # narrower than 720 px: width wins


def test_every_target_of_every_dashboard_runs_for_both_ranges() -> None:
    queries = panel_queries(NOW)
    targets = {
        (uid.removeprefix("dxpulse-"), p["id"], t["refId"])
        for uid, b in build_all().items()
        for p in b["panels"]
        for t in p.get("targets", [])
    }
    assert {(q.dashboard, q.panel_id, q.ref_id) for q in queries} == targets
    defaults = {uid.removeprefix("dxpulse-"): b["time"]["from"] for uid, b in build_all().items()}
    for dashboard, panel, ref in targets:
        ranges = {
            q.range_label
            for q in queries
            if (q.dashboard, q.panel_id, q.ref_id) == (dashboard, panel, ref)
        }
        assert ranges == {defaults[dashboard], "now-30d"}
    assert len({q.key for q in queries}) == len(queries)
    assert all("$" not in q.sql for q in queries)


def test_thematic_dashboards_run_for_all_and_one_province() -> None:
    queries = panel_queries(NOW, extra_range=None)
    dossiers = [q for q in queries if q.dashboard == "dossiers" and q.panel_id == 2]
    assert {q.state for q in dossiers} == {"All", "79"}
    everyone = next(q for q in dossiers if q.state == "All")
    one = next(q for q in dossiers if q.state == "79")
    assert "1=1" in everyone.sql and "IN ('79')" in one.sql
    province = [q for q in queries if q.dashboard == "province"]
    assert {q.state for q in province} == {"79"}
    assert all("'79'" in q.sql for q in province if "locality" in q.sql)
    national = [q for q in queries if q.dashboard == "national"]
    assert {q.state for q in national} == {"-"}
    assert {q.range_label for q in queries} == {"now-7d", "now-90d", "now-6h"}


def test_p95_is_nearest_rank() -> None:
    assert _p95([5.0, 1.0, 3.0, 2.0, 4.0]) == 5.0
    assert _p95([float(v) for v in range(1, 101)]) == 95.0
