"""A read-only query endpoint served by the process that owns the embedded database.

chDB lets one process open a data folder. While ``dxpulse up`` (or a worker with the
sink) owns it, that process serves read-only SQL on a loopback HTTP port and writes
``<folder>.endpoint.json`` (pid, URL, a random token; mode 0600). ``dxpulse sql`` finds
the file when the folder is locked and asks the owner instead of failing.

Example::

    server = QueryEndpoint(settings).start()     # in the owning process
    ...
    result = query_owner(settings, "SELECT count() FROM dx.invoice_events")  # elsewhere
    server.stop()
"""

from __future__ import annotations

import http.server
import json
import logging
import os
import secrets
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clickhouse_connect.driver.exceptions import ClickHouseError

from dxpulse.clickhouse import Client, connect, embedded_lock_holder, plain_value, returns_rows
from dxpulse.errors import ClickHouseUnavailableError, QueryError
from dxpulse.settings import Settings

__all__ = ["QueryEndpoint", "QueryResult", "endpoint_file", "query_owner"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueryResult:
    """Columns and rows of a query answered by the owning process."""

    columns: list[str]
    rows: list[list[Any]]


def endpoint_file(settings: Settings) -> Path | None:
    """Where the owner of the embedded folder advertises its endpoint (None for servers)."""
    path = settings.chdb_path
    return None if path is None else path.with_name(path.name + ".endpoint.json")


class QueryEndpoint:
    """Serve read-only queries on 127.0.0.1 from this process's embedded database."""

    def __init__(self, settings: Settings, *, client: Client | None = None) -> None:
        self.settings = settings
        self.client = client or connect(settings, database=settings.database)
        self.token = secrets.token_urlsafe(24)
        self._lock = threading.Lock()
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.headers.get("Authorization") != f"Bearer {endpoint.token}":
                    self._reply(403, {"error": "bad token"})
                    return
                length = int(self.headers.get("Content-Length", "0"))
                sql = self.rfile.read(length).decode("utf-8")
                status, body = endpoint.answer(sql)
                self._reply(status, body)

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body, default=plain_value).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("query endpoint: " + format, *args)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="dxpulse-query", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/query"

    def answer(self, sql: str) -> tuple[int, dict[str, Any]]:
        """Run one read-only statement; (HTTP status, JSON body)."""
        if not returns_rows(sql):
            return 400, {
                "error": "the running pipeline answers read-only queries only (SELECT, SHOW, DESCRIBE, ...)"
            }
        try:
            with self._lock:
                result = self.client.query(sql, settings={"readonly": 1})
        except ClickHouseError as exc:
            return 400, {"error": str(exc).strip().splitlines()[0]}
        return 200, {
            "columns": list(result.column_names),
            "rows": [list(r) for r in result.result_rows],
        }

    def start(self) -> QueryEndpoint:
        self._thread.start()
        path = endpoint_file(self.settings)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"pid": os.getpid(), "url": self.url, "token": self.token}))
            tmp.chmod(0o600)
            tmp.replace(path)
        return self

    def stop(self) -> None:
        path = endpoint_file(self.settings)
        if path is not None:
            path.unlink(missing_ok=True)
        self.server.shutdown()
        self.server.server_close()


def query_owner(settings: Settings, sql: str, *, timeout_s: float = 60.0) -> QueryResult | None:
    """Ask the process that owns the embedded folder; None when no endpoint serves it."""
    path = endpoint_file(settings)
    if path is None or settings.chdb_path is None or not path.exists():
        return None
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if info.get("pid") != embedded_lock_holder(settings.chdb_path):
        return None  # a stale file from a process that is gone
    url = str(info["url"])
    if not url.startswith("http://127.0.0.1:"):
        return None  # only ever talk to a loopback endpoint
    request = urllib.request.Request(  # noqa: S310 - checked above: loopback http
        url,
        data=sql.encode("utf-8"),
        headers={"Authorization": f"Bearer {info['token']}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - loopback URL we wrote
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        body = json.loads(exc.read() or b"{}")
        raise QueryError(body.get("error", f"query endpoint answered {exc.code}")) from None
    except (urllib.error.URLError, TimeoutError) as exc:
        raise ClickHouseUnavailableError(
            f"the process owning {settings.chdb_path} did not answer: {exc}"
        ) from exc
    return QueryResult(body["columns"], body["rows"])
