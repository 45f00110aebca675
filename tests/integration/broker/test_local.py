"""The real local broker: it answers, keeps messages, and starts/stops from the CLI."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from dxpulse.broker import LocalKafka, topic_names
from dxpulse.broker.runtime import KafkaRuntime
from dxpulse.errors import BrokerStartError
from tests.conftest import free_port, run_cli

pytestmark = pytest.mark.integration


def test_produce_and_consume_through_the_session_broker(kafka_bootstrap: str) -> None:
    topic = f"it-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True)
    sent = {}
    for i in range(20):
        meta = producer.send(topic, key=f"k{i % 4}".encode(), value=f"v{i}".encode()).get(
            timeout=30
        )
        sent[f"v{i}"] = meta.partition
    producer.close()

    consumer = KafkaConsumer(
        bootstrap_servers=kafka_bootstrap,
        group_id=f"g-{topic}",
        auto_offset_reset="earliest",
        consumer_timeout_ms=10_000,
    )
    consumer.subscribe([topic])
    received = {}
    for message in consumer:
        received[message.value.decode()] = message.partition
        if len(received) == len(sent):
            break
    consumer.close()
    assert received == sent  # every message, each on the partition its key chose
    assert topic in topic_names(kafka_bootstrap)


def test_auto_created_topics_get_the_configured_partitions(kafka_bootstrap: str) -> None:
    topic = f"auto-{uuid.uuid4().hex[:8]}"
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    producer.send(topic, b"x").get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap)
    partitions = consumer.partitions_for_topic(topic)
    consumer.close()
    assert partitions == {0, 1, 2, 3}


def test_transactions_work_on_one_node(kafka_bootstrap: str) -> None:
    """The transaction state log settings let a transactional producer commit."""
    topic = f"tx-{uuid.uuid4().hex[:8]}"
    producer = KafkaProducer(
        bootstrap_servers=kafka_bootstrap, transactional_id=f"tx-{topic}", enable_idempotence=True
    )
    producer.init_transactions()
    producer.begin_transaction()
    producer.send(topic, b"committed")
    producer.commit_transaction()
    producer.close()
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_bootstrap,
        isolation_level="read_committed",
        consumer_timeout_ms=10_000,
    )
    consumer.assign([TopicPartition(topic, p) for p in range(4)])
    consumer.seek_to_beginning()
    values = [m.value for m in consumer]
    consumer.close()
    assert values == [b"committed"]


def test_cli_status_and_idempotent_start_see_the_running_broker(
    kafka_broker: LocalKafka, kafka_home_dir: Path
) -> None:
    env = {"DXPULSE_HOME": str(kafka_home_dir), "DXPULSE_KAFKA_BOOTSTRAP": kafka_broker.bootstrap}
    status = run_cli("kafka", "status", env=env)
    assert status.returncode == 0, status.stderr
    assert f"running (pid {kafka_broker.pid()})" in status.stdout + status.stderr
    again = run_cli("kafka", "start", env=env)
    assert again.returncode == 0, again.stderr
    assert "already running" in again.stderr
    assert again.stdout.strip() == kafka_broker.bootstrap


def test_cli_start_stop_cycle_keeps_data(tmp_path: Path, kafka_broker: LocalKafka) -> None:
    """A second broker, driven only through the CLI, on another port and data folder."""
    bootstrap = f"127.0.0.1:{free_port()}"
    env = {"DXPULSE_HOME": str(tmp_path / "home"), "DXPULSE_KAFKA_BOOTSTRAP": bootstrap}
    started = run_cli("kafka", "start", env=env)
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == bootstrap
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    producer.send("kept", b"survives restart").get(timeout=30)
    producer.close()

    stopped = run_cli("kafka", "stop", env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped" in stopped.stderr
    down = run_cli("kafka", "status", env=env)
    assert down.returncode == 1
    assert "not running" in down.stdout + down.stderr

    assert run_cli("kafka", "start", env=env).returncode == 0
    try:
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=10_000
        )
        consumer.assign([TopicPartition("kept", p) for p in range(4)])
        consumer.seek_to_beginning()
        assert [m.value for m in consumer] == [b"survives restart"]
        consumer.close()
    finally:
        assert run_cli("kafka", "stop", env=env).returncode == 0
    assert run_cli("kafka", "stop", env=env).stderr.strip() == "Kafka broker was not running"


def test_broker_that_dies_at_start_shows_its_log(tmp_path: Path, kafka_broker: LocalKafka) -> None:
    runtime: KafkaRuntime = kafka_broker.runtime  # jars already cached by the session broker
    doomed = LocalKafka(
        host="127.0.0.1",
        port=free_port(),
        data_dir=tmp_path / "k",
        runtime=runtime,
        heap="notasize",
    )
    with pytest.raises(
        BrokerStartError, match=r"(?s)exited during start-up.*Invalid maximum heap size"
    ):
        doomed.start(timeout_s=60)
    assert doomed.pid() is None


def test_status_of_nothing_listening_is_not_running(tmp_path: Path) -> None:
    env = {"DXPULSE_HOME": str(tmp_path), "DXPULSE_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}"}
    result = run_cli("kafka", "status", env=env)
    assert result.returncode == 1
    assert "not running" in result.stdout + result.stderr
