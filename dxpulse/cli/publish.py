"""``dxpulse publish FILE``: validate a JSON Lines or CSV file and publish its valid events."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from dxpulse.broker import require_kafka
from dxpulse.cli.context import settings_of
from dxpulse.producers.batching import MAX_BATCH_EVENTS
from dxpulse.producers.files import FileFormat, FileRecord, detect_format, read_events

console = Console(stderr=True)


def batch_events_option() -> Any:
    """``--batch-events N`` (default 500): events per Kafka message; 1 = single-event messages."""
    return typer.Option(
        500,
        "--batch-events",
        min=1,
        max=MAX_BATCH_EVENTS,
        help="Events per Kafka message, at most (the batched form); 1 = one message per event.",
    )


def publish(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        readable=True,
        help="Events: .jsonl (one per line) or .csv.",
    ),
    rejects: Path | None = typer.Option(
        None,
        "--rejects",
        help="Where rejected lines go (JSON Lines: line, errors, raw). Default: FILE.rejects.jsonl.",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate only; publish nothing."),
    file_format: str | None = typer.Option(
        None, "--format", help="jsonl or csv (default: from the file extension)."
    ),
    batch_events: int = batch_events_option(),
) -> None:
    """Validate every line of FILE, publish the valid events to Kafka, report the rejected ones.

    Exits 1 when any line was rejected (or not delivered); rejected lines are written, with
    their line number, field and reason, to --rejects. Valid events are sent in the batched
    form (JSON arrays of up to --batch-events events per topic partition).
    """
    from dxpulse.producers import Delivery, DeliveryError, EventProducer

    fmt: FileFormat
    if file_format is None:
        try:
            fmt = detect_format(file)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="FILE") from None
    elif file_format in ("jsonl", "csv"):
        fmt = file_format
    else:
        raise typer.BadParameter("must be jsonl or csv", param_hint="--format")

    settings = settings_of(ctx)
    rejects_path = rejects or file.with_name(file.name + ".rejects.jsonl")
    counts = {"valid": 0, "rejected": 0, "derived_ids": 0, "failed": 0}
    failed: list[Delivery] = []

    def on_delivery(delivery: Delivery) -> None:
        if not delivery.ok:
            failed.append(delivery)

    if not dry_run:
        require_kafka(settings.kafka_bootstrap)
    producer = (
        None
        if dry_run
        else EventProducer.from_settings(
            settings,
            client_id="dxpulse-publish",
            on_delivery=on_delivery,
            batch_events=batch_events,
        )
    )
    line_of: dict[str, FileRecord] = {}
    size = max(file.stat().st_size, 1)
    with (
        rejects_path.open("wb") as out,
        Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[events]} events"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("validating" if dry_run else "publishing", total=size, events=0)
        for record in read_events(file, file_format=fmt):
            progress.update(task, advance=len(record.raw.encode("utf-8")) + 1, events=record.line)
            if record.event is None:
                counts["rejected"] += 1
                out.write(
                    _reject_line(
                        record.line, [(e.field, e.reason) for e in record.errors], record.raw
                    )
                )
                continue
            counts["valid"] += 1
            counts["derived_ids"] += record.derived_event_id
            if producer is not None:
                line_of[record.event.event_id] = record
                producer.send(record.event)
        if producer is not None:
            progress.update(task, description="flushing")
            with contextlib.suppress(DeliveryError):  # failures were collected by on_delivery
                producer.close(timeout=120)
        for delivery in failed:
            counts["failed"] += 1
            source = line_of[delivery.event_id]
            out.write(_reject_line(source.line, [("$delivery", repr(delivery.error))], source.raw))

    published = counts["valid"] - counts["failed"] if not dry_run else 0
    table = Table(title=f"{'dry run of ' if dry_run else ''}{file.name}", show_header=False)
    table.add_row("valid", str(counts["valid"]))
    if not dry_run:
        table.add_row("published", str(published))
        table.add_row("not delivered", str(counts["failed"]))
    table.add_row("rejected", str(counts["rejected"]))
    if counts["derived_ids"]:
        table.add_row("event_id derived from line content", str(counts["derived_ids"]))
    console.print(table)
    if counts["rejected"] or counts["failed"]:
        console.print(f"rejected lines with reasons: {rejects_path}")
        raise typer.Exit(1)
    rejects_path.unlink(missing_ok=True)


def _reject_line(line: int, errors: list[tuple[str, str]], raw: str) -> bytes:
    record: dict[str, Any] = {
        "line": line,
        "errors": [{"field": f, "reason": r} for f, r in errors],
        "raw": raw,
    }
    return orjson.dumps(record) + b"\n"
