from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from dxpulse.settings import Settings


def make(**kwargs: object) -> Settings:
    return Settings(_env_file=None, **kwargs)  # type: ignore[arg-type]


def test_defaults(tmp_path: Path) -> None:
    s = make()
    assert s.kafka_bootstrap == "127.0.0.1:9092"
    assert s.database == "dx"
    assert s.home == tmp_path / ".dxpulse"
    assert s.clickhouse_url == f"chdb://{tmp_path / '.dxpulse' / 'clickhouse'}"
    assert s.embedded and s.chdb_path == tmp_path / ".dxpulse" / "clickhouse"
    assert s.kafka_data_dir == tmp_path / ".dxpulse" / "kafka"
    assert (s.kafka_host, s.kafka_port) == ("127.0.0.1", 9092)


def test_environment_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text(
        "DXPULSE_DATABASE=from_dotenv\nDXPULSE_KAFKA_BOOTSTRAP=localhost:9999\n"
    )
    monkeypatch.setenv("DXPULSE_DATABASE", "from_env")
    s = Settings()
    assert s.database == "from_env"  # the environment wins over .env
    assert s.kafka_bootstrap == "localhost:9999"


def test_home_moves_the_default_chdb_path(tmp_path: Path) -> None:
    s = make(home=tmp_path / "elsewhere")
    assert s.clickhouse_url == f"chdb://{tmp_path / 'elsewhere' / 'clickhouse'}"


def test_chdb_url_must_be_absolute() -> None:
    with pytest.raises(ValidationError, match="absolute path"):
        make(clickhouse_url="chdb://relative/path")


def test_chdb_memory_is_accepted() -> None:
    s = make(clickhouse_url="chdb://memory")
    assert s.embedded and s.chdb_path is None


def test_server_url_selects_server_and_redacts_password() -> None:
    s = make(clickhouse_url="https://writer:s3cret@ch.example:8443")
    assert not s.embedded
    assert s.chdb_path is None
    assert "s3cret" not in s.clickhouse_url_redacted
    assert s.clickhouse_url_redacted == "https://writer:***@ch.example:8443"


@pytest.mark.parametrize("url", ["ftp://x", "clickhouse://host:9000", "host:8123"])
def test_unknown_clickhouse_scheme_is_rejected(url: str) -> None:
    with pytest.raises(ValidationError, match="scheme must be chdb, http or https"):
        make(clickhouse_url=url)


@pytest.mark.parametrize("value", ["nohost", "host:", ":9092", "host:port", "host:70000"])
def test_bad_bootstrap_is_rejected(value: str) -> None:
    with pytest.raises(ValidationError, match="kafka_bootstrap"):
        make(kafka_bootstrap=value)


@pytest.mark.parametrize("name", ["1dx", "dx-prod", "dx;DROP", ""])
def test_database_must_be_an_identifier(name: str) -> None:
    with pytest.raises(ValidationError, match="database"):
        make(database=name)


def test_kafka_home_is_read_from_its_conventional_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_HOME", str(tmp_path / "kafka_2.13-4.1.1"))
    assert make().kafka_home == tmp_path / "kafka_2.13-4.1.1"


def test_password_is_secret() -> None:
    s = make(clickhouse_url="http://ch:8123", clickhouse_user="u", clickhouse_password="pw")
    assert "pw" not in repr(s)
    assert s.clickhouse_password is not None
    assert s.clickhouse_password.get_secret_value() == "pw"


def test_env_example_lists_every_setting() -> None:
    """.env.example documents every DXPULSE_ setting (commented or not)."""
    from tests.conftest import REPO

    text = (REPO / ".env.example").read_text()
    for name in Settings.model_fields:
        if name == "kafka_home":
            assert "KAFKA_HOME" in text
            continue
        assert f"DXPULSE_{name.upper()}" in text, name
