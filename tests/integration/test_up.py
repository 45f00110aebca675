"""``dxpulse up``: the README's first command, end to end on the embedded default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import free_port, run_cli

pytestmark = pytest.mark.integration


def test_up_runs_the_pipeline_and_leaves_queryable_results(tmp_path: Path) -> None:
    env = {"DXPULSE_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}", "COLUMNS": "180"}
    try:
        result = run_cli(
            "up", "--duration", "30", "--rate", "300", env=env, cwd=tmp_path, timeout=300
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "indicators by province" in result.stdout
        assert "pipeline health" in result.stdout
        assert "Pipeline stopped" in result.stdout

        counts = run_cli(
            "sql",
            "SELECT (SELECT count() FROM invoice_events FINAL) AS invoices, "
            "(SELECT count() FROM localities) AS localities, "
            "(SELECT count() FROM pipeline_health) AS samples",
            "-f",
            "json",
            env=env,
            cwd=tmp_path,
        )
        assert counts.returncode == 0, counts.stderr
        row = json.loads(counts.stdout)[0]
        assert int(row["invoices"]) > 1000  # ~300 events/s for 30 s, nearly all e-invoices
        assert int(row["localities"]) == 97
        assert int(row["samples"]) > 0
        assert (tmp_path / ".dxpulse" / "clickhouse").is_dir()
        assert not (tmp_path / ".dxpulse" / "clickhouse.endpoint.json").exists()
    finally:
        run_cli("kafka", "stop", env=env, cwd=tmp_path)


def test_up_without_duration_chains_simulator_windows_until_interrupted(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith("DXPULSE_")}
    env |= {"DXPULSE_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}", "COLUMNS": "180"}
    try:
        up = subprocess.Popen(
            [sys.executable, "-m", "dxpulse", "up", "--rate", "100", "--window", "5"],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        time.sleep(40)
        up.send_signal(signal.SIGINT)  # Ctrl-C
        output, _ = up.communicate(timeout=120)
        assert up.returncode == 0, output.decode()[-3000:]
        assert "Pipeline stopped" in output.decode()
        simulator_log = (tmp_path / ".dxpulse" / "logs" / "simulator.log").read_text()
        assert simulator_log.count("Published") >= 2  # one window after another
        recent = run_cli(
            "sql",
            "SELECT count() AS n, dateDiff('second', max(occurred_at), now()) AS age "
            "FROM invoice_events FINAL",
            "-f",
            "json",
            env=env,
            cwd=tmp_path,
        )
        row = json.loads(recent.stdout)[0]
        assert int(row["n"]) > 200
        assert int(row["age"]) < 120  # live traffic, not a replay of the past
    finally:
        run_cli("kafka", "stop", env=env, cwd=tmp_path)
