"""Shared fixtures that start real services: a Kafka broker (KRaft) and the embedded ClickHouse.

* ``kafka_broker`` — one real Apache Kafka broker per test session, on a free loopback
  port, started by the project's own :class:`~dxpulse.broker.LocalKafka` (jars fetched
  with Maven on first use and cached in ~/.cache/dxpulse).
* ``chdb_path`` / ``ch_client`` — chDB allows one data folder per process, so a session
  owns one folder and every test gets a fresh *database* in it (``database``), dropped
  afterwards; ``settings`` points at both.

Unit tests use none of these and need no broker.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dxpulse.broker import LocalKafka
from dxpulse.broker.runtime import KafkaRuntime
from dxpulse.clickhouse import Client, connect
from dxpulse.settings import DEFAULT_KAFKA_VERSION, Settings

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's DXPULSE_* variables or .env file."""
    for name in list(os.environ):
        if name.startswith("DXPULSE_") or name == "KAFKA_HOME":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def kafka_home_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DXPULSE_HOME of the session broker (its data is in <home>/kafka)."""
    return tmp_path_factory.mktemp("dxpulse-home")


@pytest.fixture(scope="session")
def kafka_broker(kafka_home_dir: Path) -> Iterator[LocalKafka]:
    """A real single-node Kafka broker for the whole session."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    broker = LocalKafka(
        host="127.0.0.1",
        port=free_port(),
        data_dir=kafka_home_dir / "kafka",
        runtime=KafkaRuntime(
            version=os.environ.get("DXPULSE_KAFKA_VERSION", DEFAULT_KAFKA_VERSION),
            cache_dir=settings.cache_dir,
            kafka_home=settings.kafka_home,
        ),
    )
    broker.start(timeout_s=180)
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: LocalKafka) -> str:
    return kafka_broker.bootstrap


@pytest.fixture(scope="session")
def chdb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one chDB data folder this test process owns."""
    return tmp_path_factory.mktemp("chdb") / "clickhouse"


@pytest.fixture(scope="session")
def ch_client(chdb_path: Path) -> Iterator[Client]:
    client = connect(Settings(_env_file=None, clickhouse_url=f"chdb://{chdb_path}"))  # type: ignore[call-arg]
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def database(ch_client: Client) -> Iterator[str]:
    """A fresh, not yet created, database name; dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        ch_client.command(f"DROP DATABASE IF EXISTS `{name}` SYNC")


@pytest.fixture
def settings(chdb_path: Path, database: str, tmp_path: Path) -> Settings:
    """Settings pointing at the session's chDB folder and this test's database."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        home=tmp_path / ".dxpulse",
        clickhouse_url=f"chdb://{chdb_path}",
        database=database,
    )


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``dxpulse`` CLI in a fresh process (it may own another chDB folder)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DXPULSE_")}
    full_env.update(env or {})
    full_env.setdefault("COLUMNS", "200")
    return subprocess.run(
        [sys.executable, "-m", "dxpulse", *args],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def fresh_kafka(tmp_path: Path, kafka_broker: LocalKafka) -> Iterator[LocalKafka]:
    """A broker of this test's own (empty topics, no consumer groups); jars from the session's."""
    broker = LocalKafka(
        host="127.0.0.1",
        port=free_port(),
        data_dir=tmp_path / "kafka",
        runtime=kafka_broker.runtime,
    )
    broker.start(timeout_s=120)
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def pipeline_data(
    tmp_path_factory: pytest.TempPathFactory, kafka_broker: LocalKafka
) -> Iterator[dict[str, str]]:
    """A week of simulated national traffic, through the real pipeline once per test module.

    A broker of the module's own (jars from the session's), ``dxpulse migrate`` on a fresh
    embedded database, one ``dxpulse worker`` (with the sink) and a seeded simulator run
    over the last 7 days: about 4000 messages, two e-invoices per dossier, with duplicates,
    late, out-of-order, legacy-code and invalid messages. The worker is stopped once it has
    caught up (and written a last pipeline-health sample), so the database is free: yields
    the environment for ``run_cli("sql", query, "-f", "json", env=...)``.
    """
    import time
    from datetime import UTC, datetime, timedelta

    from dxpulse.producers.simulator import SimulationConfig, Simulator, calibrate
    from tests.integration.streams.pipeline import WorkerProcess, publish, wait_caught_up

    home = tmp_path_factory.mktemp("pipeline-data")
    broker = LocalKafka(
        host="127.0.0.1",
        port=free_port(),
        data_dir=home / "kafka",
        runtime=kafka_broker.runtime,
    )
    broker.start(timeout_s=120)
    try:
        env = {
            "DXPULSE_KAFKA_BOOTSTRAP": broker.bootstrap,
            "DXPULSE_HOME": str(home / "home"),
            "DXPULSE_CLICKHOUSE_URL": f"chdb://{home / 'home' / 'clickhouse'}",
            "DXPULSE_LOG_LEVEL": "warning",
        }
        migrated = run_cli("migrate", env=env)
        assert migrated.returncode == 0, migrated.stderr
        now = datetime.now(UTC).replace(microsecond=0)
        config = SimulationConfig(
            start=now - timedelta(days=7),
            seed=2026,
            invoices_per_dossier=2.0,
            duplicate_rate=0.02,
            late_rate=0.03,
            out_of_order_rate=0.2,
            legacy_code_rate=0.05,
            invalid_rate=0.02,
        )
        messages = list(Simulator(calibrate(config, 4500, now), now=now))
        worker = WorkerProcess(env, home / "worker.log").start()
        try:
            publish(broker.bootstrap, messages)
            wait_caught_up(broker.bootstrap)
            time.sleep(6)  # the sink samples pipeline health every ~5 s
        finally:
            assert worker.stop() == 0, worker.tail()
        yield env
    finally:
        broker.stop()
