"""``dxpulse dashboards build|lint|push``: Grafana dashboards as code.

``build`` renders the Python builders (``dashboards/boards/``) into the JSON files Grafana
provisions; ``lint`` checks those files (structure, data source, variables, titles, links,
macro expansion) and that they are what the builders produce; ``push`` (in
:mod:`dxpulse.cli.dashboards_push`) publishes them to a Grafana that does not mount them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from dxpulse.cli import dashboards_push
from dxpulse.dashboards import PROVISIONING_DIR
from dxpulse.dashboards.lint import Problem, lint

app = typer.Typer(
    help="Grafana dashboards as code: build the provisioned JSON from the Python builders, lint it.",
    no_args_is_help=True,
)
console = Console()
err_console = Console(stderr=True)

#: Where Grafana's dashboard provider loads JSON from (= dxpulse.dashboards.build's default).
DASHBOARDS_JSON_DIR = PROVISIONING_DIR / "dashboards" / "json"

_DIRECTORY = typer.Option(
    DASHBOARDS_JSON_DIR,
    "--dir",
    help="Folder of the dashboard JSON files (default: the one Grafana provisions from).",
    file_okay=False,
    dir_okay=True,
)


@app.command("build")
def build(directory: Path = _DIRECTORY) -> None:
    """Write <uid>.json for every dashboard (sorted keys, 2-space indent).

    The builders in dashboards/boards/ are the source of truth: edit them, run this,
    commit the JSON. Files whose content did not change are left alone.
    """
    # Imported on use: the builders live in the source tree's dashboards/boards/, which
    # every other command (and an installed image that lacks them) must not depend on.
    from dxpulse.dashboards.build import render_all, write_all

    before = {
        name: (directory / name).read_text(encoding="utf-8")
        for name in render_all()
        if (directory / name).is_file()
    }
    written = write_all(directory)
    table = Table(title=f"Dashboards in {directory}", header_style="bold")
    table.add_column("file")
    table.add_column("status")
    changed = 0
    for path in written:
        text = path.read_text(encoding="utf-8")
        status = (
            "new"
            if path.name not in before
            else "changed"
            if before[path.name] != text
            else "unchanged"
        )
        changed += status != "unchanged"
        table.add_row(path.name, status)
    console.print(table)
    console.print(f"{len(written)} dashboards written, {changed} new or changed.")


@app.command("lint")
def lint_command(directory: Path = _DIRECTORY) -> None:
    """Check the dashboard JSON files; print every problem and exit 1 if there is any.

    Checks structure and layout, the data source of every panel and target, that every
    query expands with the plugin's macros, that variables used are defined (and defined
    ones used), Vietnamese titles with English descriptions, links, and that the files
    are exactly what `dxpulse dashboards build` writes.
    """
    from dxpulse.dashboards.build import render_all  # imported on use, like in build()

    boards: list[dict[str, Any]] = []
    problems: list[Problem] = []
    expected = render_all()
    files = sorted(directory.glob("*.json"))
    for path in files:
        text = path.read_text(encoding="utf-8")
        try:
            boards.append(json.loads(text))
        except json.JSONDecodeError as exc:
            problems.append(Problem(path.name, "file", f"invalid JSON: {exc}"))
            continue
        if path.name not in expected:
            problems.append(Problem(path.name, "file", "no builder produces this file"))
        elif expected[path.name] != text:
            problems.append(
                Problem(
                    path.name, "file", "differs from the builders: run `dxpulse dashboards build`"
                )
            )
    for name in sorted(set(expected) - {p.name for p in files}):
        problems.append(Problem(name, "file", "missing: run `dxpulse dashboards build`"))
    problems.extend(lint(boards))
    for problem in problems:
        console.print(str(problem), highlight=False, markup=False)
    if problems:
        err_console.print(f"{len(problems)} problem(s) in {len(files)} dashboard file(s)")
        raise typer.Exit(code=1)
    console.print(f"{len(boards)} dashboards, no problems.")


# Engineer E's publisher: `dxpulse dashboards push` (dxpulse/cli/dashboards_push.py).
app.command("push")(dashboards_push.push)
