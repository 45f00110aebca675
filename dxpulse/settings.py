"""dxpulse configuration: every setting in one place, read once and passed down.

Settings come from the environment (prefix ``DXPULSE_``) and from a ``.env`` file in
the working directory. Build one :class:`Settings` at the program's edge (the CLI does
it) and pass it to whatever needs it; library code never reads the environment itself.

Example::

    from dxpulse import Settings

    settings = Settings()                      # DXPULSE_* variables and .env
    settings = Settings(database="dx_test")    # explicit values win over the environment
    print(settings.kafka_host, settings.kafka_port, settings.clickhouse_url_redacted)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

#: Apache Kafka release the local broker runs (fetched from Maven Central).
DEFAULT_KAFKA_VERSION = "4.1.1"


def _default_cache_dir() -> Path:
    import os

    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "dxpulse"


class Settings(BaseSettings):
    """All dxpulse settings. Environment variable = ``DXPULSE_`` + field name in capitals."""

    model_config = SettingsConfigDict(
        env_prefix="DXPULSE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    home: Path = Field(
        default=Path(".dxpulse"),
        description="Folder for local state: the embedded ClickHouse database and the local Kafka broker's data.",
    )
    kafka_bootstrap: str = Field(
        default="127.0.0.1:9092",
        description="Kafka bootstrap server, host:port. The local broker listens here.",
    )
    kafka_version: str = Field(
        default=DEFAULT_KAFKA_VERSION,
        description="Apache Kafka version the local broker runs (jars from Maven Central).",
    )
    kafka_home: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("DXPULSE_KAFKA_HOME", "KAFKA_HOME", "kafka_home"),
        description="An existing Apache Kafka distribution to run instead of fetching jars (KAFKA_HOME).",
    )
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="Where downloaded Kafka jars are cached (default ~/.cache/dxpulse).",
    )
    clickhouse_url: str = Field(
        default="",
        description=(
            "chdb:///absolute/path for the embedded engine (default: <home>/clickhouse), "
            "or http(s)://[user:password@]host:port for a ClickHouse server."
        ),
    )
    clickhouse_user: str | None = Field(
        default=None,
        description="ClickHouse server user, when not given in the URL.",
    )
    clickhouse_password: SecretStr | None = Field(
        default=None,
        description="ClickHouse server password, when not given in the URL.",
    )
    database: str = Field(
        default="dx", description="ClickHouse database that holds dxpulse's tables."
    )
    raw_retention_days: int = Field(
        default=730,
        ge=1,
        description="Days raw events, dead letters and 1-minute windows are kept (ClickHouse TTL).",
    )
    window_grace_seconds: int = Field(
        default=300,
        ge=0,
        description="A 1-minute window is final this long after it ends; later events count as late.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(default="info")

    @field_validator("home", "cache_dir", "kafka_home")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        return value.expanduser().resolve() if value is not None else None

    @field_validator("kafka_bootstrap")
    @classmethod
    def _check_bootstrap(cls, value: str) -> str:
        first = value.split(",")[0].strip()
        host, sep, port = first.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"expected host:port, got {value!r}")
        return value

    @field_validator("database")
    @classmethod
    def _check_database(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError(
                f"{value!r} is not a plain identifier (letters, digits, underscore; not starting with a digit)"
            )
        return value

    @model_validator(mode="after")
    def _resolve_clickhouse_url(self) -> Settings:
        url = self.clickhouse_url.strip()
        if not url:
            url = f"chdb://{self.home / 'clickhouse'}"
        scheme = urlsplit(url).scheme.lower()
        if scheme == "chdb":
            rest = url[len("chdb://") :]
            if rest != "memory":
                if not rest.startswith("/"):
                    raise ValueError(
                        f"clickhouse_url: a chdb URL needs an absolute path (chdb:///abs/path), got {url!r}"
                    )
                url = f"chdb://{Path(rest).expanduser().resolve()}"
        elif scheme not in ("http", "https"):
            raise ValueError(
                f"clickhouse_url: scheme must be chdb, http or https, got {scheme or 'none'!r}"
            )
        self.clickhouse_url = url
        return self

    # Derived values -------------------------------------------------------------------

    @property
    def kafka_host(self) -> str:
        """Host of the first bootstrap server."""
        return self.kafka_bootstrap.split(",")[0].strip().rpartition(":")[0]

    @property
    def kafka_port(self) -> int:
        """Port of the first bootstrap server."""
        return int(self.kafka_bootstrap.split(",")[0].strip().rpartition(":")[2])

    @property
    def embedded(self) -> bool:
        """True when ClickHouse is the embedded chDB engine rather than a server."""
        return self.clickhouse_url.startswith("chdb://")

    @property
    def chdb_path(self) -> Path | None:
        """Data folder of the embedded engine, or None (server, or in-memory)."""
        if not self.embedded or self.clickhouse_url == "chdb://memory":
            return None
        return Path(self.clickhouse_url[len("chdb://") :])

    @property
    def kafka_data_dir(self) -> Path:
        """Data folder of the local Kafka broker."""
        return self.home / "kafka"

    @property
    def clickhouse_url_redacted(self) -> str:
        """The ClickHouse URL with any password replaced by ``***``, safe to print."""
        parts = urlsplit(self.clickhouse_url)
        if parts.password is None:
            return self.clickhouse_url
        netloc = f"{parts.username}:***@{parts.hostname}"
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit(parts._replace(netloc=netloc))
