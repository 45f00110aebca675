"""``dxpulse kafka start|stop|status``: the local single-node broker."""

from __future__ import annotations

import typer
from rich.console import Console

from dxpulse.broker import LocalKafka
from dxpulse.cli.context import settings_of

app = typer.Typer(
    help="Run a real Apache Kafka broker (KRaft, one node, loopback) without Docker.",
    no_args_is_help=True,
)
console = Console(stderr=True)


@app.command()
def start(
    ctx: typer.Context,
    timeout: float = typer.Option(90.0, help="Seconds to wait for the broker to answer."),
) -> None:
    """Start the broker (fetching Kafka jars with Maven on first use) and wait until it answers.

    Listens on DXPULSE_KAFKA_BOOTSTRAP; data in <DXPULSE_HOME>/kafka. Honours KAFKA_HOME.
    """
    broker = LocalKafka.from_settings(settings_of(ctx))
    already = broker.pid() is not None
    with console.status("starting Kafka broker..."):
        bootstrap = broker.start(timeout_s=timeout)
    state = "already running" if already else "started"
    console.print(f"Kafka broker {state} (pid {broker.pid()}); bootstrap: [bold]{bootstrap}[/bold]")
    typer.echo(bootstrap)


@app.command()
def stop(
    ctx: typer.Context,
    timeout: float = typer.Option(
        60.0, help="Seconds to wait for a clean shutdown before SIGKILL."
    ),
) -> None:
    """Stop the broker cleanly (SIGTERM, then SIGKILL after the timeout)."""
    broker = LocalKafka.from_settings(settings_of(ctx))
    with console.status("stopping Kafka broker..."):
        stopped = broker.stop(timeout_s=timeout)
    console.print("Kafka broker stopped" if stopped else "Kafka broker was not running")


@app.command()
def status(ctx: typer.Context) -> None:
    """Say whether the broker runs and answers; exit 1 when it does not."""
    broker = LocalKafka.from_settings(settings_of(ctx))
    result = broker.status()
    console.print(f"Kafka broker: {result.describe()}; data in {result.data_dir}")
    if not (result.running and result.answering):
        raise typer.Exit(1)
