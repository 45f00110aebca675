"""Render every dxpulse dashboard to the JSON files Grafana provisions.

The Python builders in :mod:`dxpulse.dashboards.boards` are the source of truth; the JSON
under ``provisioning/dashboards/json/`` is generated from them (``dxpulse dashboards
build``) and committed, and a test fails when the two differ.

Example::

    from dxpulse.dashboards.build import DASHBOARDS_JSON_DIR, build_all, write_all

    boards = build_all()          # {'dxpulse-national': {...}, ...}
    write_all(DASHBOARDS_JSON_DIR)  # [PosixPath('.../dxpulse-national.json'), ...]
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dxpulse.dashboards import PROVISIONING_DIR
from dxpulse.dashboards.boards import (
    dossiers,
    invoices,
    national,
    payments,
    pipeline,
    province,
    service_index,
)
from dxpulse.dashboards.model import Dashboard

__all__ = ["BUILDERS", "DASHBOARDS_JSON_DIR", "build_all", "render", "render_all", "write_all"]

#: Where the dashboard provider (provisioning/dashboards/dxpulse.yaml) loads JSON from.
DASHBOARDS_JSON_DIR = PROVISIONING_DIR / "dashboards" / "json"

#: Every dashboard builder, in menu order.
BUILDERS: tuple[Callable[[], Dashboard], ...] = (
    national.dashboard,
    province.dashboard,
    dossiers.dashboard,
    invoices.dashboard,
    payments.dashboard,
    service_index.dashboard,
    pipeline.dashboard,
)


def build_all() -> dict[str, dict[str, Any]]:
    """Every dashboard's JSON model, by uid."""
    out: dict[str, dict[str, Any]] = {}
    for builder in BUILDERS:
        board = builder().to_json()
        if board["uid"] in out:
            raise ValueError(f"two dashboards have the uid {board['uid']!r}")
        out[board["uid"]] = board
    return out


def render(board: dict[str, Any]) -> str:
    """A dashboard as committed: sorted keys, 2-space indent, UTF-8 text, final newline."""
    return json.dumps(board, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def render_all() -> dict[str, str]:
    """File name (``<uid>.json``) -> file text, for every dashboard."""
    return {f"{uid}.json": render(board) for uid, board in build_all().items()}


def write_all(directory: Path = DASHBOARDS_JSON_DIR) -> list[Path]:
    """Write ``<uid>.json`` for every dashboard into ``directory`` (unchanged files are left
    alone); returns the paths of all of them."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, text in render_all().items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
