"""``dxpulse dashboards push``: publish dashboards, data source and alert rules to a Grafana.

For a Grafana that does not mount ``dashboards/provisioning`` (docker-compose's does).
Reads the committed dashboard JSON (``dashboards/provisioning/dashboards/json/*.json``,
or ``dxpulse.dashboards.build.build_all()`` when there is none), the alert rules
(``provisioning/alerting/dxpulse-alerts.yaml``) and the data source
(``provisioning/datasources/clickhouse.yaml``, placeholders from the options below), then
creates or updates what differs and prints a table of what changed. Example::

    export DXPULSE_GRAFANA_URL=https://grafana.example.gov.vn
    export DXPULSE_GRAFANA_TOKEN=glsa_...            # service account, Admin role
    export DXPULSE_CH_GRAFANA_PASSWORD=...            # ClickHouse user dxpulse_grafana
    dxpulse dashboards push --ch-host clickhouse.internal --ch-user dxpulse_grafana

Exit codes: 0 done; 3 token rejected, Grafana unreachable or its ClickHouse plugin
missing; 2 bad settings; 1 Grafana refused a request.
"""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from dxpulse.dashboards import PROVISIONING_DIR
from dxpulse.dashboards.alerts import (
    ALERTS_FILE,
    FOLDER_TITLE,
    FOLDER_UID,
    api_rules,
    group_intervals,
    load_alerts,
)
from dxpulse.dashboards.publisher import (
    DATASOURCE_FILE,
    Outcome,
    PushReport,
    connect,
    load_datasource,
)
from dxpulse.dashboards.publisher import (
    push as push_to_grafana,
)
from dxpulse.errors import ConfigurationError, DxpulseError
from dxpulse.settings import Settings

__all__ = ["CH_CREDENTIAL_ENV", "DASHBOARDS_DIR", "load_dashboards", "push"]

#: Committed dashboard JSON files, one per dashboard (``<uid>.json``).
DASHBOARDS_DIR = PROVISIONING_DIR / "dashboards" / "json"
#: The only place the ClickHouse password of Grafana's data source is read from.
CH_CREDENTIAL_ENV = "DXPULSE_CH_GRAFANA_PASSWORD"

console = Console()
err_console = Console(stderr=True)

_STYLE = {Outcome.created: "green", Outcome.updated: "yellow", Outcome.unchanged: "dim"}


class Protocol(StrEnum):
    """How Grafana's ClickHouse plugin talks to ClickHouse."""

    http = "http"
    native = "native"


def load_dashboards(directory: Path | None = None) -> dict[str, dict[str, Any]]:
    """uid -> dashboard JSON: the committed files, else ``build_all()`` when importable.

    Example::

        sorted(load_dashboards())   # ["dxpulse-national", "dxpulse-pipeline", ...]
    """
    directory = directory or DASHBOARDS_DIR
    dashboards: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            dashboard = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read dashboard {path}: {exc}") from exc
        if not isinstance(dashboard, dict):
            raise ConfigurationError(f"{path} does not hold a dashboard object")
        dashboards[str(dashboard.get("uid") or path.stem)] = dashboard
    if dashboards:
        return dashboards
    try:
        from dxpulse.dashboards.build import build_all  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return {}
    built: dict[str, dict[str, Any]] = build_all()
    return built


def push(
    ctx: typer.Context,
    url: str = typer.Option(
        ...,
        "--url",
        envvar="DXPULSE_GRAFANA_URL",
        help="Grafana base URL, e.g. https://grafana.example.gov.vn.",
    ),
    token: str = typer.Option(
        ...,
        "--token",
        envvar="DXPULSE_GRAFANA_TOKEN",
        help="Grafana service-account token (Admin role); prefer the environment variable.",
        show_default=False,
    ),
    ch_host: str = typer.Option(
        ...,
        "--ch-host",
        envvar="DXPULSE_GRAFANA_CH_HOST",
        help="ClickHouse host as Grafana reaches it.",
    ),
    ch_port: int = typer.Option(
        8123,
        "--ch-port",
        envvar="DXPULSE_GRAFANA_CH_PORT",
        help="ClickHouse port as Grafana reaches it.",
    ),
    ch_protocol: Protocol = typer.Option(
        Protocol.http,
        "--ch-protocol",
        envvar="DXPULSE_GRAFANA_CH_PROTOCOL",
        help="Protocol of the ClickHouse plugin.",
    ),
    ch_user: str = typer.Option(
        ...,
        "--ch-user",
        envvar="DXPULSE_GRAFANA_CH_USER",
        help=f"ClickHouse user of the data source (read-only); its password comes from {CH_CREDENTIAL_ENV}.",
    ),
    database: str | None = typer.Option(
        None,
        "--database",
        envvar="DXPULSE_DATABASE",
        help="ClickHouse database of the data source (default: DXPULSE_DATABASE setting).",
    ),
    update_password: bool = typer.Option(
        False,
        "--update-password",
        help=f"Send {CH_CREDENTIAL_ENV} to the data source even when nothing else changed.",
    ),
    editable_rules: bool = typer.Option(
        False,
        "--editable-rules",
        help="Let people edit the pushed alert rules in the Grafana UI (X-Disable-Provenance).",
    ),
    timeout: float = typer.Option(10.0, "--timeout", min=0.1, help="Seconds per HTTP request."),
) -> None:
    """Create or update the dxpulse folder, ClickHouse data source, dashboards and alert rules in a Grafana.

    Idempotent: a second run reports everything unchanged.
    """
    try:
        dashboards = load_dashboards()
        if not dashboards:
            raise ConfigurationError(
                f"no dashboards to push: {DASHBOARDS_DIR} has no JSON files "
                "(run `dxpulse dashboards build`)"
            )
        alerts = load_alerts(ALERTS_FILE)
        datasource = load_datasource(
            DATASOURCE_FILE,
            values={
                "DXPULSE_GRAFANA_CH_HOST": ch_host,
                "DXPULSE_GRAFANA_CH_PORT": str(ch_port),
                "DXPULSE_GRAFANA_CH_PROTOCOL": ch_protocol.value,
                "DXPULSE_GRAFANA_CH_USER": ch_user,
                "DXPULSE_DATABASE": database or _settings_database(ctx),
            },
            password=os.environ.get(CH_CREDENTIAL_ENV) or None,
        )
        api = connect(url, token=token, timeout=timeout)
        try:
            report = push_to_grafana(
                api,
                dashboards=dashboards,
                datasource=datasource,
                alert_rules=api_rules(alerts, folder_uid=FOLDER_UID),
                folder_title=FOLDER_TITLE,
                folder_uid=FOLDER_UID,
                rule_group_intervals=group_intervals(alerts),
                update_password=update_password,
                disable_provenance=editable_rules,
            )
        finally:
            api.client.s.close()
    except DxpulseError as exc:
        err_console.print(f"[bold red]error:[/bold red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from exc
    _print_report(report)


def _settings_database(ctx: typer.Context) -> str:
    settings = ctx.find_root().obj
    if isinstance(settings, Settings):
        return settings.database
    return Settings(_env_file=None).database  # type: ignore[call-arg]


def _print_report(report: PushReport) -> None:
    table = Table(title=f"Grafana {report.url}")
    table.add_column("kind")
    table.add_column("uid")
    table.add_column("title")
    table.add_column("result")
    for item in report.items:
        style = _STYLE[item.outcome]
        table.add_row(item.kind, item.uid, item.title, f"[{style}]{item.outcome.value}[/{style}]")
    console.print(table)
    counts = report.counts()
    console.print(", ".join(f"{n} {outcome}" for outcome, n in counts.items()), highlight=False)
