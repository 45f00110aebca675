"""The migration runner against the real embedded ClickHouse engine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dxpulse.clickhouse import Client
from dxpulse.errors import MigrationChecksumError, MigrationError
from dxpulse.migrations import LEDGER_TABLE, Migrator, discover
from dxpulse.sql import MIGRATIONS_DIR

pytestmark = pytest.mark.integration


@pytest.fixture
def migrations_dir(tmp_path: Path) -> Path:
    """The packaged migrations plus one test migration of our own."""
    folder = tmp_path / "sql"
    shutil.copytree(MIGRATIONS_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (folder / "9001_widgets.sql").write_text(
        "CREATE TABLE IF NOT EXISTS {{database}}.widgets (id UInt32, note String DEFAULT 'a;b')\n"
        "ENGINE = MergeTree ORDER BY id;\n"
        "INSERT INTO {{database}}.widgets (id) VALUES (1), (2);\n"
    )
    return folder


def tables(client: Client, database: str) -> set[str]:
    rows = client.query(
        "SELECT name FROM system.tables WHERE database = {d:String}", parameters={"d": database}
    ).result_rows
    return {r[0] for r in rows}


def test_first_run_applies_everything_and_records_checksums(
    ch_client: Client, database: str, migrations_dir: Path
) -> None:
    migrator = Migrator(ch_client, database=database, migrations=discover(migrations_dir))
    report = migrator.migrate()
    assert [m.filename for m in report.applied] == [m.filename for m in discover(migrations_dir)]
    assert {LEDGER_TABLE, "widgets"} <= tables(ch_client, database)
    ledger = migrator.applied()
    assert ledger[9001] == ("widgets", discover(migrations_dir)[-1].checksum)
    assert ch_client.query(f"SELECT count() FROM {database}.widgets").result_rows == [(2,)]


def test_second_run_is_a_no_op(ch_client: Client, database: str, migrations_dir: Path) -> None:
    Migrator(ch_client, database=database, migrations=discover(migrations_dir)).migrate()
    report = Migrator(ch_client, database=database, migrations=discover(migrations_dir)).migrate()
    assert report.applied == []
    assert len(report.already_applied) == len(discover(migrations_dir))
    # the INSERT in 9001 did not run twice
    assert ch_client.query(f"SELECT count() FROM {database}.widgets").result_rows == [(2,)]


def test_new_file_is_applied_alone(ch_client: Client, database: str, migrations_dir: Path) -> None:
    Migrator(ch_client, database=database, migrations=discover(migrations_dir)).migrate()
    (migrations_dir / "9002_gadgets.sql").write_text(
        "CREATE TABLE {{database}}.gadgets (id UInt8) ENGINE = Memory;"
    )
    report = Migrator(ch_client, database=database, migrations=discover(migrations_dir)).migrate()
    assert [m.version for m in report.applied] == [9002]


def test_changed_applied_file_stops_everything(
    ch_client: Client, database: str, migrations_dir: Path
) -> None:
    Migrator(ch_client, database=database, migrations=discover(migrations_dir)).migrate()
    (migrations_dir / "9001_widgets.sql").write_text(
        "-- edited\n" + (migrations_dir / "9001_widgets.sql").read_text()
    )
    (migrations_dir / "9002_gadgets.sql").write_text(
        "CREATE TABLE {{database}}.gadgets (id UInt8) ENGINE = Memory;"
    )
    with pytest.raises(
        MigrationChecksumError, match=r"9001_widgets\.sql changed after it was applied"
    ):
        Migrator(ch_client, database=database, migrations=discover(migrations_dir)).migrate()
    assert "gadgets" not in tables(ch_client, database)  # nothing ran


def test_removed_applied_file_stops_everything(
    ch_client: Client, database: str, migrations_dir: Path
) -> None:
    Migrator(ch_client, database=database, migrations=discover(migrations_dir)).migrate()
    (migrations_dir / "9001_widgets.sql").unlink()
    with pytest.raises(MigrationChecksumError, match=r"9001_widgets\.sql is recorded as applied"):
        Migrator(ch_client, database=database, migrations=discover(migrations_dir)).migrate()


def test_failing_statement_is_named_and_not_recorded(
    ch_client: Client, database: str, migrations_dir: Path
) -> None:
    (migrations_dir / "9002_broken.sql").write_text(
        "CREATE TABLE {{database}}.ok (id UInt8) ENGINE = Memory;\nSELECT no_such_column;\n"
    )
    migrator = Migrator(ch_client, database=database, migrations=discover(migrations_dir))
    with pytest.raises(
        MigrationError, match=r"9002_broken.sql: statement 2 failed: .*no_such_column"
    ):
        migrator.migrate()
    ledger = migrator.applied()
    assert 9001 in ledger and 9002 not in ledger


def test_dry_run_applies_nothing(ch_client: Client, database: str, migrations_dir: Path) -> None:
    migrator = Migrator(ch_client, database=database, migrations=discover(migrations_dir))
    report = migrator.migrate(dry_run=True)
    assert report.dry_run and len(report.applied) == len(discover(migrations_dir))
    assert migrator.applied() == {}
    assert tables(ch_client, database) == set()
