"""The ``dxpulse`` command line.

Every command builds on one :class:`~dxpulse.settings.Settings`, read once in the root
callback. Errors that dxpulse raises on purpose (:class:`~dxpulse.errors.DxpulseError`)
become one clear line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import logging
import platform
import sys
from importlib.metadata import PackageNotFoundError, version

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.logging import RichHandler

from dxpulse.cli import dashboards, db, kafka, publish, schema, simulate, up, worker
from dxpulse.errors import ConfigurationError, DxpulseError
from dxpulse.settings import Settings

__all__ = ["app", "main"]

app = typer.Typer(
    name="dxpulse",
    help="dxpulse: near-real-time digital-transformation indicators (Kafka -> Faust -> ClickHouse -> Grafana).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(kafka.app, name="kafka")
app.add_typer(schema.app, name="schema")
app.add_typer(dashboards.app, name="dashboards")
app.command()(db.migrate)
app.command()(db.sql)
app.command()(simulate.simulate)
app.command()(publish.publish)
app.command()(worker.worker)
app.command()(worker.sink)
app.command()(up.up)

err_console = Console(stderr=True)


@app.callback()
def _root(
    ctx: typer.Context,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug details to stderr."),
) -> None:
    """Read the settings once (DXPULSE_* environment variables and .env) for every command."""
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"DXPULSE_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from exc
    level = logging.DEBUG if verbose else getattr(logging, settings.log_level.upper())
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False)],
        force=True,
    )
    if not verbose:
        # Client libraries log retries as warnings; our errors already say what failed.
        for noisy in ("urllib3", "clickhouse_connect", "kafka", "aiokafka"):
            logging.getLogger(noisy).setLevel(logging.CRITICAL)
    ctx.obj = settings


@app.command("version")
def version_command() -> None:
    """Print the versions of dxpulse and of the components it runs on."""
    typer.echo(f"dxpulse {_dist_version('dxpulse')}")
    for dist in (
        "faust-streaming",
        "kafka-python",
        "aiokafka",
        "clickhouse-connect",
        "chdb",
        "pydantic",
        "grafana-client",
    ):
        typer.echo(f"  {dist} {_dist_version(dist)}")
    typer.echo(f"  python {platform.python_version()}")


def _dist_version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "(not installed)"


def main() -> None:
    """Entry point of the ``dxpulse`` script."""
    try:
        app()  # standalone mode: usage errors, --help and exit codes are handled by typer
    except DxpulseError as exc:
        err_console.print(f"[bold red]error:[/bold red] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
