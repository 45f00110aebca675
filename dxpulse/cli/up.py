"""``dxpulse up``: the whole pipeline on this machine, with a live view.

Starts the local Kafka broker when needed, applies migrations, creates the topics, then
runs, side by side:

* in this process: the ClickHouse sink (owner of the embedded database), the read-only
  query endpoint for ``dxpulse sql``, and the live view;
* a stream worker process (``dxpulse worker --no-sink``);
* a simulator process (``dxpulse simulate``), unless ``--no-simulator``.

Ctrl-C, or the end of ``--duration``, stops the simulator and the worker, lets the sink
drain what they produced, and exits. The broker keeps running (``dxpulse kafka stop``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.live import Live

from dxpulse.broker import LocalKafka, require_kafka
from dxpulse.broker.local import is_loopback
from dxpulse.cli.context import settings_of
from dxpulse.cli.live import render
from dxpulse.clickhouse import connect
from dxpulse.migrations import Migrator

console = Console()

#: Length of each simulator window when ``up`` runs without ``--duration``.
SIMULATOR_CHUNK_S = 120


def up(
    ctx: typer.Context,
    duration: float | None = typer.Option(
        None, min=1, help="Stop after this many seconds (default: run until Ctrl-C)."
    ),
    rate: float = typer.Option(300.0, min=1, help="Simulator events per second."),
    speed: float = typer.Option(
        1.0, min=1, help="Simulated seconds per second (needs --duration when above 1)."
    ),
    seed: int = typer.Option(1, help="Simulator seed."),
    simulator: bool = typer.Option(True, "--simulator/--no-simulator", help="Run the simulator."),
    refresh: float = typer.Option(3.0, min=0.5, help="Seconds between view refreshes."),
    window: float = typer.Option(
        SIMULATOR_CHUNK_S,
        min=1,
        help="Without --duration, the simulator runs as a chain of windows this long.",
    ),
) -> None:
    """Run the whole pipeline locally (Kafka, worker, simulator, ClickHouse) with a live view."""
    from dxpulse.streams.topics import ensure_topics
    from dxpulse.streams.worker import SinkThread

    settings = settings_of(ctx)
    if speed > 1 and duration is None:
        raise typer.BadParameter(
            "a --speed above 1 needs --duration (the simulated clock must not pass now)"
        )
    if is_loopback(settings.kafka_host):
        with console.status("starting Kafka..."):
            LocalKafka.from_settings(settings).start()
    require_kafka(settings.kafka_bootstrap)
    client = connect(settings)
    report = Migrator(
        client, database=settings.database, raw_retention_days=settings.raw_retention_days
    ).migrate()
    client.close()
    if report.applied:
        console.print(f"applied {len(report.applied)} migration(s)")
    ensure_topics(settings.kafka_bootstrap)

    sink = SinkThread(settings).start()
    env = {
        **os.environ,
        "DXPULSE_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "DXPULSE_HOME": str(settings.home),
    }
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    children.append(("worker", _spawn(["worker", "--no-sink"], env, logs / "worker.log")))
    # The simulator's clock must never pass now, so an open-ended run is a chain of
    # short windows (each publishes the traffic of the `window` seconds before it).
    chunk = duration if duration is not None else window
    chunk_seed = seed

    def simulator_run() -> subprocess.Popen[bytes]:
        args = ["simulate", "--rate", str(rate), "--seed", str(chunk_seed), "--speed", str(speed)]
        return _spawn([*args, "--duration", str(chunk)], env, logs / "simulator.log")

    if simulator:
        children.append(("simulator", simulator_run()))

    started = time.monotonic()
    view_client = connect(settings, database=settings.database)
    status = (
        f"[dim]logs in {logs}; query with `dxpulse sql` from another terminal; Ctrl-C stops[/dim]"
    )
    try:
        with Live(
            render(view_client, settings.database, status=status),
            console=console,
            refresh_per_second=1,
        ) as live:
            while duration is None or time.monotonic() - started < duration:
                time.sleep(refresh)
                for index, (name, child) in enumerate(children):
                    if child.poll() is None:
                        continue
                    if name == "simulator" and child.returncode == 0:
                        if duration is None:  # next window, fresh events
                            chunk_seed += 1
                            children[index] = (name, simulator_run())
                        continue
                    raise typer.Exit(_report_crash(name, child, logs))
                if not sink.alive:
                    console.print("[red]the ClickHouse sink stopped[/red]; see the error above")
                    raise typer.Exit(1)
                live.update(render(view_client, settings.database, status=status))
    except KeyboardInterrupt:
        console.print("stopping...")
    finally:
        for _, child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for _, child in children:
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
        _drain(sink, timeout_s=30)
        sink.stop()
    console.print(render(view_client, settings.database, status=""))
    view_client.close()
    console.print(
        "Pipeline stopped; data in "
        f"{settings.clickhouse_url_redacted} (database {settings.database}). "
        "Query it with `dxpulse sql`; the Kafka broker keeps running (`dxpulse kafka stop`)."
    )


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "dxpulse", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def _report_crash(name: str, child: subprocess.Popen[bytes], logs: Path) -> int:
    tail = (logs / f"{name}.log").read_text("utf-8", errors="replace").splitlines()[-15:]
    console.print(f"[red]the {name} exited with code {child.returncode}[/red]; its log ends:")
    console.print("\n".join(tail), highlight=False, markup=False)
    return 1


def _drain(sink: object, *, timeout_s: float) -> None:
    """Give the sink time to write what the worker produced before it stopped."""
    from dxpulse.streams.worker import SinkThread

    assert isinstance(sink, SinkThread)
    deadline = time.monotonic() + timeout_s
    last = -1
    while time.monotonic() < deadline:
        written = sink.sink.written
        if written == last:
            return
        last = written
        time.sleep(2.0)
