"""Tỉnh / Province drill-down: one province's indicators, index, activity and daily table.

For a provincial People's Committee office or department of science and technology:
choose the province in ``$locality`` (listed by name, its 2-digit code is the value) and
every panel follows.

Example::

    from dxpulse.dashboards.boards import province

    [v["name"] for v in province.dashboard().to_json()["templating"]["list"]]  # ['locality']
"""

from __future__ import annotations

from dxpulse.dashboards.boards.national import headline_stats
from dxpulse.dashboards.model import (
    BarGaugePanel,
    ClickHouseTarget,
    ColorMode,
    Dashboard,
    FieldConfig,
    Override,
    Panel,
    QueryVariable,
    Row,
    StatPanel,
    TablePanel,
    TimeseriesPanel,
)
from dxpulse.dashboards.panels import (
    INDICATORS,
    LOCALITY_FILTER,
    PERCENT_THRESHOLDS,
    RATING_MAPPINGS,
    SCORE_THRESHOLDS,
    UID_PROVINCE,
    VND,
    days_in_range,
    indent,
    latest_month,
    nav_links,
    per_interval,
    windows,
)

__all__ = ["LOCALITY", "TITLE", "UID", "dashboard"]

UID = UID_PROVINCE
TITLE = "Tỉnh / Province drill-down"

#: The province: text = its name, value = its current 2-digit code.
LOCALITY = QueryVariable(
    name="locality",
    label="Tỉnh / Province",
    sql="SELECT locality_code, locality_name FROM v_localities ORDER BY locality_code",
    description="One of the 34 current provincial units (value: its 2-digit code).",
)


def _index() -> tuple[Panel, ...]:
    latest = latest_month(LOCALITY_FILTER)
    total = StatPanel(
        title="Chỉ số 766 tháng gần nhất",
        description=(
            "Decision 766 service index of the province for the newest month in the time "
            "range (events-fed part rescaled to 100), with its rating band and rank."
        ),
        targets=(
            ClickHouseTarget(
                sql=f"""
                    SELECT total_100, rating, rank
                    FROM v_service_index_monthly
                    WHERE {LOCALITY_FILTER}
                      AND {indent(latest, 22)}
                """
            ),
        ),
        field=FieldConfig(
            unit="none",
            decimals=1,
            min=0,
            max=100,
            thresholds=SCORE_THRESHOLDS,
            color_mode=ColorMode.THRESHOLDS,
            mappings=RATING_MAPPINGS,
        ),
        overrides=(
            Override(
                "rank",
                {"unit": "none", "decimals": 0, "color": {"mode": "fixed", "fixedColor": "text"}},
            ),
        ),
        color_background=True,
        fields="/^(total_100|rating|rank)$/",
        width=8,
        height=7,
    )
    groups = BarGaugePanel(
        title="Điểm theo nhóm tiêu chí",
        description=(
            "Points per Decision 766 group for the newest month in the time range: "
            "progress (of 20), digitisation (22), online service (22), satisfaction (18)."
        ),
        targets=(
            ClickHouseTarget(
                sql=f"""
                    SELECT progress_score, digitization_score, online_score, satisfaction_score
                    FROM v_service_index_monthly
                    WHERE {LOCALITY_FILTER}
                      AND {indent(latest, 22)}
                """
            ),
        ),
        field=FieldConfig(unit="none", decimals=1, min=0, color_mode=ColorMode.PALETTE),
        overrides=(
            Override("progress_score", {"max": 20, "displayName": "Tiến độ / Progress (20)"}),
            Override(
                "digitization_score", {"max": 22, "displayName": "Số hóa / Digitisation (22)"}
            ),
            Override("online_score", {"max": 22, "displayName": "Trực tuyến / Online (22)"}),
            Override(
                "satisfaction_score", {"max": 18, "displayName": "Hài lòng / Satisfaction (18)"}
            ),
        ),
        per_row=False,
        width=16,
        height=7,
    )
    return (total, groups)


def _activity() -> tuple[Panel, ...]:
    source = indent(windows(LOCALITY_FILTER), 20)
    dossiers = TimeseriesPanel(
        title="Hồ sơ tiếp nhận và giải quyết",
        description="Dossiers received, completed and rated per interval in the province.",
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
    online, on_time = INDICATORS["online_rate"], INDICATORS["on_time_rate"]
    rates = TimeseriesPanel(
        title="Tỷ lệ trực tuyến và đúng hạn",
        description="Online share of receipts and on-time rate of completions per interval.",
        targets=(
            per_interval(
                source,
                f"{online.expr} AS online_rate",
                f"{on_time.expr} AS on_time_rate",
            ),
        ),
        field=FieldConfig(unit="percentunit", decimals=1, min=0, max=1),
        interval="1m",
    )
    invoices = TimeseriesPanel(
        title="Hóa đơn điện tử",
        description="E-invoices issued per interval (bars) and their amount incl. VAT (line, right axis).",
        targets=(
            per_interval(
                source,
                "sum(invoices_issued) AS invoices_issued",
                "sum(issued_amount_vnd) AS issued_amount_vnd",
            ),
        ),
        field=FieldConfig(unit="short", decimals=0),
        overrides=(
            Override(
                "issued_amount_vnd",
                {"unit": VND, "custom.axisPlacement": "right", "custom.drawStyle": "line"},
            ),
            Override("invoices_issued", {"custom.drawStyle": "bars"}),
        ),
        interval="1m",
    )
    payments = TimeseriesPanel(
        title="Thanh toán trực tuyến",
        description="Online payments succeeded and failed per interval, and the amount paid (right axis).",
        targets=(
            per_interval(
                source,
                "sum(payments_succeeded) AS payments_succeeded",
                "sum(payments_failed) AS payments_failed",
                "sum(succeeded_amount_vnd) AS succeeded_amount_vnd",
            ),
        ),
        field=FieldConfig(unit="short", decimals=0),
        overrides=(
            Override("succeeded_amount_vnd", {"unit": VND, "custom.axisPlacement": "right"}),
        ),
        interval="1m",
    )
    return (dossiers, rates, invoices, payments)


def _daily() -> Panel:
    return TablePanel(
        title="Chỉ số theo ngày",
        description=(
            "The province's row of v_indicators_daily for every Vietnamese day in the time "
            "range: headline rates, e-invoice and payment amounts."
        ),
        targets=(
            ClickHouseTarget(
                sql=f"""
                    SELECT
                        day, online_rate, full_online_rate, on_time_rate, digitization_rate,
                        online_payment_rate, satisfaction_rate, invoices_issued,
                        invoice_amount_vnd, payment_amount_vnd
                    FROM v_indicators_daily
                    WHERE {LOCALITY_FILTER} AND {days_in_range()}
                    ORDER BY day DESC
                """
            ),
        ),
        field=FieldConfig(unit="percentunit", decimals=1, thresholds=PERCENT_THRESHOLDS),
        overrides=(
            Override("day", {"unit": "time: YYYY-MM-DD"}),
            Override("invoices_issued", {"unit": "short", "decimals": 0}),
            Override("invoice_amount_vnd", {"unit": VND}),
            Override("payment_amount_vnd", {"unit": VND}),
        ),
        sort_by=("day", True),
        width=24,
        height=10,
    )


def dashboard() -> Dashboard:
    """The province drill-down."""
    return Dashboard(
        uid=UID,
        title=TITLE,
        description="One province (choose it in Tỉnh / Province): indicators, index, activity.",
        rows=(
            Row(
                title="Chỉ số chính (24 giờ qua) / Headline indicators (last 24 h)",
                panels=headline_stats(LOCALITY_FILTER, "in the province"),
            ),
            Row(title="Chỉ số 766 / Service index", panels=_index()),
            Row(title="Hoạt động / Activity", panels=_activity()),
            Row(title="Theo ngày / Daily", panels=(_daily(),)),
        ),
        variables=(LOCALITY,),
        links=nav_links(UID),
    )
