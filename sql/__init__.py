"""dxpulse's ClickHouse schema as ordered migrations.

Files are named ``NNNN_short_name.sql`` and applied in version order by
``dxpulse migrate`` (see :mod:`dxpulse.migrations`). ``{{database}}`` in a file stands for
the target database (``DXPULSE_DATABASE``, default ``dx``). Statements end with ``;``.
A file, once applied, never changes: add a new file instead.
"""

from pathlib import Path

#: Folder holding the migration files.
MIGRATIONS_DIR = Path(__file__).resolve().parent

__all__ = ["MIGRATIONS_DIR"]
