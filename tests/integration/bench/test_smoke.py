"""``python -m bench --smoke``: every scenario runs end to end (timings are not asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dxpulse.broker import LocalKafka

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = ("sdk", "pipeline", "freshness", "panels")


def test_every_scenario_runs_and_is_recorded(tmp_path: Path, fresh_kafka: LocalKafka) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\nOlder history.\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DXPULSE_")}
    env["COLUMNS"] = "250"
    run = subprocess.run(
        [
            sys.executable, "-m", "bench", "--smoke", "--bootstrap", fresh_kafka.bootstrap,
            "--record", "--results", str(results),
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    text = results.read_text()
    assert text.startswith("# Benchmark results\n\nOlder history.\n")  # appended, not replaced
    assert "SMOKE: not meaningful" in text
    assert "cores (" in text and "commit " in text
    for scenario in SCENARIOS:
        assert f"#### {scenario}" in text
    for figure in (
        "SDK publish, validated, batched",
        "end-to-end, 1 worker process",
        "end-to-end, 2 worker processes",
        "plain aiokafka loop",
        "freshness p99",
        "panel query p95",
    ):
        assert figure in text, figure
    measured, in_table = [], False
    for line in text.splitlines():  # the figure tables (not the details tables below them)
        if line.startswith("| figure | unit | min | median | max |"):
            in_table = True
        elif in_table and line.startswith("| "):
            measured.append(line)
        elif not line.startswith("|"):
            in_table = False
    assert len(measured) >= 12
    for row in measured:  # every figure has a value: min, median, max are numbers
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert all(c not in ("-", "nan") for c in cells[2:5]), row


def test_unknown_scenario_is_refused() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "nope", "--bootstrap", "127.0.0.1:1"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode != 0
    assert "unknown scenario" in run.stderr
