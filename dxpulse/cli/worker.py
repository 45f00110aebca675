"""``dxpulse worker`` and ``dxpulse sink``: the stream processors and the ClickHouse writer."""

from __future__ import annotations

import signal
import threading

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


def sink(ctx: typer.Context) -> None:
    """Run only the ClickHouse sink: the one writer of dxpulse's tables (run exactly one).

    Use it beside workers started with --no-sink (for example one sink container and
    several worker containers). SIGTERM or Ctrl-C finishes the batch, commits and exits.
    """
    from dxpulse.streams.topics import ensure_topics
    from dxpulse.streams.worker import SinkThread

    settings = settings_of(ctx)
    require_kafka(settings.kafka_bootstrap)
    ensure_topics(settings.kafka_bootstrap)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    thread = SinkThread(settings).start()
    try:
        while not stop.wait(1.0):
            if not thread.alive:
                raise typer.Exit(1)
    finally:
        thread.stop()
