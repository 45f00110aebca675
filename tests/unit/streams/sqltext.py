"""Read column definitions out of the migration files, as written (no ClickHouse needed)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dxpulse.sql import MIGRATIONS_DIR

_CREATE = re.compile(
    r"CREATE TABLE IF NOT EXISTS \{\{database\}\}\.(?P<name>\w+)\s*\n\((?P<body>.*?)\n\)\s*\n",
    re.S,
)


@dataclass(frozen=True)
class Column:
    name: str
    definition: str

    @property
    def has_default(self) -> bool:
        """True when an insert may leave the column out (DEFAULT or Nullable)."""
        return " DEFAULT " in f" {self.definition} " or "Nullable(" in self.definition


def table_columns(filename: str, table: str) -> list[Column]:
    """The columns of ``table`` as created in ``sql/<filename>``, in order."""
    text = (MIGRATIONS_DIR / filename).read_text("utf-8")
    for match in _CREATE.finditer(text):
        if match.group("name") != table:
            continue
        columns = []
        for line in match.group("body").splitlines():
            line = line.strip().rstrip(",")
            if not line or line.startswith(("--", "INDEX ", "PROJECTION ", "CONSTRAINT ")):
                continue
            definition = line.split(" COMMENT ", 1)[0]
            name, _, rest = definition.partition(" ")
            columns.append(Column(name, rest.strip()))
        return columns
    raise LookupError(f"no CREATE TABLE {table} in {filename}")
