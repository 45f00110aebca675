"""ClickHouse unavailable for a while: the sink backs off, holds one batch at most, catches up."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver.exceptions import OperationalError

from dxpulse.broker import LocalKafka
from dxpulse.clickhouse import Client, connect
from dxpulse.migrations import Migrator
from dxpulse.settings import Settings
from dxpulse.streams.sink import ClickHouseSink
from tests.integration.streams.pipeline import (
    DOSSIER_COLUMNS,
    INVOICE_COLUMNS,
    PAYMENT_COLUMNS,
    WorkerProcess,
    ground_truth,
    publish,
    view_rows,
    wait_caught_up,
)
from tests.integration.streams.test_pipeline import nonzero, scenario, successor_map

pytestmark = pytest.mark.integration


def rows(client: Client, query: str) -> list[dict[str, Any]]:
    result = client.query(query)
    return [dict(zip(result.column_names, r, strict=True)) for r in result.result_rows]


def test_sink_survives_clickhouse_outage(
    tmp_path: Path, fresh_kafka: LocalKafka, settings: Settings, ch_client: Client
) -> None:
    settings = settings.model_copy(update={"kafka_bootstrap": fresh_kafka.bootstrap})
    Migrator(ch_client, database=settings.database).migrate()
    messages = scenario(seed=21, messages=3000)
    truth = ground_truth(messages, successor_map())

    outage_until = time.monotonic() + 1e9  # down from the start, until the test says so
    held: list[int] = []

    def clickhouse_down() -> None:
        if time.monotonic() < outage_until:
            raise OperationalError("injected: ClickHouse is unreachable")

    sink = ClickHouseSink(
        connect(settings, database=settings.database),
        settings,
        max_rows=500,
        retry_max_s=1.0,
        insert_hook=clickhouse_down,
    )
    stop = threading.Event()
    thread = threading.Thread(target=sink.run, args=(stop,), daemon=True)
    worker = WorkerProcess(
        {"DXPULSE_KAFKA_BOOTSTRAP": fresh_kafka.bootstrap, "DXPULSE_HOME": str(tmp_path / "home")},
        tmp_path / "worker.log",
        sink=False,
    ).start()
    thread.start()
    try:
        publish(fresh_kafka.bootstrap, messages)
        # The workers keep processing into Kafka while ClickHouse is down ...
        deadline = time.monotonic() + 120
        while sink.failures < 3 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert sink.failures >= 3
        assert sink.written == 0
        # ... and the sink reads nothing more while it retries: its partitions are paused.
        for _ in range(5):
            held.append(len(sink.consumer.paused()))
            time.sleep(0.3)
        assert max(held) > 0
        outage_until = time.monotonic()  # ClickHouse is back
        wait_caught_up(fresh_kafka.bootstrap)
    finally:
        stop.set()
        thread.join(60)
        assert worker.stop() == 0, worker.tail()
    db = settings.database
    assert view_rows(
        rows(ch_client, f"SELECT * FROM {db}.v_dossier_daily"), DOSSIER_COLUMNS
    ) == nonzero(truth.dossier)
    assert view_rows(
        rows(ch_client, f"SELECT * FROM {db}.v_invoice_daily"), INVOICE_COLUMNS
    ) == nonzero(truth.invoice)
    assert view_rows(
        rows(ch_client, f"SELECT * FROM {db}.v_payment_daily"), PAYMENT_COLUMNS
    ) == nonzero(truth.payment)
    assert (
        rows(ch_client, f"SELECT count() AS n FROM {db}.dead_letters FINAL")[0]["n"]
        == truth.dead_letters
    )
    health = rows(
        ch_client, f"SELECT * FROM {db}.v_pipeline_health_latest WHERE component = 'workers'"
    )
    assert {r["topic"] for r in health} == {"dx.dossier.v1", "dx.invoice.v1", "dx.payment.v1"}
    assert sum(r["dead_letters_total"] for r in health) == truth.dead_letters
