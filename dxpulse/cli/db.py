"""``dxpulse migrate`` and ``dxpulse sql``: the ClickHouse side of the CLI."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from dxpulse.cli.context import settings_of
from dxpulse.cli.output import OutputFormat, to_csv, to_json, to_table
from dxpulse.clickhouse import connect, embedded_lock_holder, returns_rows, translate_error
from dxpulse.errors import QueryError
from dxpulse.migrations import Migrator
from dxpulse.query_endpoint import QueryResult, query_owner
from dxpulse.settings import Settings

console = Console()
err_console = Console(stderr=True)


def migrate(
    ctx: typer.Context,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="List pending migrations; apply nothing."
    ),
) -> None:
    """Apply the pending sql/ migrations, in order, to DXPULSE_CLICKHOUSE_URL / DXPULSE_DATABASE.

    Idempotent: applied files are recorded with their SHA-256 and skipped; if an applied
    file has changed since, nothing runs and the command fails.
    """
    settings = settings_of(ctx)
    client = connect(settings)
    try:
        report = Migrator(
            client, database=settings.database, raw_retention_days=settings.raw_retention_days
        ).migrate(dry_run=dry_run)
    finally:
        client.close()
    target = f"{settings.clickhouse_url_redacted} database {settings.database}"
    if report.retention_changed:
        console.print(
            f"Retention set to {settings.raw_retention_days} days on: "
            + ", ".join(report.retention_changed)
        )
    if not report.applied:
        console.print(
            f"Schema up to date: {len(report.already_applied)} migrations applied on {target}"
        )
        return
    verb = "Would apply" if dry_run else "Applied"
    table = Table(title=f"{verb} {len(report.applied)} migration(s) on {target}")
    table.add_column("version", justify="right")
    table.add_column("file")
    table.add_column("sha256")
    for m in report.applied:
        table.add_row(f"{m.version:04d}", m.filename, m.checksum[:12])
    console.print(table)
    if report.already_applied:
        console.print(f"{len(report.already_applied)} migration(s) were already applied")


def sql(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="SQL to run; '-' reads it from standard input."),
    output: OutputFormat = typer.Option(
        OutputFormat.table, "--format", "-f", help="Output format.", case_sensitive=False
    ),
) -> None:
    """Run one SQL statement on ClickHouse and print the result (table, csv or json).

    The statement runs with DXPULSE_DATABASE as the current database when it exists.
    """
    from clickhouse_connect.driver.exceptions import ClickHouseError

    settings = settings_of(ctx)
    text = sys.stdin.read() if query == "-" else query
    if not text.strip():
        raise typer.BadParameter("the query is empty", param_hint="QUERY")
    owner = _ask_owner(settings, text)
    if owner is not None:
        _print_rows(owner.columns, owner.rows, output)
        return
    client = connect(settings)
    try:
        exists = client.query(
            "SELECT count() FROM system.databases WHERE name = {db:String}",
            parameters={"db": settings.database},
        ).result_rows[0][0]
        if exists:
            client.database = settings.database
        if not returns_rows(text):
            summary = client.command(text)
            err_console.print(f"OK {summary}" if isinstance(summary, str) and summary else "OK")
            return
        result = client.query(text)
    except ClickHouseError as exc:
        raise translate_error(exc, settings) from exc
    finally:
        client.close()
    _print_rows(list(result.column_names), result.result_rows, output)


def _ask_owner(settings: Settings, text: str) -> QueryResult | None:
    """When a running pipeline owns the embedded database, ask it (read-only) instead."""
    path = settings.chdb_path
    holder = embedded_lock_holder(path) if path is not None else None
    if path is None or holder is None or holder == os.getpid():
        return None
    if not returns_rows(text):
        raise QueryError(
            f"the embedded database {path} is owned by a running pipeline (pid {holder}), "
            "which answers read-only queries only; stop it (Ctrl-C in `dxpulse up`) to change data"
        )
    return query_owner(settings, text)


def _print_rows(columns: list[str], rows: Sequence[Sequence[Any]], output: OutputFormat) -> None:
    if output is OutputFormat.csv:
        sys.stdout.write(to_csv(columns, rows))
    elif output is OutputFormat.json:
        sys.stdout.write(to_json(columns, rows) + "\n")
    else:
        console.print(to_table(columns, rows))
        err_console.print(f"[dim]{len(rows)} row(s)[/dim]")
