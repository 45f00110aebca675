"""Hóa đơn điện tử / E-invoices: e-invoices issued and cancelled, amounts, VAT and kinds.

For tax departments and provincial finance offices: e-invoice volume and value over time,
by kind (with tax-authority code, without, cash register) and by province.

Example::

    from dxpulse.dashboards.boards import invoices

    invoices.dashboard().uid  # 'dxpulse-invoices'
"""

from __future__ import annotations

from dxpulse.dashboards.model import (
    BarChartPanel,
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
    PROVINCE,
    UID_INVOICES,
    VND,
    days_in_range,
    indent,
    nav_links,
    per_interval,
    province_filter,
    province_link,
    range_stat,
    range_windows,
    windows,
)

__all__ = ["TITLE", "UID", "dashboard"]

UID = UID_INVOICES
TITLE = "Hóa đơn điện tử / E-invoices"

_CANCEL_RATE = "if(sum(invoices_issued) = 0, NULL, sum(invoices_cancelled) / sum(invoices_issued))"


def _overview() -> tuple[Panel, ...]:
    where = province_filter()
    money = FieldConfig(unit=VND, decimals=1, color_mode=ColorMode.FIXED, fixed_color="purple")
    return (
        range_stat(
            "Hóa đơn phát hành",
            "E-invoices issued (invoice.issued) in the time range.",
            "sum(invoices_issued)",
            "invoices_issued_total",
            FieldConfig(unit="short", decimals=0, color_mode=ColorMode.FIXED, fixed_color="blue"),
            where,
        ),
        range_stat(
            "Giá trị hóa đơn",
            "Total amount of the e-invoices issued, VAT included, in đồng.",
            "sum(issued_amount_vnd)",
            "issued_amount_total",
            money,
            where,
        ),
        range_stat(
            "Thuế GTGT",
            "VAT on the e-invoices issued, in đồng.",
            "sum(issued_vat_vnd)",
            "issued_vat_total",
            money,
            where,
        ),
        range_stat(
            "Tỷ lệ hóa đơn bị hủy",
            "E-invoices cancelled (invoice.cancelled) / e-invoices issued in the time range.",
            _CANCEL_RATE,
            "cancel_rate",
            FieldConfig(
                unit="percentunit", decimals=2, color_mode=ColorMode.FIXED, fixed_color="orange"
            ),
            where,
        ),
    )


def _over_time() -> tuple[Panel, ...]:
    source = indent(windows(province_filter()), 20)
    volumes = TimeseriesPanel(
        title="Hóa đơn theo thời gian",
        description="E-invoices issued and cancelled per interval (event time).",
        targets=(
            per_interval(
                source,
                "sum(invoices_issued) AS invoices_issued_count",
                "sum(invoices_cancelled) AS invoices_cancelled_count",
            ),
        ),
        field=FieldConfig(unit="short", decimals=0),
        bars=True,
        interval="1m",
    )
    amounts = TimeseriesPanel(
        title="Giá trị và thuế theo thời gian",
        description="Amount (VAT included) and VAT of the e-invoices issued per interval, in đồng.",
        targets=(
            per_interval(
                source,
                "sum(issued_amount_vnd) AS issued_amount",
                "sum(issued_vat_vnd) AS issued_vat",
                "sum(cancelled_amount_vnd) AS cancelled_amount",
            ),
        ),
        field=FieldConfig(unit=VND, decimals=1),
        interval="1m",
    )
    return (volumes, amounts)


def _by_kind() -> tuple[Panel, ...]:
    daily = BarChartPanel(
        title="Hóa đơn theo ngày và loại",
        description=(
            "E-invoices issued per Vietnamese day (v_invoice_daily) by kind: with tax-authority "
            "code, without code, from cash registers."
        ),
        targets=(
            ClickHouseTarget(
                sql=f"""
                    SELECT
                        toString(day) AS day_label,
                        sum(with_code) AS with_code_count,
                        sum(without_code) AS without_code_count,
                        sum(cash_register) AS cash_register_count
                    FROM v_invoice_daily
                    WHERE {days_in_range()} AND {province_filter()}
                    GROUP BY day
                    ORDER BY day
                """
            ),
        ),
        field=FieldConfig(unit="short", decimals=0),
        x_field="day_label",
        stacked=True,
        width=14,
        height=9,
    )
    kinds = PieChartPanel(
        title="Cơ cấu hóa đơn theo loại",
        description="Share of each e-invoice kind among those issued in the time range.",
        targets=(
            ClickHouseTarget(
                sql=f"""
                    SELECT kind, invoices
                    FROM
                    (
                        SELECT
                            sum(issued_with_code) AS a,
                            sum(issued_without_code) AS b,
                            sum(issued_cash_register) AS c
                        FROM {indent(range_windows(province_filter()), 24)}
                    )
                    ARRAY JOIN
                        ['Có mã của cơ quan thuế / with code', 'Không có mã / without code',
                         'Máy tính tiền / cash register'] AS kind,
                        [a, b, c] AS invoices
                """
            ),
        ),
        field=FieldConfig(unit="short", decimals=0),
        width=10,
        height=9,
    )
    return (daily, kinds)


def _by_province() -> Panel:
    return TablePanel(
        title="Hóa đơn theo tỉnh",
        description=(
            "Per province over the days of the time range (v_invoice_daily): issued, "
            "cancelled, amount, VAT and cancellation rate."
        ),
        targets=(
            ClickHouseTarget(
                sql=f"""
                    SELECT
                        d.locality_code AS code,
                        l.locality_name AS province_name,
                        sum(issued) AS invoices_issued_count,
                        sum(cancelled) AS invoices_cancelled_count,
                        sum(issued_amount_vnd) AS issued_amount,
                        sum(issued_vat_vnd) AS issued_vat,
                        if(sum(issued) = 0, NULL, sum(cancelled) / sum(issued)) AS cancel_rate
                    FROM v_invoice_daily AS d
                    LEFT JOIN v_localities AS l ON l.locality_code = d.locality_code
                    WHERE {days_in_range("d.day")} AND {province_filter("d.locality_code")}
                    GROUP BY code, province_name
                    ORDER BY issued_amount DESC
                """
            ),
        ),
        field=FieldConfig(unit="short", decimals=0, links=(province_link("code"),)),
        overrides=(
            Override("issued_amount", {"unit": VND, "decimals": 1}),
            Override("issued_vat", {"unit": VND, "decimals": 1}),
            Override("cancel_rate", {"unit": "percentunit", "decimals": 2}),
        ),
        sort_by=("issued_amount", True),
        width=24,
        height=12,
    )


def dashboard() -> Dashboard:
    """The e-invoices dashboard."""
    return Dashboard(
        uid=UID,
        title=TITLE,
        description="E-invoices (hóa đơn điện tử): volume, value, VAT, kinds and provinces.",
        rows=(
            Row(title="Tổng quan / Overview", panels=_overview()),
            Row(title="Theo thời gian / Over time", panels=_over_time()),
            Row(title="Theo loại / By kind", panels=_by_kind()),
            Row(title="Theo tỉnh / By province", panels=(_by_province(),)),
        ),
        variables=(PROVINCE,),
        links=nav_links(UID),
    )
