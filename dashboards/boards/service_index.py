"""Chỉ số 766 / Service index: Decision 766/QĐ-TTg scores per province and month.

For the Government Office and provincial leaders: the monthly index (the four groups
events can feed, see sql/README.md), its rating bands, the ranking and how the group
scores move from month to month.

Example::

    from dxpulse.dashboards.boards import service_index

    service_index.dashboard().uid  # 'dxpulse-service-index'
"""

from __future__ import annotations

from dxpulse.dashboards.model import (
    BarChartPanel,
    BarGaugePanel,
    ClickHouseTarget,
    ColorMode,
    Dashboard,
    FieldConfig,
    Override,
    Panel,
    PieChartPanel,
    Row,
    TablePanel,
)
from dxpulse.dashboards.panels import (
    PROVINCE,
    RATING_MAPPINGS,
    SCORE_THRESHOLDS,
    UID_SERVICE_INDEX,
    indent,
    latest_month,
    nav_links,
    province_filter,
    province_link,
)

__all__ = ["TITLE", "UID", "dashboard"]

UID = UID_SERVICE_INDEX
TITLE = "Chỉ số 766 / Service index"

_MONTHS_IN_RANGE = (
    "month BETWEEN toStartOfMonth(toDate($__fromTime, 'Asia/Ho_Chi_Minh')) "
    "AND toStartOfMonth(toDate($__toTime, 'Asia/Ho_Chi_Minh'))"
)
_SCORE = FieldConfig(
    unit="none",
    decimals=1,
    min=0,
    max=100,
    thresholds=SCORE_THRESHOLDS,
    color_mode=ColorMode.THRESHOLDS,
    mappings=RATING_MAPPINGS,
    links=(province_link(),),
)
_GROUP_NAMES = (
    Override("progress_score", {"displayName": "Tiến độ / Progress (20)", "max": 20}),
    Override("digitization_score", {"displayName": "Số hóa / Digitisation (22)", "max": 22}),
    Override("online_score", {"displayName": "Trực tuyến / Online (22)", "max": 22}),
    Override("satisfaction_score", {"displayName": "Hài lòng / Satisfaction (18)", "max": 18}),
)


def _ranking() -> tuple[Panel, ...]:
    latest = indent(latest_month(), 22)
    table = TablePanel(
        title="Bảng xếp hạng tháng gần nhất",
        description=(
            "The newest month in the time range: rank, group scores (points), total of 82 "
            "points events can feed, total rescaled to 100 and the rating band."
        ),
        targets=(
            ClickHouseTarget(
                sql=f"""
                    SELECT
                        rank, locality_code, locality_name,
                        progress_score, digitization_score, online_score, satisfaction_score,
                        total, total_100, rating
                    FROM v_service_index_monthly
                    WHERE {province_filter()}
                      AND {latest}
                    ORDER BY rank, locality_code
                """
            ),
        ),
        field=_SCORE,
        overrides=(
            *_GROUP_NAMES,
            Override("total", {"displayName": "Tổng / Total (82)", "max": 82}),
            Override(
                "total_100",
                {
                    "displayName": "Điểm / Score (100)",
                    "custom.cellOptions": {"type": "color-background"},
                },
            ),
            Override("rating", {"custom.cellOptions": {"type": "color-text"}}),
            Override("rank", {"decimals": 0, "custom.width": 70}),
        ),
        sort_by=("rank", False),
        width=16,
        height=14,
    )
    bars = BarGaugePanel(
        title="Điểm Chỉ số 766 theo tỉnh",
        description="Score out of 100 per province for the newest month in the time range, best first.",
        targets=(
            ClickHouseTarget(
                sql=f"""
                    SELECT locality_code, locality_name, total_100
                    FROM v_service_index_monthly
                    WHERE {province_filter()}
                      AND {latest}
                    ORDER BY rank, locality_code
                """
            ),
        ),
        field=_SCORE,
        fields="/^total_100$/",
        width=8,
        height=14,
    )
    return (table, bars)


def _trend() -> tuple[Panel, ...]:
    groups = BarChartPanel(
        title="Điểm trung bình theo nhóm và tháng",
        description=(
            "Mean group scores of the selected provinces per month in the time range, "
            "stacked: the bar's height is the mean total (of 82)."
        ),
        targets=(
            ClickHouseTarget(
                sql=f"""
                    SELECT
                        formatDateTime(month, '%Y-%m') AS month_label,
                        avg(progress_score) AS progress_score,
                        avg(digitization_score) AS digitization_score,
                        avg(online_score) AS online_score,
                        avg(satisfaction_score) AS satisfaction_score
                    FROM v_service_index_monthly
                    WHERE {_MONTHS_IN_RANGE} AND {province_filter()}
                    GROUP BY month
                    ORDER BY month
                """
            ),
        ),
        field=FieldConfig(unit="none", decimals=1, min=0),
        overrides=_GROUP_NAMES,
        x_field="month_label",
        stacked=True,
        width=14,
        height=9,
    )
    bands = PieChartPanel(
        title="Số tỉnh theo xếp loại",
        description="Provinces per rating band in the newest month of the time range.",
        targets=(
            ClickHouseTarget(
                sql=f"""
                    SELECT
                        multiIf(
                            rating = 'excellent', 'Xuất sắc / excellent (90-100)',
                            rating = 'good', 'Tốt / good (70-90)',
                            rating = 'average', 'Trung bình / average (50-70)',
                            'Yếu / weak (< 50)'
                        ) AS band,
                        count() AS provinces
                    FROM v_service_index_monthly
                    WHERE {province_filter()}
                      AND {indent(latest_month(), 22)}
                    GROUP BY band
                    ORDER BY band
                """
            ),
        ),
        field=FieldConfig(unit="short", decimals=0),
        width=10,
        height=9,
    )
    return (groups, bands)


def _months() -> Panel:
    return TablePanel(
        title="Điểm theo tháng",
        description="Every month in the time range per selected province: group scores, total, rating, rank.",
        targets=(
            ClickHouseTarget(
                sql=f"""
                    SELECT
                        formatDateTime(month, '%Y-%m') AS month_label,
                        locality_code, locality_name,
                        progress_score, digitization_score, online_score, satisfaction_score,
                        total_100, rating, rank
                    FROM v_service_index_monthly
                    WHERE {_MONTHS_IN_RANGE} AND {province_filter()}
                    ORDER BY month DESC, rank
                """
            ),
        ),
        field=_SCORE,
        overrides=(
            *_GROUP_NAMES,
            Override("total_100", {"custom.cellOptions": {"type": "color-background"}}),
            Override("rank", {"decimals": 0}),
        ),
        width=24,
        height=12,
    )


def dashboard() -> Dashboard:
    """The service index dashboard."""
    return Dashboard(
        uid=UID,
        title=TITLE,
        description=(
            "Decision 766/QĐ-TTg service index per province and month: the groups events "
            "can feed (82 of 100 points; transparency has no event behind it)."
        ),
        rows=(
            Row(title="Xếp hạng / Ranking", panels=_ranking()),
            Row(title="Xu hướng / Trend", panels=_trend()),
            Row(title="Theo tháng / Monthly", panels=(_months(),)),
        ),
        variables=(PROVINCE,),
        links=nav_links(UID),
        time_from="now-90d",
        refresh="5m",
    )
