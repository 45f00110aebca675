"""``dxpulse schema export DIR``: the event contract as JSON Schema files."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from dxpulse.contracts import TOPIC_KEYS
from dxpulse.contracts.schema import BATCH_SUFFIX, export_json_schemas

app = typer.Typer(
    help="Machine-readable JSON Schemas (Draft 2020-12) of the event wire contract v1.",
    no_args_is_help=True,
)
console = Console()


@app.command("export")
def export(
    directory: Path = typer.Argument(
        ...,
        metavar="DIR",
        help="Folder to write the schemas into (created when missing; files overwritten).",
        file_okay=False,
        dir_okay=True,
    ),
) -> None:
    """Write <event_type>.schema.json per event type, <topic>.schema.json and <topic>.batch.schema.json per topic.

    Agencies that publish from other languages validate their messages against these
    before sending; the files are regenerated from the same models the pipeline uses.
    """
    written = export_json_schemas(directory)
    table = Table(title=f"JSON Schemas written to {directory}", header_style="bold")
    table.add_column("file")
    table.add_column("describes")
    table.add_column("bytes", justify="right")
    for path in written:
        name = path.name.removesuffix(".schema.json")
        if name in TOPIC_KEYS:
            kind = "topic: one event"
        elif name.removesuffix(BATCH_SUFFIX) in TOPIC_KEYS:
            kind = "topic: batched message"
        else:
            kind = "event type"
        table.add_row(path.name, kind, str(path.stat().st_size))
    console.print(table)
    console.print(f"{len(written)} files written.")
