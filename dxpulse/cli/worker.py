"""``dxpulse worker``: run the stream processors (and the ClickHouse sink)."""

from __future__ import annotations

import typer

from dxpulse.broker import require_kafka
from dxpulse.cli.context import settings_of


def worker(
    ctx: typer.Context,
    store: str = typer.Option("memory", help="Faust table store: memory or rocksdb."),
    sink: bool = typer.Option(
        True,
        "--sink/--no-sink",
        help="Also run the ClickHouse sink in this process (exactly one process may).",
    ),
) -> None:
    """Run the Faust agents that validate and normalise events; with --sink also write ClickHouse.

    Start several with --no-sink to share the topics (consumer group dxpulse-worker, up to
    4 per topic) and one with --sink. SIGTERM or Ctrl-C flushes, commits and exits.
    """
    from dxpulse.streams.worker import run_worker

    settings = settings_of(ctx)
    require_kafka(settings.kafka_bootstrap)
    run_worker(settings, store=store, sink=sink, loglevel=settings.log_level)
