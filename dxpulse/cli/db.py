"""``dxpulse migrate`` and ``dxpulse sql``: the ClickHouse side of the CLI."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.table import Table

from dxpulse.cli.context import settings_of
from dxpulse.cli.output import OutputFormat, to_csv, to_json, to_table
from dxpulse.clickhouse import connect, returns_rows, translate_error
from dxpulse.migrations import Migrator

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
    columns = list(result.column_names)
    rows = result.result_rows
    if output is OutputFormat.csv:
        sys.stdout.write(to_csv(columns, rows))
    elif output is OutputFormat.json:
        sys.stdout.write(to_json(columns, rows) + "\n")
    else:
        console.print(to_table(columns, rows))
        err_console.print(f"[dim]{len(rows)} row(s)[/dim]")
