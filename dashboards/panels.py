"""Small helpers the dashboard builders share: uids, navigation, SQL fragments, indicators.

The SQL fragments keep the rules of the README's "For dashboard authors" section in one
place: window tables are read with ``FINAL``; ``paid_dossiers`` is merged with
``uniqExactMerge``; rates are NULL when their denominator is 0 (the formulas of
``sql/0006_analyst_views.sql``).

:func:`windows` is the source of every bucketed or range query: it reads ``window_1m``
(1-minute grain, near real time) unless Grafana's interval is a whole number of hours —
then the hourly ``rollup_1h``, so long ranges stay cheap. Both branches are in the SQL;
ClickHouse drops the one whose constant condition is false.

Example::

    from dxpulse.dashboards.panels import INDICATORS, windows

    sql = f"SELECT {INDICATORS['online_rate'].expr} AS online_rate FROM {windows()}"
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from dxpulse.dashboards.model import (
    ClickHouseTarget,
    DashboardLink,
    DataLink,
    FieldConfig,
    QueryFormat,
    QueryVariable,
    StatPanel,
    Threshold,
    ValueMapping,
)

__all__ = [
    "BOARDS",
    "INDICATORS",
    "LOCALITY_FILTER",
    "PERCENT_THRESHOLDS",
    "PROVINCE",
    "RATING_MAPPINGS",
    "SCORE_THRESHOLDS",
    "UID_DOSSIERS",
    "UID_INVOICES",
    "UID_NATIONAL",
    "UID_PAYMENTS",
    "UID_PIPELINE",
    "UID_PROVINCE",
    "UID_SERVICE_INDEX",
    "VND",
    "WIDE_SERIES_POINTS",
    "Indicator",
    "days_in_range",
    "indent",
    "latest_month",
    "nav_links",
    "per_interval",
    "province_filter",
    "province_link",
    "range_stat",
    "range_windows",
    "rolling_24h",
    "windows",
]

UID_NATIONAL = "dxpulse-national"
UID_PROVINCE = "dxpulse-province"
UID_DOSSIERS = "dxpulse-dossiers"
UID_INVOICES = "dxpulse-invoices"
UID_PAYMENTS = "dxpulse-payments"
UID_SERVICE_INDEX = "dxpulse-service-index"
UID_PIPELINE = "dxpulse-pipeline"

#: (uid, short title) of every dxpulse dashboard, in menu order.
BOARDS: tuple[tuple[str, str], ...] = (
    (UID_NATIONAL, "Toàn quốc / National"),
    (UID_PROVINCE, "Tỉnh / Province"),
    (UID_DOSSIERS, "Hồ sơ / Dossiers"),
    (UID_INVOICES, "Hóa đơn / E-invoices"),
    (UID_PAYMENTS, "Thanh toán / Payments"),
    (UID_SERVICE_INDEX, "Chỉ số 766 / Service index"),
    (UID_PIPELINE, "Vận hành / Pipeline"),
)

#: "Max data points" of full-width time series: 30 days / 720 is Grafana's 1-hour interval,
#: so a 30-day chart buckets hourly roll-ups (at the default 1 point per pixel it would
#: get 20-minute buckets of 1.5 M window_1m rows); a 7-day chart gets 15 minutes.
WIDE_SERIES_POINTS = 720

#: Unit of amounts in đồng (Grafana custom currency unit: ₫1.2M).
VND = "currency:₫"

#: Where a single-value ``$locality`` (a current 2-digit code) selects a province.
LOCALITY_FILTER = "locality_code = ${locality:sqlstring}"

#: The provinces of the thematic dashboards: several, or All (no filter).
PROVINCE = QueryVariable(
    name="province",
    label="Tỉnh / Provinces",
    sql="SELECT locality_code, locality_name FROM v_localities ORDER BY locality_code",
    description="Provinces to include (value: 2-digit code); All = the whole country.",
    multi=True,
    include_all=True,
)


def province_filter(column: str = "locality_code") -> str:
    """The condition ``$province`` puts on ``column``: ``1=1`` when All is selected."""
    return f"$__conditionalAll({column} IN (${{province:sqlstring}}), $province)"


#: Colours of a share (0..1): red below 50 %, orange below 80 %, green above.
PERCENT_THRESHOLDS = (Threshold(None, "red"), Threshold(0.5, "orange"), Threshold(0.8, "green"))
#: Decision 766 bands on the 0-100 scale (weak < 50 <= average < 70 <= good < 90 <= excellent).
SCORE_THRESHOLDS = (
    Threshold(None, "red"),
    Threshold(50, "orange"),
    Threshold(70, "yellow"),
    Threshold(90, "green"),
)
#: ``rating`` of v_service_index_monthly in Vietnamese, coloured like the bands.
RATING_MAPPINGS = (
    ValueMapping("excellent", "Xuất sắc (excellent)", "green"),
    ValueMapping("good", "Tốt (good)", "yellow"),
    ValueMapping("average", "Trung bình (average)", "orange"),
    ValueMapping("weak", "Yếu (weak)", "red"),
)


def nav_links(current: str) -> tuple[DashboardLink, ...]:
    """Header links to every other dxpulse dashboard (the time range is kept)."""
    return tuple(DashboardLink(title, uid) for uid, title in BOARDS if uid != current)


def province_link(code_field: str = "locality_code") -> DataLink:
    """A value link to the province drill-down for the row's province."""
    return DataLink(
        "Xem tỉnh / Open province",
        UID_PROVINCE,
        f"var-locality=${{__data.fields.{code_field}}}&${{__url_time_range}}",
    )


def indent(sql: str, spaces: int) -> str:
    """``sql`` (dedented) indented by ``spaces`` after its first line, for nesting."""
    lines = textwrap.dedent(sql).strip().splitlines()
    return ("\n" + " " * spaces).join(lines)


def per_interval(source: str, *columns: str) -> ClickHouseTarget:
    """A time-series target: ``columns`` (``expr AS name``) per ``$__timeInterval`` of ``source``.

    ``source`` is a FROM source nested at the query's indentation (``indent(windows(), 20)``).
    """
    select = (",\n" + " " * 24).join(["$__timeInterval(window_start) AS time", *columns])
    return ClickHouseTarget(
        sql=f"""
                    SELECT
                        {select}
                    FROM {source}
                    GROUP BY time
                    ORDER BY time
                """,
        format=QueryFormat.TIME_SERIES,
    )


def windows(where: str | None = None) -> str:
    """A FROM source of window rows in the time range: window_1m, or rollup_1h for hour grains.

    ``where`` filters both branches (e.g. :data:`LOCALITY_FILTER`). The time range is a
    ``PREWHERE``: ClickHouse does not move conditions to ``PREWHERE`` under ``FINAL`` by
    itself, so ``FINAL`` merged every row of the granules the range touches (8192 minutes
    of a locality each, with their distinct-dossier states) before filtering. A condition
    on a sorting-key column keeps or drops every version of a row together, so filtering
    first gives the same rows.
    """
    extra = f"\n    WHERE {where}" if where else ""
    return (
        "(\n"
        "    SELECT * FROM window_1m FINAL\n"
        f"    PREWHERE $__timeFilter(window_start) AND $__interval_s % 3600 != 0{extra}\n"
        "    UNION ALL\n"
        "    SELECT * FROM rollup_1h FINAL\n"
        f"    PREWHERE $__timeFilter(window_start) AND $__interval_s % 3600 = 0{extra}\n"
        ")"
    )


#: First whole hour inside the time range, and the start of the last one (UTC hours).
_FIRST_HOUR = "toStartOfHour($__fromTime + INTERVAL 3599 SECOND, 'UTC')"
_LAST_HOUR = "toStartOfHour($__toTime - INTERVAL 59 MINUTE, 'UTC')"


def range_windows(where: str | None = None) -> str:
    """A FROM source of every window row in the time range, for aggregates over the whole range.

    The whole hours inside the range come from ``rollup_1h`` and only the minutes before
    the first and after the last whole hour from ``window_1m``: the same sums (and
    ``uniqExactMerge`` states) as reading ``window_1m`` for the range, minute for minute,
    whatever Grafana's interval, while a 30-day stat reads ~25 k hourly rows instead of
    1.5 M minute rows. Use :func:`windows` for bucketed (time-series) queries. The time
    conditions are ``PREWHERE`` (see :func:`windows`): the edge minutes are a few
    thousand rows, but ``FINAL`` merged whole granules of every locality first.
    """
    extra = f"\n    WHERE {where}" if where else ""
    return (
        "(\n"
        "    SELECT * FROM rollup_1h FINAL\n"
        f"    PREWHERE window_start >= {_FIRST_HOUR} AND window_start <= {_LAST_HOUR}{extra}\n"
        "    UNION ALL\n"
        "    SELECT * FROM window_1m FINAL\n"
        "    PREWHERE $__timeFilter(window_start)\n"
        f"      AND (window_start < {_FIRST_HOUR} OR window_start >= {_LAST_HOUR} + INTERVAL 1 HOUR){extra}\n"
        ")"
    )


def days_in_range(column: str = "day") -> str:
    """A condition on a daily view's ``day``: the Vietnamese days the time range touches."""
    return (
        f"{column} BETWEEN toDate($__fromTime, 'Asia/Ho_Chi_Minh') "
        "AND toDate($__toTime, 'Asia/Ho_Chi_Minh')"
    )


def latest_month(where: str | None = None) -> str:
    """A condition selecting the newest month of v_service_index_monthly inside the range.

    That is the newest month (of Vietnamese days) in the range with dossier activity
    (the view's ``received + completed + rated > 0``), found from the hourly roll-ups
    directly: asking the view itself computed every province's index for every month
    once more.
    """
    return (
        "month = (\n"
        "    SELECT max(toStartOfMonth(toDate(window_start, 'Asia/Ho_Chi_Minh')))\n"
        "    FROM rollup_1h FINAL\n"
        "    WHERE received + completed + rated > 0\n"
        "      AND window_start >= toDateTime(toStartOfMonth(toDate($__fromTime, "
        "'Asia/Ho_Chi_Minh')), 'Asia/Ho_Chi_Minh')\n"
        "      AND window_start < toDateTime(addMonths(toStartOfMonth(toDate($__toTime, "
        "'Asia/Ho_Chi_Minh')), 1), 'Asia/Ho_Chi_Minh')"
        + (f"\n      AND {where}" if where else "")
        + "\n)"
    )


@dataclass(frozen=True)
class Indicator:
    """A headline rate: aggregate SQL over window rows, with names and meaning."""

    key: str
    title: str
    description: str
    expr: str
    columns: tuple[str, ...]


def _rate(numerator: str, denominator: str) -> str:
    return f"if(sum({denominator}) = 0, NULL, sum({numerator}) / sum({denominator}))"


#: The six headline rates of Decision 766's vocabulary, as aggregates over window rows.
INDICATORS: dict[str, Indicator] = {
    i.key: i
    for i in (
        Indicator(
            "online_rate",
            "Tỷ lệ hồ sơ trực tuyến",
            "Online share: dossiers received online / dossiers received (Decision 766, "
            "online-service group; full points at 50 %).",
            _rate("received_online", "received"),
            ("received", "received_online"),
        ),
        Indicator(
            "full_online_rate",
            "Tỷ lệ hồ sơ trực tuyến toàn trình",
            "End-to-end online share (toàn trình): dossiers received online with "
            "online_level = full / dossiers received.",
            _rate("received_full_online", "received"),
            ("received", "received_full_online"),
        ),
        Indicator(
            "on_time_rate",
            "Tỷ lệ giải quyết đúng hạn",
            "On-time rate: completions on or before the due date (NgayHenTra) / completions "
            "whose receipt is known (on time + late).",
            "if(sum(completed_on_time) + sum(completed_late) = 0, NULL, "
            "sum(completed_on_time) / (sum(completed_on_time) + sum(completed_late)))",
            ("completed_on_time", "completed_late"),
        ),
        Indicator(
            "online_payment_rate",
            "Tỷ lệ thanh toán trực tuyến",
            "Online payment rate: distinct dossiers with a succeeded payment / fee-bearing "
            "dossiers received, capped at 100 %.",
            "if(sum(received_fee_required) = 0, NULL, "
            "least(1.0, uniqExactMerge(paid_dossiers) / sum(received_fee_required)))",
            ("received_fee_required", "paid_dossiers"),
        ),
        Indicator(
            "digitization_rate",
            "Tỷ lệ số hóa hồ sơ",
            "Digitisation rate (DuocSoHoa): completions with digitised inputs and an "
            "electronic result / completions (full points at 80 %).",
            _rate("completed_digitized", "completed"),
            ("completed", "completed_digitized"),
        ),
        Indicator(
            "satisfaction_rate",
            "Mức độ hài lòng",
            "Satisfaction (Decision 766): 100 % - late completions % - dissatisfied ratings %, "
            "at least 0.",
            "if(sum(completed) = 0 AND sum(rated) = 0, NULL, greatest(0.0, 1.0"
            " - if(sum(completed) = 0, 0.0, sum(completed_late) / sum(completed))"
            " - if(sum(rated) = 0, 0.0, sum(rated_dissatisfied) / sum(rated))))",
            ("completed", "completed_late", "rated", "rated_dissatisfied"),
        ),
    )
}


def rolling_24h(indicator: Indicator, where: str | None = None) -> str:
    """Hourly points of ``indicator`` over the trailing 24 hours, from rollup_1h.

    The provinces' roll-ups are summed per hour (distinct paid dossiers merged into one
    state per hour), the hour series is completed with ``WITH FILL`` (hours without data
    get zero sums and empty states) and each point aggregates the 24 hours ending at it
    with window functions (``ROWS BETWEEN 23 PRECEDING AND CURRENT ROW``): the exact
    rate of the day before it — ``uniqExactMerge`` included — and the last point is the
    last 24 hours. A point is kept when at least one of its 24 hours has data, so an
    hour without data still gets its point while the day before it has some.
    (Earlier versions copied every hourly row to the 24 points it counts towards with
    an ``ARRAY JOIN`` and grouped them: twice as slow on the distinct-dossier states.)
    The window yields the distinct count itself, so the indicator's
    ``uniqExactMerge(paid_dossiers)`` reads it with ``sum`` over the point's one row.
    """
    hourly = ", ".join(
        f"uniqExactMergeState({c}) AS h_{c}" if c == "paid_dossiers" else f"sum({c}) AS h_{c}"
        for c in indicator.columns
    )
    rolling = ",\n                ".join(
        f"uniqExactMerge(h_{c}) OVER w AS {c}"
        if c == "paid_dossiers"
        else f"sum(h_{c}) OVER w AS {c}"
        for c in indicator.columns
    )
    expr = indicator.expr.replace("uniqExactMerge(paid_dossiers)", "sum(paid_dossiers)")
    extra = f"\n                      AND {where}" if where else ""
    return f"""
        SELECT t AS time, {expr} AS {indicator.key}
        FROM
        (
            SELECT
                h AS t,
                {rolling},
                sum(h_rows) OVER w AS hour_rows
            FROM
            (
                SELECT window_start AS h, {hourly}, count() AS h_rows
                FROM rollup_1h FINAL
                WHERE window_start > $__fromTime - INTERVAL 1 DAY
                  AND window_start <= $__toTime{extra}
                GROUP BY h
                ORDER BY h WITH FILL TO $__toTime + 1 STEP 3600
            )
            WINDOW w AS (ORDER BY h ROWS BETWEEN 23 PRECEDING AND CURRENT ROW)
        )
        WHERE t >= $__fromTime AND t <= $__toTime AND hour_rows > 0
        GROUP BY t
        ORDER BY t
    """


def range_stat(
    title: str,
    description: str,
    expr: str,
    alias: str,
    field: FieldConfig,
    where: str | None = None,
) -> StatPanel:
    """A stat of one aggregate ``expr`` over the window rows of the whole time range (:func:`range_windows`)."""
    return StatPanel(
        title=title,
        description=description,
        targets=(
            ClickHouseTarget(
                sql=f"""
                    SELECT {expr} AS {alias}
                    FROM {indent(range_windows(where), 20)}
                """
            ),
        ),
        field=field,
        width=6,
        height=4,
    )
