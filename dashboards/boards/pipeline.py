"""Vận hành / Pipeline health: consumer lag, freshness, throughput, dead letters, late events.

For the operators of dxpulse: is every event arriving, how far behind are the workers and
the sink, how fresh are the numbers, what is rejected and why (pipeline_health, sampled
by the sink every few seconds, and dead_letters).

Example::

    from dxpulse.dashboards.boards import pipeline

    pipeline.dashboard().refresh  # '30s'
"""

from __future__ import annotations

from dxpulse.dashboards.model import (
    ClickHouseTarget,
    ColorMode,
    Dashboard,
    FieldConfig,
    Override,
    Panel,
    PieChartPanel,
    QueryFormat,
    Row,
    StatPanel,
    TablePanel,
    Threshold,
    TimeseriesPanel,
)
from dxpulse.dashboards.panels import (
    UID_PIPELINE,
    WIDE_SERIES_POINTS,
    indent,
    nav_links,
    windows,
)

__all__ = ["TITLE", "UID", "dashboard"]

UID = UID_PIPELINE
TITLE = "Vận hành / Pipeline health"

_LAG = (Threshold(None, "green"), Threshold(1000, "orange"), Threshold(10000, "red"))
_FRESHNESS = (Threshold(None, "green"), Threshold(60, "orange"), Threshold(300, "red"))
_ANY_IS_BAD = (Threshold(None, "green"), Threshold(1, "orange"))


#: (grain function, seconds, when Grafana's interval is served by it): the coarsest grain
#: of sql/0011's projections that divides the interval; sub-minute intervals read samples.
_GRAINS = (
    ("toStartOfHour", 3600, "$__interval_s % 3600 = 0"),
    ("toStartOfTenMinutes", 600, "$__interval_s % 3600 != 0 AND $__interval_s % 600 = 0"),
    ("toStartOfMinute", 60, "$__interval_s % 600 != 0 AND $__interval_s % 60 = 0"),
)
_GRAIN_AGGREGATES = (
    "max(sampled_at) AS at, argMax(lag, sampled_at) AS last_lag, "
    "sum(events_per_s) AS rate_sum, count() AS samples, "
    "max(newest_event_time) AS newest, sum(dead_letters) AS dead, sum(late_events) AS late"
)


def health_grains(where: str | None = None) -> str:
    """A FROM source of pipeline_health per (g, component, topic, partition) in the time range.

    ``g`` is the start of a grain (hour, 10 minutes or minute: the coarsest that divides
    ``$__interval_s``, so ``$__timeInterval(g)`` buckets like the samples would); ``at``
    the last sample time, ``last_lag`` the lag then, ``rate_sum``/``samples`` the sum and
    count of ``events_per_s``, ``newest`` the newest event time, ``dead``/``late`` the
    dead letters and late events. Whole grains inside the range come from the
    projections of sql/0011, the partial grains at its edges from the samples, so the
    values are those of the samples in ``$__timeFilter(sampled_at)`` exactly. Intervals
    below a minute read the samples (one row each).
    """
    extra = f" AND {where}" if where else ""
    parts: list[str] = []
    for fn, seconds, condition in _GRAINS:
        first = f"{fn}($__fromTime + INTERVAL {seconds - 1} SECOND, 'UTC')"
        last = f"{fn}($__toTime - INTERVAL {seconds} SECOND, 'UTC')"
        parts += [
            f"SELECT {fn}(sampled_at) AS g, component, topic, partition, {_GRAIN_AGGREGATES}\n"
            f"FROM pipeline_health\n"
            f"WHERE {condition}\n"
            f"  AND {fn}(sampled_at) >= {first} AND {fn}(sampled_at) <= {last}{extra}\n"
            "GROUP BY component, topic, partition, g",
            f"SELECT {fn}(sampled_at) AS g, component, topic, partition, {_GRAIN_AGGREGATES}\n"
            f"FROM pipeline_health\n"
            f"WHERE {condition} AND $__timeFilter(sampled_at)\n"
            f"  AND (sampled_at < {first} OR sampled_at >= {last} + INTERVAL {seconds} SECOND){extra}\n"
            "GROUP BY component, topic, partition, g",
        ]
    parts.append(
        "SELECT sampled_at AS g, component, topic, partition, sampled_at AS at, lag AS last_lag,\n"
        "       events_per_s AS rate_sum, toUInt64(1) AS samples, newest_event_time AS newest,\n"
        "       dead_letters AS dead, late_events AS late\n"
        "FROM pipeline_health\n"
        f"WHERE $__interval_s % 60 != 0 AND $__timeFilter(sampled_at){extra}"
    )
    union = "\nUNION ALL\n".join(parts)
    return f"(\n    {indent(union, 4)}\n)"


def _stat(title: str, description: str, sql: str, field: FieldConfig) -> Panel:
    return StatPanel(
        title=title,
        description=description,
        targets=(ClickHouseTarget(sql=sql),),
        field=field,
        color_background=True,
        width=4,
        height=4,
    )


def _now() -> tuple[Panel, ...]:
    def count(thresholds: tuple[Threshold, ...]) -> FieldConfig:
        return FieldConfig(
            unit="short", decimals=0, thresholds=thresholds, color_mode=ColorMode.THRESHOLDS
        )

    return (
        _stat(
            "Độ trễ của worker",
            "Consumer lag of the stream workers (group dxpulse-worker) on the source "
            "topics: messages published but not yet processed, at the latest sample.",
            """
                SELECT sum(lag) AS workers_lag
                FROM v_pipeline_health_latest
                WHERE component = 'workers'
            """,
            count(_LAG),
        ),
        _stat(
            "Độ trễ của sink",
            "Consumer lag of the ClickHouse sink on the internal topics: rows not yet "
            "written to ClickHouse, at the latest sample.",
            """
                SELECT sum(lag) AS sink_lag
                FROM v_pipeline_health_latest
                WHERE component = 'sink'
            """,
            count(_LAG),
        ),
        _stat(
            "Độ tươi của dữ liệu",
            "Freshness: now minus the newest event time the pipeline has written.",
            """
                SELECT dateDiff('second', max(newest_event_time), now64(3)) AS freshness_s
                FROM v_pipeline_health_latest
                WHERE component = 'workers'
            """,
            FieldConfig(
                unit="s", decimals=0, thresholds=_FRESHNESS, color_mode=ColorMode.THRESHOLDS
            ),
        ),
        _stat(
            "Thông lượng",
            "Source messages consumed per second by the workers, at the latest sample.",
            """
                SELECT sum(events_per_s) AS events_per_s
                FROM v_pipeline_health_latest
                WHERE component = 'workers'
            """,
            FieldConfig(unit="cps", decimals=1, color_mode=ColorMode.FIXED, fixed_color="blue"),
        ),
        _stat(
            "Thư lỗi (dead letters)",
            "Messages rejected in the time range (first seen then): bad JSON, contract "
            "violations, unknown locality codes, probable raw citizen IDs.",
            """
                SELECT count() AS dead_letter_count
                FROM dead_letters FINAL
                WHERE $__timeFilter(first_seen_at)
            """,
            count(_ANY_IS_BAD),
        ),
        _stat(
            "Sự kiện đến muộn",
            "Events published after their 1-minute window closed (plus the grace period), "
            "written in the time range; they still correct their windows.",
            f"""
                SELECT sum(late) AS late_event_count
                FROM {indent(health_grains("component = 'workers'"), 16)}
            """,
            count(_ANY_IS_BAD),
        ),
    )


def _series(title: str, description: str, sql: str, field: FieldConfig) -> Panel:
    return TimeseriesPanel(
        title=title,
        description=description,
        targets=(ClickHouseTarget(sql=sql, format=QueryFormat.TIME_SERIES),),
        field=field,
        interval="30s",
    )


def _over_time() -> tuple[Panel, ...]:
    return (
        _series(
            "Độ trễ theo thời gian",
            "Consumer lag of the workers and of the sink (sum over partitions of the last "
            "sample in each interval).",
            f"""
                SELECT
                    time,
                    sumIf(lag_then, component = 'workers') AS workers_lag,
                    sumIf(lag_then, component = 'sink') AS sink_lag
                FROM
                (
                    SELECT
                        $__timeInterval(g) AS time,
                        component, topic, partition,
                        argMax(last_lag, at) AS lag_then
                    FROM {indent(health_grains(), 20)}
                    GROUP BY time, component, topic, partition
                )
                GROUP BY time
                ORDER BY time
            """,
            FieldConfig(unit="short", decimals=0),
        ),
        _series(
            "Thông lượng theo chủ đề",
            "Source messages consumed per second by the workers, per topic.",
            f"""
                SELECT
                    time,
                    sumIf(rate, topic = 'dx.dossier.v1') AS dossier_topic,
                    sumIf(rate, topic = 'dx.invoice.v1') AS invoice_topic,
                    sumIf(rate, topic = 'dx.payment.v1') AS payment_topic
                FROM
                (
                    SELECT
                        $__timeInterval(g) AS time,
                        topic, partition,
                        sum(rate_sum) / sum(samples) AS rate
                    FROM {indent(health_grains("component = 'workers'"), 20)}
                    GROUP BY time, topic, partition
                )
                GROUP BY time
                ORDER BY time
            """,
            FieldConfig(unit="cps", decimals=1),
        ),
        _series(
            "Độ tươi theo thời gian",
            "Freshness at each sample: sample time minus the newest event time written.",
            f"""
                SELECT
                    $__timeInterval(g) AS time,
                    dateDiff('second', max(newest), max(at)) AS freshness_s
                FROM {indent(health_grains("component = 'workers'"), 16)}
                GROUP BY time
                ORDER BY time
            """,
            FieldConfig(unit="s", decimals=0, thresholds=_FRESHNESS),
        ),
        _series(
            "Thư lỗi và sự kiện muộn",
            "Dead letters and late events written per interval (pipeline_health).",
            f"""
                SELECT
                    $__timeInterval(g) AS time,
                    sum(dead) AS dead_letter_count,
                    sum(late) AS late_event_count
                FROM {indent(health_grains("component = 'workers'"), 16)}
                GROUP BY time
                ORDER BY time
            """,
            FieldConfig(unit="short", decimals=0),
        ),
        TimeseriesPanel(
            title="Sự kiện muộn theo thời điểm phát sinh",
            description=(
                "Late events by the event-time window they belong to, next to all accepted "
                "events (window_1m): which windows were corrected after closing."
            ),
            targets=(
                ClickHouseTarget(
                    sql=f"""
                        SELECT
                            $__timeInterval(window_start) AS time,
                            sum(late_events) AS late_by_event_time,
                            sum(events) AS accepted_events
                        FROM {indent(windows(), 24)}
                        GROUP BY time
                        ORDER BY time
                    """,
                    format=QueryFormat.TIME_SERIES,
                ),
            ),
            field=FieldConfig(unit="short", decimals=0),
            bars=True,
            interval="1m",
            max_data_points=WIDE_SERIES_POINTS,
            width=24,
        ),
    )


def _dead_letters() -> tuple[Panel, ...]:
    reasons = PieChartPanel(
        title="Thư lỗi theo nguyên nhân",
        description="Dead letters first seen in the time range by reason class.",
        targets=(
            ClickHouseTarget(
                sql="""
                    SELECT reason, count() AS messages
                    FROM dead_letters FINAL
                    WHERE $__timeFilter(first_seen_at)
                    GROUP BY reason
                    ORDER BY messages DESC
                """
            ),
        ),
        field=FieldConfig(unit="short", decimals=0),
        width=8,
        height=10,
    )
    details = TablePanel(
        title="Thư lỗi theo chủ đề và nguyên nhân",
        description="Dead letters per source topic and reason: count, last seen, an example error.",
        targets=(
            ClickHouseTarget(
                sql="""
                    SELECT
                        source_topic,
                        reason,
                        count() AS messages,
                        max(first_seen_at) AS last_seen,
                        any(error_reasons[1]) AS example_error
                    FROM dead_letters FINAL
                    WHERE $__timeFilter(first_seen_at)
                    GROUP BY source_topic, reason
                    ORDER BY messages DESC
                """
            ),
        ),
        field=FieldConfig(unit="short"),
        overrides=(Override("last_seen", {"unit": "dateTimeAsIso"}),),
        sort_by=("messages", True),
        width=16,
        height=10,
    )
    return (reasons, details)


def _partitions() -> Panel:
    return TablePanel(
        title="Trạng thái theo phân vùng",
        description=(
            "Latest sample per component, topic and partition: committed and end offsets, "
            "lag, messages/s, totals of dead letters and late events, freshness."
        ),
        targets=(
            ClickHouseTarget(
                sql="""
                    SELECT
                        component, topic, partition, committed_offset, end_offset, lag,
                        events_per_s, dead_letters_total, late_events_total, freshness_s,
                        last_sampled_at
                    FROM v_pipeline_health_latest
                    ORDER BY component, topic, partition
                """
            ),
        ),
        field=FieldConfig(unit="short", decimals=0),
        overrides=(
            Override("events_per_s", {"unit": "cps", "decimals": 1}),
            Override("freshness_s", {"unit": "s"}),
            Override("last_sampled_at", {"unit": "dateTimeAsIso"}),
        ),
        width=24,
        height=10,
    )


def dashboard() -> Dashboard:
    """The pipeline health dashboard."""
    return Dashboard(
        uid=UID,
        title=TITLE,
        description="Operations: consumer lag, freshness, throughput, dead letters and late events.",
        rows=(
            Row(title="Hiện tại / Now", panels=_now()),
            Row(title="Theo thời gian / Over time", panels=_over_time()),
            Row(title="Thư lỗi / Dead letters", panels=_dead_letters()),
            Row(title="Phân vùng / Partitions", panels=(_partitions(),)),
        ),
        links=nav_links(UID),
        time_from="now-6h",
        refresh="30s",
    )
