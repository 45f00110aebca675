from __future__ import annotations

import pytest

from dxpulse.clickhouse import connect, returns_rows
from dxpulse.errors import ClickHouseUnavailableError, ConfigurationError
from dxpulse.settings import Settings


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1", True),
        ("  with x as (select 1) select * from x", True),
        ("-- note\nSHOW TABLES", True),
        ("/* c */ (SELECT 1)", True),
        ("DESCRIBE TABLE t", True),
        ("EXPLAIN SELECT 1", True),
        ("CREATE TABLE t (x UInt8) ENGINE = Memory", False),
        ("INSERT INTO t VALUES (1)", False),
        ("DROP TABLE t", False),
        ("SYSTEM FLUSH LOGS", False),
    ],
)
def test_returns_rows(sql: str, expected: bool) -> None:
    assert returns_rows(sql) is expected


def test_server_url_without_user_is_a_configuration_error() -> None:
    settings = Settings(_env_file=None, clickhouse_url="http://127.0.0.1:1")  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="DXPULSE_CLICKHOUSE_USER"):
        connect(settings)


def test_unreachable_server_is_reported_with_redacted_url() -> None:
    settings = Settings(_env_file=None, clickhouse_url="http://u:topsecret@127.0.0.1:1")  # type: ignore[call-arg]
    with pytest.raises(ClickHouseUnavailableError, match="cannot reach ClickHouse") as info:
        connect(settings, connect_timeout=2)
    assert "topsecret" not in str(info.value)
