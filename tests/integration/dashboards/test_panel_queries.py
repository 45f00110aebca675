"""Every panel query of every dashboard runs against data that went through the real pipeline.

Grafana cannot run here, so each target is expanded exactly as the ClickHouse plugin would
(:func:`dxpulse.dashboards.macros.expand`: the last 7 days, a 5-minute interval, every
variable set to a real value — province 79, or 79 and 01 — and, for multi-value variables,
All), run on the embedded ClickHouse loaded by the ``pipeline_data`` fixture, and checked
for the columns and types its panel kind needs, with at least one row. Targets that read
``rollup_1h`` for hour grains run again with a 1-hour interval.

All queries run in one child process (the embedded database allows one process, and one
start-up is much cheaper than one per query).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dxpulse.dashboards.build import build_all
from dxpulse.dashboards.macros import ALL, VariableValue, expand
from dxpulse.reference import load_localities
from dxpulse.reference.seats import load_province_seats

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

#: A real province with plenty of data (TP Hồ Chí Minh), and a second one for multi-value.
PROVINCE = "79"
PROVINCES = ["79", "01"]
INTERVAL_S = 300
HOUR_GRAIN = "$__interval_s % 3600"

_NUMERIC = re.compile(r"^(Nullable\()?(U?Int\d+|Float\d+|Decimal)")
_TIME = re.compile(r"^(Nullable\()?DateTime")
_TEXT = re.compile(r"^(Nullable\()?(LowCardinality\()?(Nullable\()?(String|FixedString)")


@dataclass(frozen=True)
class Case:
    """One target of one panel in one dashboard state."""

    id: str
    panel: dict[str, Any]
    target: dict[str, Any]
    variables: dict[str, VariableValue]
    interval_s: int


def _cases() -> list[Case]:
    cases: list[Case] = []
    for uid, board in build_all().items():
        definitions = board["templating"]["list"]
        chosen: dict[str, VariableValue] = {
            v["name"]: list(PROVINCES) if v["multi"] else PROVINCE for v in definitions
        }
        states: list[tuple[str, dict[str, VariableValue]]] = [("", chosen)]
        multi = [v["name"] for v in definitions if v["multi"] and v["includeAll"]]
        if multi:
            states.append(("/All", {**chosen, **dict.fromkeys(multi, ALL)}))
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                sql = target["rawSql"]
                intervals = [INTERVAL_S, 3600] if HOUR_GRAIN in sql else [INTERVAL_S]
                for suffix, variables in states:
                    if suffix and not any(f"${name}" in sql for name in multi):
                        continue  # the All state changes nothing in this query
                    for interval in intervals:
                        grain = "" if interval == INTERVAL_S else f"/interval-{interval}s"
                        cases.append(
                            Case(
                                f"{uid}/panel-{panel['id']}/{target['refId']}{suffix}{grain}",
                                panel,
                                target,
                                variables,
                                interval,
                            )
                        )
    return cases


CASES = _cases()

_RUNNER = """
import json, sys
from dxpulse.clickhouse import connect
from dxpulse.settings import Settings

settings = Settings()
client = connect(settings, database=settings.database)
out = {}
for key, sql in json.load(sys.stdin).items():
    try:
        result = client.query(sql)
    except Exception as exc:
        out[key] = {"error": str(exc)[:3000], "sql": sql}
        continue
    out[key] = {
        "columns": list(result.column_names),
        "types": [t.name for t in result.column_types],
        "rows": [list(row) for row in result.result_rows[:200]],
        "row_count": len(result.result_rows),
    }
client.close()
sys.stdout.write(json.dumps(out, default=str))
"""


def run_queries(env: dict[str, str], queries: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Run many queries in one ``python -c`` child owning the embedded database."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DXPULSE_")} | env
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER],
        input=json.dumps(queries),
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def results(pipeline_data: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Every case's result (and the province_seats table), keyed by case id."""
    now = datetime.now(UTC)
    all_values = {"province": sorted(load_localities().current)}
    queries = {
        case.id: expand(
            case.target["rawSql"],
            time_from=now - timedelta(days=7),
            time_to=now,
            interval_s=case.interval_s,
            variables=case.variables,
            all_values=all_values,
        )
        for case in CASES
    }
    queries["province_seats"] = "SELECT code, seat, latitude, longitude FROM province_seats"
    return run_queries(pipeline_data, queries)


def test_every_dashboard_and_panel_is_covered() -> None:
    boards = build_all()
    targets = {
        f"{uid}/panel-{p['id']}/{t['refId']}"
        for uid, b in boards.items()
        for p in b["panels"]
        for t in p.get("targets", [])
    }
    covered = {"/".join(c.id.split("/")[:3]) for c in CASES}
    assert covered == targets
    assert len(boards) == 7
    assert any(c.id.endswith("/All") for c in CASES)
    assert any("interval-3600s" in c.id for c in CASES)


def test_province_seats_table_equals_the_csv(results: dict[str, dict[str, Any]]) -> None:
    result = results["province_seats"]
    assert "error" not in result, result.get("error")
    in_db = {row[0]: (row[1], row[2], row[3]) for row in result["rows"]}
    expected = {s.code: (s.seat, s.latitude, s.longitude) for s in load_province_seats().values()}
    assert in_db == expected


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_panel_query_returns_what_its_panel_needs(
    case: Case, results: dict[str, dict[str, Any]]
) -> None:
    result = results[case.id]
    assert "error" not in result, f"{result.get('error')}\n\n{result.get('sql')}"
    columns, types, rows = result["columns"], result["types"], result["rows"]
    assert result["row_count"] > 0, "no rows"
    kind = case.panel["type"]
    numeric = [i for i, t in enumerate(types) if _NUMERIC.match(t)]
    text = [i for i, t in enumerate(types) if _TEXT.match(t)]

    def has_values(indexes: list[int]) -> bool:
        return any(row[i] is not None for row in rows for i in indexes)

    if case.target["format"] == 0:  # time series: a time column first
        assert _TIME.match(types[0]), f"first column {columns[0]} is {types[0]}, not a time"
    if kind == "timeseries":
        assert case.target["format"] == 0
        assert numeric == list(range(1, len(types))), f"non-numeric series in {types}"
        assert has_values(numeric), "every value is NULL"
    elif kind == "stat":
        assert numeric, f"no numeric column in {types}"
        assert has_values(numeric), "every value is NULL"
    elif kind == "bargauge":
        assert numeric and has_values(numeric), f"no numeric values in {types}"
        if case.panel["options"]["reduceOptions"]["values"]:
            assert text, "one bar per row needs a text column to name it"
    elif kind == "piechart":
        assert text and numeric, f"a slice needs a name and a number: {types}"
        assert has_values(numeric)
    elif kind == "barchart":
        x = case.panel["options"]["xField"]
        assert x in columns, f"x field {x} missing from {columns}"
        assert _TEXT.match(types[columns.index(x)]) or _TIME.match(types[columns.index(x)])
        assert numeric and has_values(numeric)
    elif kind == "geomap":
        layer = case.panel["options"]["layers"][0]
        style = layer["config"]["style"]
        needed = (
            layer["location"]["latitude"],
            layer["location"]["longitude"],
            style["size"]["field"],
            style["color"]["field"],
        )
        for name in needed:
            assert name in columns, f"{name} missing from {columns}"
            assert _NUMERIC.match(types[columns.index(name)]), f"{name} is not numeric"
        lat, lon = columns.index(needed[0]), columns.index(needed[1])
        assert all(8 < row[lat] < 24 and 102 < row[lon] < 110 for row in rows)
        assert style["text"]["field"] in columns
    elif kind == "table":
        assert columns
    else:
        pytest.fail(f"no check for panel type {kind}")
