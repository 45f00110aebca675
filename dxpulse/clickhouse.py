"""One way to reach ClickHouse: the embedded chDB engine or a server, both through clickhouse-connect.

Example::

    from dxpulse import Settings
    from dxpulse.clickhouse import connect

    client = connect(Settings())
    print(client.query("SELECT 1").result_rows)

The same code path serves both: ``chdb:///abs/path`` opens the embedded engine in this
process (one process per data folder), ``http(s)://`` talks to a ClickHouse server.
"""

from __future__ import annotations

import logging
import os
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import UUID

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError, OperationalError

from dxpulse.errors import (
    ClickHouseUnavailableError,
    ConfigurationError,
    EmbeddedDatabaseLockedError,
    QueryError,
)
from dxpulse.settings import Settings

__all__ = ["Client", "connect", "plain_value", "returns_rows", "translate_error"]

log = logging.getLogger(__name__)

_LOCK_PATTERNS = ("Cannot lock file", "EmbeddedServer already initialized")


def connect(
    settings: Settings,
    *,
    database: str | None = None,
    connect_timeout: int = 10,
    send_receive_timeout: int = 300,
) -> Client:
    """Open a clickhouse-connect client for ``settings.clickhouse_url``.

    ``database`` selects the client's default database; it must exist (leave it None
    before migrations have created it). Raises :class:`ClickHouseUnavailableError`
    (or :class:`EmbeddedDatabaseLockedError`) with a message that says what to do.
    """
    url = settings.clickhouse_url
    try:
        if settings.embedded:
            path = settings.chdb_path
            if path is not None:
                path.mkdir(parents=True, exist_ok=True)
                holder = embedded_lock_holder(path)
                if holder is not None and holder != os.getpid():
                    raise _locked_error(settings, holder)
            return clickhouse_connect.get_client(dsn=url, database=database or "")
        parts = urlsplit(url)
        user = unquote(parts.username) if parts.username else settings.clickhouse_user
        password = (
            unquote(parts.password)
            if parts.password is not None
            else (
                settings.clickhouse_password.get_secret_value()
                if settings.clickhouse_password
                else ""
            )
        )
        if not user:
            raise ConfigurationError(
                "ClickHouse server URL has no user: put it in DXPULSE_CLICKHOUSE_URL "
                "(http://user:password@host:8123) or set DXPULSE_CLICKHOUSE_USER and "
                "DXPULSE_CLICKHOUSE_PASSWORD"
            )
        secure = parts.scheme == "https"
        return clickhouse_connect.get_client(
            host=parts.hostname or "localhost",
            port=parts.port or (8443 if secure else 8123),
            username=user,
            password=password,
            secure=secure,
            database=database or "",
            connect_timeout=connect_timeout,
            send_receive_timeout=send_receive_timeout,
        )
    except ClickHouseError as exc:
        raise translate_error(exc, settings) from exc


def translate_error(exc: Exception, settings: Settings) -> Exception:
    """Map a clickhouse-connect exception to a dxpulse error with an actionable message."""
    text = str(exc)
    where = settings.clickhouse_url_redacted
    if any(p in text for p in _LOCK_PATTERNS):
        return _locked_error(settings, None)
    if isinstance(exc, OperationalError) or "Connection refused" in text:
        return ClickHouseUnavailableError(
            f"cannot reach ClickHouse at {where}: {_first_line(text)}"
        )
    if re.search(r"Code: (516|192|193|194)\b", text) or "AUTHENTICATION_FAILED" in text:
        return ClickHouseUnavailableError(
            f"ClickHouse at {where} refused the credentials: {_first_line(text)}"
        )
    return QueryError(_clean(text))


def embedded_lock_holder(path: Path) -> int | None:
    """Pid of the process holding the embedded engine's lock on ``path``, if any (Linux).

    chDB, like clickhouse-server, takes an exclusive ``flock`` on ``<path>/status``; the
    kernel lists it in ``/proc/locks`` with the holder's pid.
    """
    try:
        info = (path / "status").stat()
        locks = Path("/proc/locks").read_text()
    except OSError:
        return None
    for line in locks.splitlines():
        parts = line.split()
        # "1: FLOCK  ADVISORY  WRITE 5706 fe:00:9979299 0 EOF"
        if len(parts) >= 6 and parts[1] == "FLOCK" and parts[4].isdigit():
            inode = parts[5].rsplit(":", 1)[-1]
            if inode.isdigit() and int(inode) == info.st_ino:
                return int(parts[4])
    return None


def _locked_error(settings: Settings, holder: int | None) -> EmbeddedDatabaseLockedError:
    who = f"process {holder}{_command_of(holder)}" if holder else "another process"
    return EmbeddedDatabaseLockedError(
        f"the embedded ClickHouse database {settings.chdb_path} is in use by {who}; chDB "
        "allows one process per data folder. Stop that process, or point "
        "DXPULSE_CLICKHOUSE_URL at another folder or at a ClickHouse server."
    )


def _command_of(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return ""
    words = [a.decode(errors="replace") for a in argv if a]
    return f" ({' '.join(words)[:120]})" if words else ""


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _clean(text: str) -> str:
    """Strip clickhouse-connect's wrapper noise from a server error message."""
    match = re.search(r"(Code: \d+\. DB::Exception: .*)", text, re.S)
    return (match.group(1) if match else text).strip().split("\n")[0]


_ROW_KEYWORDS = frozenset(
    {"SELECT", "WITH", "SHOW", "DESC", "DESCRIBE", "EXPLAIN", "EXISTS", "CHECK"}
)


def returns_rows(statement: str) -> bool:
    """True when ``statement`` produces a result set (SELECT, SHOW, DESCRIBE, ...).

    Other statements (DDL, INSERT, SYSTEM, ...) run as commands.
    """
    text = re.sub(r"--[^\n]*|/\*.*?\*/", " ", statement, flags=re.S).lstrip(" \t\r\n(")
    match = re.match(r"[A-Za-z]+", text)
    return match is not None and match.group(0).upper() in _ROW_KEYWORDS


def plain_value(value: Any) -> Any:
    """A query result value as JSON or CSV can carry it (dates ISO, decimals and UUIDs as text)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value
