"""Toàn quốc / National overview: the headline indicators, the 34 provinces ranked and mapped.

For the Government Office and ministries: how the country is doing now (trailing 24 hours,
with the trend over the range), which provinces lead or lag on the Decision 766 index,
where they are, and whether events are flowing.

Example::

    from dxpulse.dashboards.boards import national

    national.dashboard().to_json()["uid"]  # 'dxpulse-national'
"""

from __future__ import annotations

from dxpulse.dashboards.model import (
    BarGaugePanel,
    ClickHouseTarget,
    Dashboard,
    FieldConfig,
    GeomapPanel,
    Override,
    Panel,
    QueryFormat,
    Row,
    StatPanel,
    TablePanel,
    TimeseriesPanel,
)
from dxpulse.dashboards.model import ColorMode as Color
from dxpulse.dashboards.panels import (
    INDICATORS,
    PERCENT_THRESHOLDS,
    SCORE_THRESHOLDS,
    UID_NATIONAL,
    WIDE_SERIES_POINTS,
    indent,
    latest_month,
    nav_links,
    province_link,
    range_windows,
    rolling_24h,
    windows,
)

__all__ = ["TITLE", "UID", "dashboard", "headline_stats"]

UID = UID_NATIONAL
TITLE = "Toàn quốc / National overview"

_PERCENT = FieldConfig(
    unit="percentunit",
    decimals=1,
    min=0,
    max=1,
    thresholds=PERCENT_THRESHOLDS,
    color_mode=Color.THRESHOLDS,
)


def headline_stats(where: str | None = None, scope: str = "nationally") -> tuple[Panel, ...]:
    """Six stats with sparklines: each indicator over the trailing 24 hours (``where`` filters)."""
    return tuple(
        StatPanel(
            title=ind.title,
            description=(
                f"{ind.description} Value: the last 24 hours {scope}; sparkline: the "
                "trailing-24-hour rate at every hour of the time range (rollup_1h)."
            ),
            targets=(
                ClickHouseTarget(sql=rolling_24h(ind, where), format=QueryFormat.TIME_SERIES),
            ),
            field=_PERCENT,
            sparkline=True,
            width=4,
            height=5,
        )
        for ind in INDICATORS.values()
    )


def _ranking() -> Panel:
    return BarGaugePanel(
        title="Xếp hạng Chỉ số 766 theo tỉnh",
        description=(
            "The 34 provinces ranked by the Decision 766 service index (the part events "
            "feed, rescaled to 100) for the newest month in the time range; best first. "
            "Click a bar to open the province."
        ),
        targets=(
            ClickHouseTarget(
                sql=f"""
                    SELECT locality_code, locality_name, total_100
                    FROM v_service_index_monthly
                    WHERE {indent(latest_month(), 20)}
                    ORDER BY rank, locality_code
                """
            ),
        ),
        field=FieldConfig(
            unit="none",
            decimals=1,
            min=0,
            max=100,
            thresholds=SCORE_THRESHOLDS,
            color_mode=Color.THRESHOLDS,
            links=(province_link(),),
        ),
        fields="/^total_100$/",
        width=12,
        height=18,
    )


def _map() -> Panel:
    online = INDICATORS["online_rate"]
    return GeomapPanel(
        title="Bản đồ tỷ lệ hồ sơ trực tuyến",
        description=(
            "Each province at its provincial seat (province_seats): marker size = dossiers "
            "received in the time range, colour = online share of them."
        ),
        targets=(
            ClickHouseTarget(
                sql=f"""
                    SELECT
                        s.latitude AS latitude,
                        s.longitude AS longitude,
                        l.locality_name AS locality_name,
                        s.seat AS seat,
                        w.dossiers AS received,
                        w.online_rate AS online_rate
                    FROM
                    (
                        SELECT locality_code, sum(received) AS dossiers, {online.expr} AS online_rate
                        FROM {indent(range_windows(), 24)}
                        GROUP BY locality_code
                    ) AS w
                    INNER JOIN province_seats AS s ON s.code = w.locality_code
                    INNER JOIN v_localities AS l ON l.locality_code = w.locality_code
                    ORDER BY w.locality_code
                """
            ),
        ),
        field=FieldConfig(
            unit="percentunit",
            decimals=1,
            min=0,
            max=1,
            thresholds=PERCENT_THRESHOLDS,
            color_mode=Color.THRESHOLDS,
        ),
        overrides=(Override("received", {"unit": "short", "decimals": 0}),),
        size_field="received",
        color_field="online_rate",
        text_field="locality_name",
        width=12,
        height=18,
    )


def _province_table() -> Panel:
    rates = indent(",\n".join(f"{i.expr} AS {i.key}" for i in INDICATORS.values()), 24)
    return TablePanel(
        title="Chỉ số theo tỉnh",
        description=(
            "Every headline rate per province over the time range, with dossiers received; "
            "click a province to open its drill-down."
        ),
        targets=(
            ClickHouseTarget(
                sql=f"""
                    SELECT
                        w.locality_code AS locality_code,
                        l.locality_name AS locality_name,
                        sum(w.received) AS dossiers_received,
                        {rates}
                    FROM {indent(range_windows(), 20)} AS w
                    LEFT JOIN v_localities AS l ON l.locality_code = w.locality_code
                    GROUP BY locality_code, locality_name
                    ORDER BY locality_code
                """
            ),
        ),
        field=FieldConfig(
            unit="percentunit",
            decimals=1,
            thresholds=PERCENT_THRESHOLDS,
            links=(province_link(),),
        ),
        overrides=(
            Override("dossiers_received", {"unit": "short", "decimals": 0}),
            Override("locality_code", {"custom.width": 80}),
        ),
        sort_by=("locality_code", False),
        width=24,
        height=12,
    )


def _traffic() -> Panel:
    return TimeseriesPanel(
        title="Sự kiện mỗi phút theo nhóm",
        description=(
            "Accepted events per minute by family (dossiers, e-invoices, payments), by "
            "event time, averaged over each interval (window_1m; rollup_1h for hour grains)."
        ),
        targets=(
            ClickHouseTarget(
                sql=f"""
                    SELECT
                        $__timeInterval(window_start) AS time,
                        sum(received + completed + rated) * 60 / $__interval_s AS dossier_events,
                        sum(invoices_issued + invoices_cancelled) * 60 / $__interval_s AS invoice_events,
                        sum(payments_succeeded + payments_failed + payments_refunded) * 60 / $__interval_s AS payment_events
                    FROM {indent(windows(), 20)}
                    GROUP BY time
                    ORDER BY time
                """,
                format=QueryFormat.TIME_SERIES,
            ),
        ),
        field=FieldConfig(unit="cpm", decimals=1),
        interval="1m",
        max_data_points=WIDE_SERIES_POINTS,
        width=24,
        height=8,
    )


def dashboard() -> Dashboard:
    """The national overview."""
    return Dashboard(
        uid=UID,
        title=TITLE,
        description=(
            "Headline digital-transformation indicators for Vietnam's 34 provinces, the "
            "Decision 766 ranking, a map and event traffic."
        ),
        rows=(
            Row(
                title="Chỉ số chính (24 giờ qua) / Headline indicators (last 24 h)",
                panels=headline_stats(),
            ),
            Row(title="Xếp hạng và bản đồ / Ranking and map", panels=(_ranking(), _map())),
            Row(title="Các tỉnh / Provinces", panels=(_province_table(),)),
            Row(title="Lưu lượng sự kiện / Event traffic", panels=(_traffic(),)),
        ),
        links=nav_links(UID),
    )
