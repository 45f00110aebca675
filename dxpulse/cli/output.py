"""Render query results for the terminal: a rich table, CSV or JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Any

import orjson
from rich.table import Table

from dxpulse.clickhouse import plain_value


class OutputFormat(StrEnum):
    """``dxpulse sql --format`` choices."""

    table = "table"
    csv = "csv"
    json = "json"


def to_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str | None = None
) -> Table:
    """A rich table; numbers right-aligned, NULL shown dimmed."""
    table = Table(title=title, show_lines=False, header_style="bold")
    numeric = [
        bool(rows) and all(isinstance(r[i], int | float | Decimal) or r[i] is None for r in rows)
        for i in range(len(columns))
    ]
    for name, is_num in zip(columns, numeric, strict=True):
        table.add_column(name, justify="right" if is_num else "left")
    for row in rows:
        table.add_row(*("[dim]NULL[/dim]" if v is None else str(plain_value(v)) for v in row))
    return table


def to_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """CSV with a header row; NULL as an empty field."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else plain_value(v) for v in row])
    return buf.getvalue()


def to_json(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A JSON array of objects, one per row."""
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    return orjson.dumps(records, default=plain_value, option=orjson.OPT_INDENT_2).decode("utf-8")
