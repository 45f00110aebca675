"""Check dashboard JSON models before Grafana ever sees them.

:func:`lint` takes dashboard models (dicts, as built or as read from the provisioned JSON
files) and returns every :class:`Problem` it finds:

* structure: required keys; ``gridPos`` inside the 24 columns; no two panels overlap;
  panel ids unique per dashboard; uids and titles unique across dashboards;
* data: every panel and target refers to the provisioned data source (uid
  ``dxpulse-clickhouse``, type ``grafana-clickhouse-datasource``); every target has a
  ``refId`` and ``rawSql`` in the plugin's v4 shape, and expands with the plugin's
  macros (:mod:`dxpulse.dashboards.macros`);
* variables: every ``$var`` / ``${var}`` / ``[[var]]`` used is defined in ``templating``,
  every defined variable is used, and ``$__conditionalAll`` names its variable in a form
  the plugin recognises;
* language and conventions: dashboard titles ``Tiếng Việt / English``; panel titles in
  Vietnamese with an English description; tag ``dxpulse``; time zone Asia/Ho_Chi_Minh;
  links point at dashboards that exist.

Example::

    from dxpulse.dashboards.build import build_all
    from dxpulse.dashboards.lint import lint

    problems = lint(build_all().values())
    for problem in problems:
        print(problem)  # "dxpulse-national: panel 3 'Tỷ lệ ...': <what is wrong>"
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dxpulse.dashboards.macros import MacroExpansionError, expand
from dxpulse.dashboards.model import (
    DATASOURCE_TYPE,
    DATASOURCE_UID,
    GRID_COLUMNS,
    TIMEZONE,
)

__all__ = ["Problem", "lint"]

_REQUIRED_DASHBOARD_KEYS = (
    "uid", "title", "panels", "templating", "time", "timezone", "schemaVersion", "tags",
)  # fmt: skip
_REQUIRED_PANEL_KEYS = ("id", "type", "title", "gridPos")
_VIETNAMESE = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE
)
# Grafana's variable syntax (see macros.py); names starting with __ are Grafana's own.
_VARIABLE_REF = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::\w+)?\]\]|\$\{(\w+)(?:\.[^:^\}]+)?(?::[^\}]+)?\}", re.ASCII
)
_CONDITIONAL_ALL = re.compile(r"\$__conditionalAll\((?:[^()]|\([^()]*\))*,\s*([^)]*)\)")
_PLAIN_VARIABLE = re.compile(r"^(?:\$\w+|\$\{\w+\})$", re.ASCII)
_DASHBOARD_URL = re.compile(r"^/d/([A-Za-z0-9_-]+)(?:[/?].*)?$")


@dataclass(frozen=True)
class Problem:
    """Something wrong with a dashboard: which one, where in it, and what."""

    dashboard: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.dashboard}: {self.where}: {self.message}"


def lint(dashboards: Iterable[Mapping[str, Any]]) -> list[Problem]:
    """Every problem found in ``dashboards`` (checked together: uids, titles, links)."""
    boards = list(dashboards)
    problems: list[Problem] = []
    uids = Counter(str(b.get("uid", "")) for b in boards)
    titles = Counter(str(b.get("title", "")) for b in boards)
    for board in boards:
        name = str(board.get("uid") or board.get("title") or "?")
        if uids[str(board.get("uid", ""))] > 1:
            problems.append(Problem(name, "dashboard", f"duplicate uid {board.get('uid')!r}"))
        if titles[str(board.get("title", ""))] > 1:
            problems.append(Problem(name, "dashboard", f"duplicate title {board.get('title')!r}"))
        problems.extend(
            Problem(name, where, message)
            for where, message in _lint_dashboard(board, known_uids=set(uids))
        )
    return problems


def _lint_dashboard(board: Mapping[str, Any], *, known_uids: set[str]) -> Iterator[tuple[str, str]]:
    missing = [k for k in _REQUIRED_DASHBOARD_KEYS if k not in board]
    if missing:
        yield "dashboard", f"missing keys: {', '.join(missing)}"
    title = str(board.get("title", ""))
    vietnamese, _, english = title.partition(" / ")
    if not english or not _VIETNAMESE.search(vietnamese) or not english.isascii():
        yield "dashboard", f"title {title!r} is not 'Tiếng Việt / English'"
    if board.get("timezone") != TIMEZONE:
        yield "dashboard", f"time zone is {board.get('timezone')!r}, not {TIMEZONE!r}"
    if "dxpulse" not in board.get("tags", []):
        yield "dashboard", "missing the tag 'dxpulse'"
    for link in board.get("links", []):
        yield from _check_url(link, "dashboard link", known_uids)
    panels = list(_all_panels(board.get("panels", [])))
    yield from _check_layout(panels)
    variables = _defined_variables(board)
    yield from _check_variables(board, variables)
    for panel in panels:
        where = f"panel {panel.get('id')} {panel.get('title', '')!r}"
        missing = [k for k in _REQUIRED_PANEL_KEYS if k not in panel]
        if missing:
            yield where, f"missing keys: {', '.join(missing)}"
        if panel.get("type") == "row":
            continue
        yield from ((where, m) for m in _check_panel(panel, variables, known_uids))


def _all_panels(panels: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """Top-level panels and those inside (collapsed) rows."""
    for panel in panels:
        yield panel
        yield from _all_panels(panel.get("panels", []))


def _check_layout(panels: list[Mapping[str, Any]]) -> Iterator[tuple[str, str]]:
    ids = Counter(p.get("id") for p in panels)
    for panel_id, n in ids.items():
        if n > 1:
            yield "panels", f"panel id {panel_id} is used {n} times"
    boxes: list[tuple[str, int, int, int, int]] = []
    for panel in panels:
        where = f"panel {panel.get('id')} {panel.get('title', '')!r}"
        grid = panel.get("gridPos")
        if not isinstance(grid, Mapping):
            continue
        try:
            x, y, w, h = (int(grid[k]) for k in ("x", "y", "w", "h"))
        except (KeyError, TypeError, ValueError):
            yield where, f"gridPos {dict(grid)} needs integer x, y, w, h"
            continue
        if x < 0 or y < 0 or w < 1 or h < 1 or x + w > GRID_COLUMNS:
            yield where, f"gridPos {dict(grid)} is outside the {GRID_COLUMNS}-column grid"
        for other, ox, oy, ow, oh in boxes:
            if x < ox + ow and ox < x + w and y < oy + oh and oy < y + h:
                yield where, f"overlaps {other}"
        boxes.append((where, x, y, w, h))


def _check_panel(
    panel: Mapping[str, Any], variables: Mapping[str, bool], known_uids: set[str]
) -> Iterator[str]:
    title = str(panel.get("title", ""))
    if not _VIETNAMESE.search(title):
        yield f"title {title!r} is not Vietnamese"
    description = str(panel.get("description", "")).strip()
    if not description:
        yield "no description (English)"
    elif _ascii_share(description) < 0.9:
        yield f"description {description[:40]!r}... is not English"
    if panel.get("datasource") != _datasource():
        yield f"datasource {panel.get('datasource')!r} is not the provisioned ClickHouse source"
    targets = panel.get("targets") or []
    if not targets:
        yield "no targets"
    ref_ids = Counter(str(t.get("refId", "")) for t in targets)
    for ref_id, n in ref_ids.items():
        if n > 1:
            yield f"refId {ref_id!r} is used {n} times"
    for target in targets:
        yield from (
            f"target {target.get('refId', '?')}: {m}" for m in _check_target(target, variables)
        )
    links = [*panel.get("links", [])]
    links += panel.get("fieldConfig", {}).get("defaults", {}).get("links", [])
    for override in panel.get("fieldConfig", {}).get("overrides", []):
        for prop in override.get("properties", []):
            if prop.get("id") == "links":
                links += prop.get("value") or []
    for link in links:
        yield from (m for _, m in _check_url(link, "link", known_uids))


def _check_target(target: Mapping[str, Any], variables: Mapping[str, bool]) -> Iterator[str]:
    if not target.get("refId"):
        yield "no refId"
    sql = target.get("rawSql")
    if not isinstance(sql, str) or not sql.strip():
        yield "no rawSql"
        return
    if target.get("datasource") != _datasource():
        yield f"datasource {target.get('datasource')!r} is not the provisioned ClickHouse source"
    if target.get("editorType") != "sql":
        yield f"editorType {target.get('editorType')!r} is not 'sql'"
    expected = {0: "timeseries", 1: "table"}
    if target.get("format") not in expected:
        yield f"format {target.get('format')!r} is not 0 (time series) or 1 (table)"
    elif target.get("queryType") != expected[target["format"]]:
        yield f"queryType {target.get('queryType')!r} does not match format {target['format']}"
    if not str(target.get("pluginVersion", "")).startswith("4."):
        yield "pluginVersion is not 4.x (the plugin would migrate the query as a v3 one)"
    try:
        _try_expand(sql, variables)
    except MacroExpansionError as exc:
        yield f"does not expand: {exc}"


def _try_expand(sql: str, variables: Mapping[str, bool]) -> None:
    """Expand with placeholder values: a single value, or a multi-value selection."""
    to = datetime(2026, 1, 2, tzinfo=UTC)
    values = {name: (["x", "y"] if multi else "x") for name, multi in variables.items()}
    expand(sql, time_from=to - timedelta(days=1), time_to=to, interval_s=60, variables=values)


def _datasource() -> dict[str, str]:
    return {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID}


def _ascii_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum(c.isascii() for c in letters) / len(letters) if letters else 1.0


def _defined_variables(board: Mapping[str, Any]) -> dict[str, bool]:
    """Variable name -> whether it is multi-value."""
    return {
        str(v.get("name")): bool(v.get("multi") or v.get("includeAll"))
        for v in board.get("templating", {}).get("list", [])
    }


def _check_variables(
    board: Mapping[str, Any], variables: Mapping[str, bool]
) -> Iterator[tuple[str, str]]:
    for variable in board.get("templating", {}).get("list", []):
        where = f"variable {variable.get('name')!r}"
        if not variable.get("name"):
            yield where, "no name"
        if variable.get("type") == "query":
            if variable.get("datasource") != _datasource():
                yield where, "datasource is not the provisioned ClickHouse source"
            if not str(variable.get("query", "")).strip():
                yield where, "no query"
    used: Counter[str] = Counter()
    for text in _strings(board, skip_variable_definitions=True):
        for match in _VARIABLE_REF.finditer(text):
            name = match.group(1) or match.group(2) or match.group(3)
            if name.startswith("__"):
                continue  # Grafana's and the plugin's own ($__timeFilter, ${__url_time_range})
            used[name] += 1
        for match in _CONDITIONAL_ALL.finditer(text):
            if not _PLAIN_VARIABLE.match(match.group(1).strip()):
                yield (
                    "dashboard",
                    f"$__conditionalAll(..., {match.group(1).strip()}): the plugin only "
                    "recognises $var or ${var} there, so All would never apply",
                )
    for name in sorted(set(used) - set(variables)):
        yield "templating", f"${name} is used but not defined"
    for name in sorted(set(variables) - set(used)):
        yield "templating", f"${name} is defined but never used"


def _strings(value: Any, *, skip_variable_definitions: bool = False) -> Iterator[str]:
    """Every string in a JSON model (optionally not the variables' own definitions)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if skip_variable_definitions and key == "templating":
                # only the variables' queries: they may use *other* (chained) variables
                for variable in item.get("list", []) if isinstance(item, Mapping) else []:
                    yield str(variable.get("query", ""))
                continue
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _check_url(
    link: Mapping[str, Any], what: str, known_uids: set[str]
) -> Iterator[tuple[str, str]]:
    if link.get("type") == "dashboards":
        return  # links by tag: always resolvable
    url = str(link.get("url", ""))
    match = _DASHBOARD_URL.match(url)
    if match is None:
        yield "links", f"{what} {url!r} does not point at a dxpulse dashboard (/d/<uid>)"
    elif match.group(1) not in known_uids:
        yield "links", f"{what} {url!r} points at an unknown dashboard uid {match.group(1)!r}"
