"""The live terminal view of ``dxpulse up``: per-province indicators and pipeline health."""

from __future__ import annotations

from typing import Any

from clickhouse_connect.driver.exceptions import ClickHouseError
from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from dxpulse.clickhouse import Client

_INDICATORS = """
SELECT i.locality_code, i.locality_name, d.received, i.online_rate, i.full_online_rate,
       i.on_time_rate, i.digitization_rate, i.online_payment_rate, i.satisfaction_rate,
       i.invoices_issued, i.payment_amount_vnd
FROM {db}.v_indicators_daily AS i
LEFT JOIN {db}.v_dossier_daily AS d ON d.day = i.day AND d.locality_code = i.locality_code
WHERE i.day = (SELECT max(day) FROM {db}.v_indicators_daily)
ORDER BY d.received DESC, i.invoices_issued DESC
LIMIT {limit}
"""

_HEALTH = """
SELECT component, topic, sum(lag), round(sum(events_per_s), 1), sum(dead_letters_total),
       sum(late_events_total), max(newest_event_time),
       dateDiff('second', max(newest_event_time), now64(3))
FROM {db}.v_pipeline_health_latest
GROUP BY component, topic
ORDER BY component DESC, topic
"""


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * float(value):.1f}%"


def _num(value: Any) -> str:
    return "-" if value is None else f"{int(value):,}"


def render(client: Client, database: str, *, limit: int = 34, status: str = "") -> Group:
    """Build the view from the current contents of ClickHouse."""
    try:
        indicators = client.query(_INDICATORS.format(db=database, limit=limit)).result_rows
        health = client.query(_HEALTH.format(db=database)).result_rows
    except ClickHouseError as exc:
        return Group(Panel(f"waiting for data: {str(exc).splitlines()[0]}"), status)
    table = Table(
        title="Chỉ số chuyển đổi số theo tỉnh (hôm nay, giờ Việt Nam) / indicators by province",
        expand=True,
    )
    for name, justify in [
        ("code", "left"),
        ("province", "left"),
        ("received", "right"),
        ("online", "right"),
        ("end-to-end", "right"),
        ("on time", "right"),
        ("digitised", "right"),
        ("paid online", "right"),
        ("satisfaction", "right"),
        ("e-invoices", "right"),
        ("payments VND", "right"),
    ]:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in indicators:
        code, name, received, *rates, invoices, paid = row
        table.add_row(
            code, name or "", _num(received), *(_pct(r) for r in rates), _num(invoices), _num(paid)
        )
    pipeline = Table(title="Vận hành / pipeline health", expand=True)
    for name in (
        "component",
        "topic",
        "lag",
        "events/s",
        "dead letters",
        "late",
        "newest event",
        "freshness s",
    ):
        pipeline.add_column(name, justify="left" if name in ("component", "topic") else "right")
    for component, topic, lag, rate, dead, late, newest, fresh in health:
        pipeline.add_row(
            component, topic, _num(lag), str(rate), _num(dead), _num(late),
            "-" if newest is None else f"{newest:%Y-%m-%d %H:%M:%S}Z", _num(fresh),
        )  # fmt: skip
    return Group(table, pipeline, status)
