"""The CLI's shape: help everywhere, clear errors on bad arguments and settings."""

from __future__ import annotations

import click
import pytest
import typer
from typer.testing import CliRunner

from dxpulse.cli import app

runner = CliRunner()


def all_command_paths() -> list[list[str]]:
    root = typer.main.get_command(app)
    paths: list[list[str]] = [[]]

    def walk(command: click.Command, prefix: list[str]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            paths.append([*prefix, name])
            walk(sub, [*prefix, name])

    walk(root, [])
    return paths


def test_expected_commands_exist() -> None:
    names = {" ".join(p) for p in all_command_paths()}
    assert {"kafka start", "kafka stop", "kafka status", "migrate", "sql", "version"} <= names


@pytest.mark.parametrize("path", all_command_paths(), ids=lambda p: " ".join(p) or "dxpulse")
def test_every_command_has_help(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert len(result.output.strip().splitlines()) > 3


def test_unknown_command_fails() -> None:
    result = runner.invoke(app, ["nonsense"])
    assert result.exit_code == 2


def test_bad_format_names_the_option() -> None:
    result = runner.invoke(app, ["sql", "SELECT 1", "--format", "xml"])
    assert result.exit_code == 2
    assert "--format" in result.output


def test_version_lists_components() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0
    for part in ("dxpulse", "faust-streaming", "kafka-python", "clickhouse-connect", "chdb"):
        assert part in result.output
