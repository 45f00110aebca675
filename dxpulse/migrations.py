"""Ordered, checksummed schema migrations for ClickHouse (embedded chDB or a server).

Example::

    from dxpulse import Settings
    from dxpulse.clickhouse import connect
    from dxpulse.migrations import Migrator

    settings = Settings()
    report = Migrator(connect(settings), database=settings.database).migrate()
    print([m.filename for m in report.applied])

Rules:

* files are ``NNNN_name.sql`` in the migrations folder, applied in version order;
* each applied file is recorded in ``<database>.schema_migrations`` with its SHA-256;
* if a recorded file changed, or disappeared, nothing runs
  (:class:`~dxpulse.errors.MigrationChecksumError`);
* a file's statements run one by one; the file is recorded only after all succeed, so a
  failed file is retried next time (write statements with ``IF NOT EXISTS``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from dxpulse.errors import MigrationChecksumError, MigrationError

__all__ = [
    "Migration",
    "MigrationReport",
    "Migrator",
    "discover",
    "render",
    "split_statements",
]

log = logging.getLogger(__name__)

_FILENAME = re.compile(r"^(\d{4})_([a-z0-9][a-z0-9_]*)\.sql$")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
LEDGER_TABLE = "schema_migrations"
#: Default of DXPULSE_RAW_RETENTION_DAYS: how long raw events and windows are kept.
DEFAULT_RAW_RETENTION_DAYS = 730
#: Tables whose TTL follows the retention setting, with the column the TTL counts from.
RETENTION_TABLES = {
    "dossier_events": "toDateTime(occurred_at)",
    "invoice_events": "toDateTime(occurred_at)",
    "payment_events": "toDateTime(occurred_at)",
    "dossier_lifecycle": "toDateTime(received_at)",
    "dead_letters": "toDateTime(first_seen_at)",
    "window_1m": "window_start",
}


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    path: Path
    text: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the file text (hex), as recorded in the ledger."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def filename(self) -> str:
        return self.path.name


@dataclass
class MigrationReport:
    """What a :meth:`Migrator.migrate` call did."""

    applied: list[Migration] = field(default_factory=list)
    already_applied: list[Migration] = field(default_factory=list)
    dry_run: bool = False
    retention_changed: list[str] = field(default_factory=list)


def discover(directory: Path | None = None) -> list[Migration]:
    """Read the migration files of ``directory`` (default: the packaged ``sql/``), in order.

    Raises :class:`MigrationError` for a ``.sql`` file with a bad name or a duplicate version.
    """
    if directory is None:
        from dxpulse.sql import MIGRATIONS_DIR

        directory = MIGRATIONS_DIR
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILENAME.match(path.name)
        if not match:
            raise MigrationError(
                f"{path.name}: migration files must be named NNNN_lowercase_name.sql"
            )
        version = int(match.group(1))
        if version in found:
            raise MigrationError(
                f"{path.name}: version {version:04d} is also used by {found[version].filename}"
            )
        found[version] = Migration(version, match.group(2), path, path.read_text("utf-8"))
    return [found[v] for v in sorted(found)]


def render(text: str, **variables: object) -> str:
    """Substitute ``{{name}}`` placeholders from ``variables``; an unknown one is an error.

    Migrations use ``{{database}}`` and ``{{raw_retention_days}}``.
    """

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise MigrationError(f"unknown placeholder {{{{{name}}}}}")
        return str(variables[name])

    return _PLACEHOLDER.sub(substitute, text)


def split_statements(sql: str) -> list[str]:
    """Split SQL text on ``;`` outside quotes and comments; drop empty statements.

    Comments are kept inside the statement they belong to (ClickHouse accepts them).
    """
    statements: list[str] = []
    buf: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"`":
            end = i + 1
            while end < n:
                if sql[end] == "\\":
                    end += 2
                    continue
                if sql[end] == ch:
                    if end + 1 < n and sql[end + 1] == ch:  # doubled quote escapes itself
                        end += 2
                        continue
                    break
                end += 1
            if end >= n:
                raise MigrationError(f"unterminated {ch} quote starting at offset {i}")
            buf.append(sql[i : end + 1])
            i = end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            buf.append(sql[i:end])
            i = end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            if end < 0:
                raise MigrationError(f"unterminated /* comment starting at offset {i}")
            buf.append(sql[i : end + 2])
            i = end + 2
        elif ch == ";":
            statements.append("".join(buf))
            buf = []
            i += 1
        else:
            buf.append(ch)
            i += 1
    statements.append("".join(buf))
    return [s.strip() for s in statements if _has_code(s)]


def _has_code(statement: str) -> bool:
    without_comments = re.sub(r"--[^\n]*|/\*.*?\*/", "", statement, flags=re.S)
    return bool(without_comments.strip())


class Migrator:
    """Apply migrations to one database through one client.

    Example::

        Migrator(client, database="dx").migrate()
    """

    def __init__(
        self,
        client: Client,
        *,
        database: str,
        raw_retention_days: int = DEFAULT_RAW_RETENTION_DAYS,
        migrations: Sequence[Migration] | None = None,
    ) -> None:
        self.client = client
        self.database = database
        self.raw_retention_days = raw_retention_days
        self.migrations = list(migrations) if migrations is not None else discover()

    @property
    def variables(self) -> dict[str, object]:
        """Values of the ``{{placeholders}}`` in migration files."""
        return {"database": self.database, "raw_retention_days": self.raw_retention_days}

    def applied(self) -> dict[int, tuple[str, str]]:
        """Ledger contents: version -> (name, checksum). Empty before the first migration."""
        exists = self.client.query(
            "SELECT count() FROM system.tables WHERE database = {db:String} AND name = {t:String}",
            parameters={"db": self.database, "t": LEDGER_TABLE},
        ).result_rows[0][0]
        if not exists:
            return {}
        rows = self.client.query(
            f"SELECT version, name, checksum FROM `{self.database}`.`{LEDGER_TABLE}` ORDER BY version"
        ).result_rows
        return {int(v): (str(name), str(checksum)) for v, name, checksum in rows}

    def pending(self) -> list[Migration]:
        """Migrations not yet applied, after checking that applied ones are unchanged."""
        ledger = self.applied()
        by_version = {m.version: m for m in self.migrations}
        for version, (name, checksum) in ledger.items():
            current = by_version.get(version)
            if current is None:
                raise MigrationChecksumError(
                    f"migration {version:04d}_{name}.sql is recorded as applied in "
                    f"{self.database}.{LEDGER_TABLE} but no longer exists; restore the file "
                    "(applied migrations are never removed)"
                )
            if current.checksum != checksum:
                raise MigrationChecksumError(
                    f"{current.filename} changed after it was applied "
                    f"(recorded sha256 {checksum[:12]}..., file now {current.checksum[:12]}...); "
                    "revert the edit and put the change in a new migration file"
                )
        return [m for m in self.migrations if m.version not in ledger]

    def migrate(self, *, dry_run: bool = False) -> MigrationReport:
        """Apply every pending migration in order; return what was (or would be) applied."""
        todo = self.pending()
        applied_versions = {m.version for m in self.migrations} - {m.version for m in todo}
        report = MigrationReport(
            already_applied=[m for m in self.migrations if m.version in applied_versions],
            dry_run=dry_run,
        )
        for migration in todo:
            if not dry_run:
                self._apply(migration)
            report.applied.append(migration)
        if not dry_run:
            report.retention_changed = self.sync_retention()
        return report

    def sync_retention(self) -> list[str]:
        """Make the TTL of the retention tables match ``raw_retention_days``; return the changed ones.

        Tables created by an earlier migrate with another retention get
        ``ALTER TABLE ... MODIFY TTL``; unchanged tables are left alone (no part rewrite).
        """
        rows = self.client.query(
            "SELECT name, engine_full FROM system.tables WHERE database = {db:String}",
            parameters={"db": self.database},
        ).result_rows
        engines = {str(name): str(engine) for name, engine in rows}
        wanted = f"toIntervalDay({self.raw_retention_days})"
        changed: list[str] = []
        for table, column in RETENTION_TABLES.items():
            engine = engines.get(table)
            if engine is None or wanted in engine.replace(" ", ""):
                continue
            self.client.command(
                f"ALTER TABLE `{self.database}`.`{table}` MODIFY TTL {column} + {wanted}"
            )
            changed.append(table)
        return changed

    def _apply(self, migration: Migration) -> None:
        started = time.monotonic()
        statements = split_statements(render(migration.text, **self.variables))
        log.info("applying %s (%d statements)", migration.filename, len(statements))
        for number, statement in enumerate(statements, start=1):
            try:
                self.client.command(statement)
            except ClickHouseError as exc:
                raise MigrationError(
                    f"{migration.filename}: statement {number} failed: {_first_error_line(exc)}"
                ) from exc
        duration_ms = int((time.monotonic() - started) * 1000)
        try:
            self.client.insert(
                f"`{self.database}`.`{LEDGER_TABLE}`",
                [
                    [
                        migration.version,
                        migration.name,
                        migration.checksum,
                        datetime.now(UTC),
                        duration_ms,
                    ]
                ],
                column_names=["version", "name", "checksum", "applied_at", "duration_ms"],
            )
        except ClickHouseError as exc:
            raise MigrationError(
                f"{migration.filename}: applied, but recording it in {self.database}."
                f"{LEDGER_TABLE} failed (does the file create that table?): "
                f"{_first_error_line(exc)}"
            ) from exc


def _first_error_line(exc: Exception) -> str:
    text = str(exc)
    match = re.search(r"Code: \d+\. DB::Exception: [^\n]*", text)
    return match.group(0) if match else text.strip().splitlines()[0]
