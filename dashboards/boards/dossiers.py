"""Hồ sơ / Dossiers: administrative-procedure dossiers received, completed and rated.

For one-stop-shop managers and the Government Office: volumes and rates over time, by
province and by channel, for the provinces chosen in ``$province`` (All = the country).

Example::

    from dxpulse.dashboards.boards import dossiers

    dossiers.dashboard().title  # 'Hồ sơ / Dossiers'
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
    Row,
    TablePanel,
    TimeseriesPanel,
)
from dxpulse.dashboards.panels import (
    INDICATORS,
    PERCENT_THRESHOLDS,
    PROVINCE,
    UID_DOSSIERS,
    days_in_range,
    indent,
    nav_links,
    per_interval,
    province_filter,
    province_link,
    range_stat,
    windows,
)

__all__ = ["TITLE", "UID", "dashboard"]

UID = UID_DOSSIERS
TITLE = "Hồ sơ / Dossiers"

_COUNT = FieldConfig(unit="short", decimals=0, color_mode=ColorMode.FIXED, fixed_color="blue")
_PERCENT = FieldConfig(
    unit="percentunit", decimals=1, thresholds=PERCENT_THRESHOLDS, color_mode=ColorMode.THRESHOLDS
)


def _overview() -> tuple[Panel, ...]:
    where = province_filter()
    online, on_time = INDICATORS["online_rate"], INDICATORS["on_time_rate"]
    return (
        range_stat(
            "Hồ sơ tiếp nhận",
            "Dossiers received (dossier.received) in the time range.",
            "sum(received)",
            "dossiers_received",
            _COUNT,
            where,
        ),
        range_stat(
            "Hồ sơ đã giải quyết",
            "Dossiers completed (dossier.completed) in the time range.",
            "sum(completed)",
            "dossiers_completed",
            _COUNT,
            where,
        ),
        range_stat(online.title, online.description, online.expr, online.key, _PERCENT, where),
        range_stat(on_time.title, on_time.description, on_time.expr, on_time.key, _PERCENT, where),
    )


def _over_time() -> tuple[Panel, ...]:
    source = indent(windows(province_filter()), 20)
    volumes = TimeseriesPanel(
        title="Hồ sơ theo thời gian",
        description="Dossiers received, completed and rated per interval (event time).",
        targets=(
            per_interval(
                source,
                "sum(received) AS dossiers_received",
                "sum(completed) AS dossiers_completed",
                "sum(rated) AS dossiers_rated",
            ),
        ),
        field=FieldConfig(unit="short", decimals=0),
        bars=True,
        interval="1m",
    )
    keys = ("online_rate", "full_online_rate", "on_time_rate", "digitization_rate")
    rates = indent(",\n".join(f"{INDICATORS[k].expr} AS {k}" for k in keys), 24)
    shares = TimeseriesPanel(
        title="Tỷ lệ theo thời gian",
        description=(
            "Per interval: online share and end-to-end online share of receipts, on-time "
            "rate and digitisation rate of completions."
        ),
        targets=(
            per_interval(
                source,
                f"{rates}",
            ),
        ),
        field=FieldConfig(unit="percentunit", decimals=1, min=0, max=1),
        interval="1m",
    )
    return (volumes, shares)


def _by_province() -> Panel:
    keys = ("online_rate", "full_online_rate", "on_time_rate", "digitization_rate")
    rates = indent(",\n".join(f"{INDICATORS[k].expr} AS {k}" for k in keys), 24)
    return TablePanel(
        title="Hồ sơ theo tỉnh",
        description=(
            "Per province over the days of the time range (v_dossier_daily): dossiers "
            "received and completed, and their rates. Click a province to drill down."
        ),
        targets=(
            ClickHouseTarget(
                sql=f"""
                    SELECT
                        d.locality_code AS code,
                        l.locality_name AS province_name,
                        sum(received) AS dossiers_received,
                        sum(completed) AS dossiers_completed,
                        {rates}
                    FROM v_dossier_daily AS d
                    LEFT JOIN v_localities AS l ON l.locality_code = d.locality_code
                    WHERE {days_in_range("d.day")} AND {province_filter("d.locality_code")}
                    GROUP BY code, province_name
                    ORDER BY dossiers_received DESC
                """
            ),
        ),
        field=FieldConfig(
            unit="percentunit",
            decimals=1,
            thresholds=PERCENT_THRESHOLDS,
            links=(province_link("code"),),
        ),
        overrides=(
            Override("dossiers_received", {"unit": "short", "decimals": 0}),
            Override("dossiers_completed", {"unit": "short", "decimals": 0}),
        ),
        sort_by=("dossiers_received", True),
        width=16,
        height=12,
    )


def _by_channel() -> Panel:
    return PieChartPanel(
        title="Hồ sơ theo kênh tiếp nhận",
        description=(
            "Dossiers received in the time range by channel (KenhThucHien): online "
            "end-to-end or partial, in person, postal (dossier_events)."
        ),
        # Distinct event_ids instead of count() over FINAL: copies of an event are the
        # same event (same channel), and de-duplicating by hash is ~4x cheaper than
        # FINAL's merge on 100 M-event tables.
        targets=(
            ClickHouseTarget(
                sql=f"""
                    SELECT
                        multiIf(
                            channel = 'online' AND online_level = 'full', 'Trực tuyến toàn trình / online, end-to-end',
                            channel = 'online', 'Trực tuyến một phần / online, partial',
                            channel = 'in_person', 'Trực tiếp / in person',
                            channel = 'postal', 'Bưu chính / postal',
                            channel
                        ) AS channel_name,
                        uniqExact(event_id) AS dossiers
                    FROM dossier_events
                    WHERE event_type = 'dossier.received'
                      AND $__timeFilter(occurred_at)
                      AND {province_filter()}
                    GROUP BY channel_name
                    ORDER BY dossiers DESC
                """
            ),
        ),
        field=FieldConfig(unit="short", decimals=0),
        width=8,
        height=12,
    )


def dashboard() -> Dashboard:
    """The dossiers dashboard."""
    return Dashboard(
        uid=UID,
        title=TITLE,
        description="Administrative-procedure dossiers (hồ sơ TTHC): volumes, rates, provinces, channels.",
        rows=(
            Row(title="Tổng quan / Overview", panels=_overview()),
            Row(title="Theo thời gian / Over time", panels=_over_time()),
            Row(
                title="Theo tỉnh và kênh / By province and channel",
                panels=(_by_province(), _by_channel()),
            ),
        ),
        variables=(PROVINCE,),
        links=nav_links(UID),
    )
