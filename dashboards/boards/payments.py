"""Thanh toán / Payments: online payments of fees, their outcomes, amounts, methods and gateways.

For the national portal's payment platform and provincial finance offices: success rate,
amounts and the online-payment rate of fee-bearing dossiers, over time and by province.

Example::

    from dxpulse.dashboards.boards import payments

    payments.dashboard().uid  # 'dxpulse-payments'
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
    UID_PAYMENTS,
    VND,
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

UID = UID_PAYMENTS
TITLE = "Thanh toán / Payments"

_SUCCESS_RATE = (
    "if(sum(payments_succeeded) + sum(payments_failed) = 0, NULL, "
    "sum(payments_succeeded) / (sum(payments_succeeded) + sum(payments_failed)))"
)
_PERCENT = FieldConfig(
    unit="percentunit", decimals=1, thresholds=PERCENT_THRESHOLDS, color_mode=ColorMode.THRESHOLDS
)


def _overview() -> tuple[Panel, ...]:
    where = province_filter()
    paid = INDICATORS["online_payment_rate"]
    return (
        range_stat(
            "Giao dịch thành công",
            "Payments succeeded (payment.succeeded) in the time range.",
            "sum(payments_succeeded)",
            "payments_succeeded_total",
            FieldConfig(unit="short", decimals=0, color_mode=ColorMode.FIXED, fixed_color="blue"),
            where,
        ),
        range_stat(
            "Số tiền đã thanh toán",
            "Amount of the succeeded payments, in đồng (refunds not deducted).",
            "sum(succeeded_amount_vnd)",
            "succeeded_amount_total",
            FieldConfig(unit=VND, decimals=1, color_mode=ColorMode.FIXED, fixed_color="purple"),
            where,
        ),
        range_stat(
            "Tỷ lệ giao dịch thành công",
            "Succeeded / (succeeded + failed) payment attempts in the time range.",
            _SUCCESS_RATE,
            "success_rate",
            _PERCENT,
            where,
        ),
        range_stat(paid.title, paid.description, paid.expr, paid.key, _PERCENT, where),
    )


def _over_time() -> tuple[Panel, ...]:
    source = indent(windows(province_filter()), 20)
    outcomes = TimeseriesPanel(
        title="Giao dịch theo kết quả",
        description="Payments succeeded, failed and refunded per interval (event time).",
        targets=(
            per_interval(
                source,
                "sum(payments_succeeded) AS succeeded_count",
                "sum(payments_failed) AS failed_count",
                "sum(payments_refunded) AS refunded_count",
            ),
        ),
        field=FieldConfig(unit="short", decimals=0),
        bars=True,
        stacked=True,
        interval="1m",
    )
    amounts = TimeseriesPanel(
        title="Số tiền theo thời gian",
        description="Amounts paid and refunded per interval, in đồng.",
        targets=(
            per_interval(
                source,
                "sum(succeeded_amount_vnd) AS paid_amount",
                "sum(refunded_amount_vnd) AS refunded_amount",
            ),
        ),
        field=FieldConfig(unit=VND, decimals=1),
        interval="1m",
    )
    return (outcomes, amounts)


def _breakdown(title: str, description: str, label: str) -> Panel:
    # Distinct event_ids rather than count() over FINAL: the same result (copies of an
    # event are identical) without FINAL's merge of the raw table.
    return PieChartPanel(
        title=title,
        description=description,
        targets=(
            ClickHouseTarget(
                sql=f"""
                    SELECT {indent(label, 24)} AS label, uniqExact(event_id) AS payments
                    FROM payment_events
                    WHERE event_type = 'payment.succeeded'
                      AND $__timeFilter(occurred_at)
                      AND {province_filter()}
                    GROUP BY label
                    ORDER BY payments DESC
                """
            ),
        ),
        field=FieldConfig(unit="short", decimals=0),
        width=12,
        height=9,
    )


def _by_method_and_gateway() -> tuple[Panel, ...]:
    method = """
        multiIf(
            method = 'bank_transfer', 'Chuyển khoản / bank transfer',
            method = 'card', 'Thẻ / card',
            method = 'e_wallet', 'Ví điện tử / e-wallet',
            method = 'qr', 'Mã QR / QR code',
            method
        )
    """
    gateway = """
        multiIf(
            gateway = 'national_portal', 'Cổng Dịch vụ công quốc gia / national portal',
            gateway = 'local_gateway', 'Cổng của bộ, tỉnh / ministry or provincial gateway',
            gateway
        )
    """
    return (
        _breakdown(
            "Thanh toán theo phương thức",
            "Succeeded payments in the time range by method.",
            method,
        ),
        _breakdown(
            "Thanh toán theo cổng",
            "Succeeded payments by gateway (DuocThanhToanTrucTuyen: 1 national portal, "
            "2 a ministry's or province's gateway).",
            gateway,
        ),
    )


def _by_province() -> Panel:
    paid = INDICATORS["online_payment_rate"]
    return TablePanel(
        title="Thanh toán theo tỉnh",
        description=(
            "Per province over the time range: payments by outcome, amounts, success rate "
            "and the online-payment rate of fee-bearing dossiers (exact distinct dossiers)."
        ),
        targets=(
            ClickHouseTarget(
                sql=f"""
                    SELECT
                        w.locality_code AS code,
                        l.locality_name AS province_name,
                        sum(payments_succeeded) AS succeeded_count,
                        sum(payments_failed) AS failed_count,
                        sum(payments_refunded) AS refunded_count,
                        sum(succeeded_amount_vnd) AS paid_amount,
                        sum(refunded_amount_vnd) AS refunded_amount,
                        {_SUCCESS_RATE} AS success_rate,
                        {paid.expr} AS {paid.key}
                    FROM {indent(range_windows(province_filter()), 20)} AS w
                    LEFT JOIN v_localities AS l ON l.locality_code = w.locality_code
                    GROUP BY code, province_name
                    ORDER BY paid_amount DESC
                """
            ),
        ),
        field=FieldConfig(unit="short", decimals=0, links=(province_link("code"),)),
        overrides=(
            Override("paid_amount", {"unit": VND, "decimals": 1}),
            Override("refunded_amount", {"unit": VND, "decimals": 1}),
            Override("success_rate", {"unit": "percentunit", "decimals": 1}),
            Override(paid.key, {"unit": "percentunit", "decimals": 1}),
        ),
        sort_by=("paid_amount", True),
        width=24,
        height=12,
    )


def dashboard() -> Dashboard:
    """The payments dashboard."""
    return Dashboard(
        uid=UID,
        title=TITLE,
        description="Online payments (thanh toán trực tuyến): outcomes, amounts, methods, gateways, provinces.",
        rows=(
            Row(title="Tổng quan / Overview", panels=_overview()),
            Row(title="Theo thời gian / Over time", panels=_over_time()),
            Row(
                title="Phương thức và cổng / Methods and gateways", panels=_by_method_and_gateway()
            ),
            Row(title="Theo tỉnh / By province", panels=(_by_province(),)),
        ),
        variables=(PROVINCE,),
        links=nav_links(UID),
    )
