"""Pure parts of the migration runner: discovery, rendering, statement splitting."""

from __future__ import annotations

from pathlib import Path

import pytest

from dxpulse.errors import MigrationError
from dxpulse.migrations import discover, render, split_statements


def test_split_simple() -> None:
    assert split_statements("SELECT 1; SELECT 2;\n") == ["SELECT 1", "SELECT 2"]


def test_split_keeps_semicolons_in_strings_identifiers_and_comments() -> None:
    sql = """
    -- a comment; with a semicolon
    CREATE TABLE t (s String DEFAULT 'a;b', `odd;name` UInt8) ENGINE = Memory
        COMMENT 'it''s; fine';
    /* block; comment */
    INSERT INTO t VALUES ('x\\';y', 1);
    """
    parts = split_statements(sql)
    assert len(parts) == 2
    assert parts[0].startswith("-- a comment; with a semicolon")
    assert "'it''s; fine'" in parts[0]
    assert parts[1].endswith("VALUES ('x\\';y', 1)")


def test_split_drops_comment_only_tail() -> None:
    assert split_statements("SELECT 1;\n-- trailing note\n") == ["SELECT 1"]


@pytest.mark.parametrize("sql", ["SELECT 'open", "SELECT 1 /* never closed"])
def test_split_rejects_unterminated(sql: str) -> None:
    with pytest.raises(MigrationError, match="unterminated"):
        split_statements(sql)


def test_render_database_placeholder() -> None:
    assert render("CREATE DATABASE {{ database }}", database="dx") == "CREATE DATABASE dx"


def test_render_rejects_unknown_placeholder() -> None:
    with pytest.raises(MigrationError, match="unknown placeholder"):
        render("SELECT {{tabel}}", database="dx")


def test_render_other_variables() -> None:
    assert render("TTL x + toIntervalDay({{raw_retention_days}})", raw_retention_days=30) == (
        "TTL x + toIntervalDay(30)"
    )


def test_render_leaves_clickhouse_query_parameters_alone() -> None:
    assert render("SELECT {x:UInt8}", database="dx") == "SELECT {x:UInt8}"


def test_discover_orders_by_version(tmp_path: Path) -> None:
    (tmp_path / "0010_later.sql").write_text("SELECT 10;")
    (tmp_path / "0002_early.sql").write_text("SELECT 2;")
    found = discover(tmp_path)
    assert [(m.version, m.name) for m in found] == [(2, "early"), (10, "later")]
    assert len(found[0].checksum) == 64


@pytest.mark.parametrize("name", ["1_short.sql", "0001-dash.sql", "0001_Upper.sql", "abcd_x.sql"])
def test_discover_rejects_bad_names(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNNN_lowercase_name"):
        discover(tmp_path)


def test_discover_rejects_duplicate_versions(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_b.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="0001 is also used"):
        discover(tmp_path)


def test_packaged_migrations_start_with_the_database() -> None:
    migrations = discover()
    assert migrations[0].version == 1
    assert "CREATE DATABASE IF NOT EXISTS {{database}}" in migrations[0].text
    versions = [m.version for m in migrations]
    assert versions == sorted(set(versions))
