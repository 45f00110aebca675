"""The CLI end to end, each call in its own process, as a user runs it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dxpulse.migrations import discover
from tests.conftest import run_cli

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("folder", ["first", "second"])
def test_migrate_then_sql_on_a_chdb_path(tmp_path: Path, folder: str) -> None:
    env = {"DXPULSE_CLICKHOUSE_URL": f"chdb://{tmp_path / folder}"}
    migrated = run_cli("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert "0001_database.sql" in migrated.stdout
    again = run_cli("migrate", env=env)
    assert again.returncode == 0 and "Schema up to date" in again.stdout

    result = run_cli(
        "sql", "SELECT version, name FROM schema_migrations ORDER BY version", "-f", "json", env=env
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"version": m.version, "name": m.name} for m in discover()]


def test_default_path_is_under_the_working_directory(tmp_path: Path) -> None:
    assert run_cli("migrate", cwd=tmp_path).returncode == 0
    assert (tmp_path / ".dxpulse" / "clickhouse").is_dir()
    table = run_cli("sql", "SELECT 1 AS one, 'a' AS letter", cwd=tmp_path)
    assert table.returncode == 0
    assert "one" in table.stdout and "letter" in table.stdout


def test_sql_formats_and_commands(tmp_path: Path) -> None:
    env = {"DXPULSE_CLICKHOUSE_URL": f"chdb://{tmp_path / 'db'}", "DXPULSE_DATABASE": "shop"}
    assert run_cli("migrate", env=env).returncode == 0
    created = run_cli(
        "sql", "CREATE TABLE t (n UInt8, s Nullable(String)) ENGINE = MergeTree ORDER BY n", env=env
    )
    assert created.returncode == 0, created.stderr
    assert run_cli("sql", "INSERT INTO t VALUES (1, 'x'), (2, NULL)", env=env).returncode == 0
    csv_out = run_cli("sql", "SELECT n, s FROM t ORDER BY n", "-f", "csv", env=env)
    assert csv_out.stdout == "n,s\n1,x\n2,\n"
    json_out = run_cli("sql", "SELECT n, s FROM shop.t ORDER BY n", "-f", "json", env=env)
    assert json.loads(json_out.stdout) == [{"n": 1, "s": "x"}, {"n": 2, "s": None}]


def test_sql_error_is_one_clear_line(tmp_path: Path) -> None:
    env = {"DXPULSE_CLICKHOUSE_URL": f"chdb://{tmp_path / 'db'}"}
    result = run_cli("sql", "SELECT no_such_column", env=env)
    assert result.returncode == 1
    assert "error:" in result.stderr and "no_such_column" in result.stderr
    assert "Traceback" not in result.stderr


def test_locked_embedded_database_is_explained(chdb_path: Path, ch_client: object) -> None:
    """This test process owns chdb_path; a second process must get a clear message."""
    result = run_cli("sql", "SELECT 1", env={"DXPULSE_CLICKHOUSE_URL": f"chdb://{chdb_path}"})
    assert result.returncode == 3
    message = " ".join(result.stderr.split())
    assert f"is in use by process {os.getpid()}" in message
    assert "Cannot lock file" not in result.stderr  # chDB's raw error never reaches the user
    assert "Traceback" not in result.stderr


def test_unreachable_server_is_explained(tmp_path: Path) -> None:
    env = {"DXPULSE_CLICKHOUSE_URL": "http://writer:pw@127.0.0.1:1"}
    result = run_cli("migrate", env=env)
    assert result.returncode == 3
    assert "cannot reach ClickHouse at http://writer:***@127.0.0.1:1" in " ".join(
        result.stderr.split()
    )


def test_invalid_setting_names_the_variable(tmp_path: Path) -> None:
    result = run_cli("sql", "SELECT 1", env={"DXPULSE_DATABASE": "drop table"})
    assert result.returncode == 2
    assert "DXPULSE_DATABASE" in result.stderr


def test_worker_without_migrations_says_what_to_do(tmp_path: Path, kafka_bootstrap: str) -> None:
    env = {
        "DXPULSE_CLICKHOUSE_URL": f"chdb://{tmp_path / 'db'}",
        "DXPULSE_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "DXPULSE_HOME": str(tmp_path / "home"),
    }
    result = run_cli("worker", env=env, timeout=120)
    assert result.returncode == 2
    assert "run `dxpulse migrate`" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


def test_worker_without_kafka_is_one_clear_line(tmp_path: Path) -> None:
    env = {"DXPULSE_KAFKA_BOOTSTRAP": "127.0.0.1:1", "DXPULSE_HOME": str(tmp_path)}
    result = run_cli("worker", env=env)
    assert result.returncode == 4
    assert "no Kafka broker at 127.0.0.1:1" in result.stderr
