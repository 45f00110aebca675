"""The trailing-24-hour stats (``panels.rolling_24h``) against a ground truth computed here.

Hand-made hourly roll-ups with gaps (hours without data, a gap longer than a day, two
provinces, a dossier paid in several hours, a replaced row) go into a ``rollup_1h`` of an
embedded ClickHouse in a child process (the embedded database allows one data folder per
process); every point the query returns, and every point it leaves out, is checked
against sums over the roll-ups of the 24 hours ending at it, computed in Python.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dxpulse.dashboards.macros import expand
from dxpulse.dashboards.panels import INDICATORS, rolling_24h

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

START = datetime(2026, 3, 1, tzinfo=UTC)
#: (hour offset, locality, received, received_online, fee-bearing receipts, paid dossiers)
ROWS = (
    (0, "79", 10, 4, 5, ("a", "b")),
    (1, "79", 6, 6, 2, ("b", "c")),
    (1, "01", 3, 0, 3, ("z",)),
    (5, "01", 8, 2, 0, ()),
    (23, "79", 2, 1, 1, ("a",)),
    (24, "79", 4, 4, 4, ("d", "e", "f")),
    (60, "79", 9, 3, 2, ("g",)),  # after a gap longer than a day
    (61, "01", 1, 1, 1, ("g",)),  # the same dossier id in another province
)
#: a stale version of hour 0 in 79, replaced by the row above (FINAL keeps the newest)
STALE = (0, "79", 99, 99, 99, ("x", "y", "w"))

_RUNNER = """
import json, sys
import chdb.session
rows, stale, queries, folder, start = json.loads(sys.stdin.read())
s = chdb.session.Session(folder)
s.query("CREATE DATABASE IF NOT EXISTS t")
s.query('''CREATE TABLE t.rollup_1h (
    locality_code LowCardinality(String), window_start DateTime('UTC'),
    received UInt64, received_online UInt64, received_fee_required UInt64,
    paid_dossiers AggregateFunction(uniqExact, String), version UInt64
) ENGINE = ReplacingMergeTree(version) ORDER BY (locality_code, window_start)''')
def insert(row, version):
    hour, code, received, online, fee, paid = row
    ids = ", ".join(repr(p) for p in paid) or "''"
    cond = "1" if paid else "0"
    s.query(
        f"INSERT INTO t.rollup_1h SELECT '{code}', toDateTime({start + hour * 3600}, 'UTC'), {received}, "
        f"{online}, {fee}, uniqExactStateIf(x, {cond}), {version} FROM "
        f"(SELECT arrayJoin([{ids}]) AS x)"
    )
insert(stale, 1)
for row in rows:
    insert(row, 2)
out = {}
for key, sql in queries.items():
    res = s.query(sql.replace("rollup_1h", "t.rollup_1h"), "JSONCompact")
    out[key] = json.loads(res.bytes() or b'{"data": []}')["data"]
s.close()
print(json.dumps(out))
"""


def _truth(key: str, where: str | None, t: datetime) -> tuple[bool, float | None]:
    """(has a point, value) at hour ``t``: the roll-ups of the 24 hours ending at ``t``."""
    span = [
        r
        for r in ROWS
        if t - timedelta(hours=23) <= START + timedelta(hours=r[0]) <= t
        and (where is None or r[1] == "79")
    ]
    if not span:
        return False, None
    received = sum(r[2] for r in span)
    if key == "online_rate":
        return True, None if received == 0 else sum(r[3] for r in span) / received
    fee = sum(r[4] for r in span)
    paid = len({p for r in span for p in r[5]})
    return True, None if fee == 0 else min(1.0, paid / fee)


@pytest.mark.parametrize("where", [None, "locality_code = '79'"])
def test_every_hour_with_data_in_its_day_has_the_exact_trailing_rate(
    where: str | None, tmp_path: Path
) -> None:
    time_from = START + timedelta(hours=3, minutes=20)  # inside the data, not on an hour
    time_to = START + timedelta(hours=90, minutes=5)  # past the last data by more than a day
    queries = {
        key: expand(
            rolling_24h(INDICATORS[key], where),
            time_from=time_from,
            time_to=time_to,
            interval_s=3600,
            variables={},
        )
        for key in ("online_rate", "online_payment_rate")
    }
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER],
        input=json.dumps([ROWS, STALE, queries, str(tmp_path / "ch"), int(START.timestamp())]),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)
    for key, got_rows in out.items():
        got = {
            datetime.fromisoformat(str(row[0]).replace(" ", "T")).replace(tzinfo=UTC): row[1]
            for row in got_rows
        }
        expected: dict[datetime, float | None] = {}
        t = START + timedelta(hours=4)  # the first whole hour >= time_from
        while t <= time_to:
            has_point, value = _truth(key, where, t)
            if has_point:
                expected[t] = value
            t += timedelta(hours=1)
        assert sorted(got) == sorted(expected), key
        for t, value in expected.items():
            assert got[t] == pytest.approx(value), (key, t)
        # hours without data of their own keep their point while their day has some ...
        assert START + timedelta(hours=10) in got
        assert START + timedelta(hours=83) in got
        # ... and have none when it has not (47 = 24 + 23 is the last before the gap)
        assert START + timedelta(hours=47) in got
        assert START + timedelta(hours=48) not in got
        assert START + timedelta(hours=86) not in got
