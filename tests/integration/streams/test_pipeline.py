"""The whole pipeline against ground truth: real broker, real Faust workers, real ClickHouse engine.

Every test publishes a seeded simulator run with duplicates, late and out-of-order events,
legacy province codes and invalid messages, computes the expected view rows itself
(tests/integration/streams/pipeline.py), and compares every row of the analyst views.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from dxpulse.broker import LocalKafka
from dxpulse.producers.simulator import SimulatedMessage, SimulationConfig, Simulator, calibrate
from dxpulse.reference import load_localities
from tests.conftest import run_cli
from tests.integration.streams.pipeline import (
    DOSSIER_COLUMNS,
    INVOICE_COLUMNS,
    PAYMENT_COLUMNS,
    Truth,
    WorkerProcess,
    ground_truth,
    publish,
    view_rows,
    wait_caught_up,
)

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)


def scenario(seed: int, messages: int = 3000) -> list[SimulatedMessage]:
    config = SimulationConfig(
        start=NOW - timedelta(days=6),
        seed=seed,
        invoices_per_dossier=1.0,
        duplicate_rate=0.03,
        late_rate=0.03,
        out_of_order_rate=0.3,
        legacy_code_rate=0.1,
        invalid_rate=0.02,
    )
    return list(Simulator(calibrate(config, messages, NOW), now=NOW))


class Raw(NamedTuple):
    topic: str
    key: bytes
    value: bytes
    kind: str


def day_boundary_events() -> list[Raw]:
    """Two receipts one second apart across midnight in Vietnam (17:00 UTC)."""
    day = (NOW - timedelta(days=1)).date()
    out = []
    for n, at in enumerate(("16:59:59", "17:00:00")):
        value = {
            "event_id": f"00000000-0000-4000-8000-00000000000{n}",
            "event_type": "dossier.received",
            "occurred_at": f"{day.isoformat()}T{at}Z",
            "agency_code": "CM.MOTCUA",
            "locality_code": "96",
            "schema_version": 1,
            "dossier_id": f"BOUNDARY-{n}",
            "procedure_code": "1.000001",
            "channel": "postal",
            "due_at": f"{(day + timedelta(days=5)).isoformat()}T10:00:00Z",
            "fee_required": False,
            "applicant_type": "business",
        }
        out.append(
            Raw("dx.dossier.v1", f"BOUNDARY-{n}".encode(), json.dumps(value).encode(), "valid")
        )
    return out


def env_for(tmp_path: Path, broker: LocalKafka) -> dict[str, str]:
    return {
        "DXPULSE_KAFKA_BOOTSTRAP": broker.bootstrap,
        "DXPULSE_HOME": str(tmp_path / "home"),
        "DXPULSE_CLICKHOUSE_URL": f"chdb://{tmp_path / 'home' / 'clickhouse'}",
        "DXPULSE_LOG_LEVEL": "warning",
    }


def sql(env: dict[str, str], query: str) -> list[dict[str, Any]]:
    result = run_cli("sql", query, "-f", "json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def nonzero(rows: dict[tuple[str, str], dict[str, int]]) -> dict[tuple[str, str], dict[str, int]]:
    return {k: {c: v for c, v in d.items() if v} for k, d in rows.items()}


def assert_views_match(env: dict[str, str], truth: Truth) -> None:
    dossier = view_rows(sql(env, "SELECT * FROM v_dossier_daily"), DOSSIER_COLUMNS)
    invoice = view_rows(sql(env, "SELECT * FROM v_invoice_daily"), INVOICE_COLUMNS)
    payment = view_rows(sql(env, "SELECT * FROM v_payment_daily"), PAYMENT_COLUMNS)
    assert dossier == nonzero(truth.dossier)
    assert invoice == nonzero(truth.invoice)
    assert payment == nonzero(truth.payment)
    dead = sql(env, "SELECT count() AS n FROM dead_letters FINAL")[0]["n"]
    assert int(dead) == truth.dead_letters
    raw = sql(
        env,
        "SELECT (SELECT count() FROM dossier_events FINAL) + (SELECT count() FROM invoice_events FINAL)"
        " + (SELECT count() FROM payment_events FINAL) AS n",
    )[0]["n"]
    assert int(raw) == truth.accepted_events


def successor_map() -> dict[str, str]:
    ref = load_localities()
    return {code: ref.successor(code) for code in ref.known_codes}


def migrate(env: dict[str, str]) -> None:
    result = run_cli("migrate", env=env)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("batch_events", [1, 250], ids=["single", "batched"])
def test_views_equal_ground_truth(
    tmp_path: Path, fresh_kafka: LocalKafka, batch_events: int
) -> None:
    env = env_for(tmp_path, fresh_kafka)
    migrate(env)
    messages: list[Any] = [*scenario(seed=11), *day_boundary_events()]
    truth = ground_truth(messages, successor_map())
    assert truth.dead_letters > 10 and truth.accepted_events > 2000  # the scenario has teeth
    assert {m.kind for m in messages} >= {
        "duplicate",
        "late",
        "out_of_order",
        "legacy_code",
        "invalid",
    }

    worker = WorkerProcess(env, tmp_path / "worker.log").start()
    try:
        publish(fresh_kafka.bootstrap, messages, batch_events=batch_events)
        wait_caught_up(fresh_kafka.bootstrap)
        # While the worker owns the embedded database, `dxpulse sql` is answered by it.
        live = sql(env, "SELECT count() AS n FROM dossier_events FINAL")
        assert int(live[0]["n"]) > 0
    finally:
        assert worker.stop() == 0, worker.tail()
    assert_views_match(env, truth)

    boundary = sql(
        env,
        "SELECT dossier_id, toDate(occurred_at, 'Asia/Ho_Chi_Minh') AS day FROM dossier_events FINAL "
        "WHERE dossier_id LIKE 'BOUNDARY-%' ORDER BY dossier_id",
    )
    first, second = (datetime.fromisoformat(r["day"]).date() for r in boundary)
    assert second - first == timedelta(days=1)

    indicators = sql(env, "SELECT * FROM v_indicators_daily")
    assert len(indicators) == len(set(truth.dossier) | set(truth.invoice) | set(truth.payment))
    for row in indicators:
        d = truth.dossier.get((row["day"], row["locality_code"]), {})
        if d.get("received"):
            assert row["online_rate"] == pytest.approx(d.get("received_online", 0) / d["received"])
        decided = d.get("completed_on_time", 0) + d.get("completed_late", 0)
        if decided:
            assert row["on_time_rate"] == pytest.approx(d.get("completed_on_time", 0) / decided)
        else:
            assert row["on_time_rate"] is None
        assert row["locality_name"]


def test_worker_killed_mid_stream_stays_exact(tmp_path: Path, fresh_kafka: LocalKafka) -> None:
    env = env_for(tmp_path, fresh_kafka)
    migrate(env)
    messages = scenario(seed=12, messages=4000)
    truth = ground_truth(messages, successor_map())
    half = len(messages) // 2
    publish(fresh_kafka.bootstrap, messages[:half], batch_events=100)
    worker = WorkerProcess(env, tmp_path / "worker.log").start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until the sink has written part of it
        rows = run_cli("sql", "SELECT count() AS n FROM invoice_events", "-f", "json", env=env)
        if rows.returncode == 0 and int(json.loads(rows.stdout)[0]["n"]) > 0:
            break
        time.sleep(0.5)
    publish(fresh_kafka.bootstrap, messages[half:], batch_events=100)
    worker.kill()  # SIGKILL: no flush, no commit
    restarted = WorkerProcess(env, tmp_path / "worker2.log").start()
    try:
        wait_caught_up(fresh_kafka.bootstrap)
    finally:
        assert restarted.stop() == 0, restarted.tail()
    assert_views_match(env, truth)


def test_rebalance_when_a_worker_dies(tmp_path: Path, fresh_kafka: LocalKafka) -> None:
    env = env_for(tmp_path, fresh_kafka)
    migrate(env)
    messages = scenario(seed=13, messages=4000)
    truth = ground_truth(messages, successor_map())
    owner = WorkerProcess(env, tmp_path / "owner.log").start()
    helper = WorkerProcess(env, tmp_path / "helper.log", sink=False).start()
    try:
        time.sleep(20)  # both join the group and share the 4 partitions of each topic
        third = len(messages) // 3
        publish(fresh_kafka.bootstrap, messages[:third], batch_events=50)
        time.sleep(2)
        helper.kill()  # its partitions move to the owner after the session timeout
        publish(fresh_kafka.bootstrap, messages[third:], batch_events=50)
        wait_caught_up(fresh_kafka.bootstrap)
    finally:
        assert owner.stop() == 0, owner.tail()
    assert_views_match(env, truth)


def test_separate_sink_process_and_stateless_workers(
    tmp_path: Path, fresh_kafka: LocalKafka
) -> None:
    """The compose layout: one `dxpulse sink`, workers with --no-sink."""
    env = env_for(tmp_path, fresh_kafka)
    migrate(env)
    messages = scenario(seed=14, messages=1500)
    truth = ground_truth(messages, successor_map())
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DXPULSE_")} | env
    with (tmp_path / "sink.log").open("ab") as log:
        sink = subprocess.Popen(
            [sys.executable, "-m", "dxpulse", "sink"],
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    worker = WorkerProcess(env, tmp_path / "worker.log", sink=False).start()
    try:
        publish(fresh_kafka.bootstrap, messages)
        wait_caught_up(fresh_kafka.bootstrap)
    finally:
        assert worker.stop() == 0, worker.tail()
        sink.send_signal(signal.SIGTERM)
        assert sink.wait(60) == 0, (tmp_path / "sink.log").read_text()[-3000:]
    assert_views_match(env, truth)
