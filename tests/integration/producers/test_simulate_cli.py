"""``dxpulse simulate`` end to end: into the real broker, and into a JSON-lines file."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from kafka import KafkaConsumer, TopicPartition

from dxpulse.contracts import (
    DOSSIER_TOPIC,
    INVOICE_TOPIC,
    PAYMENT_TOPIC,
    TOPIC_KEYS,
    EventValidationError,
    validate_event,
)
from dxpulse.producers.batching import default_partition
from tests.conftest import run_cli

pytestmark = pytest.mark.integration

TOPICS = (DOSSIER_TOPIC, INVOICE_TOPIC, PAYMENT_TOPIC)


def end_offsets(bootstrap: str) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in TOPICS
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        return dict(consumer.end_offsets(partitions)) if partitions else {}
    finally:
        consumer.close()


def consume_since(
    bootstrap: str, before: dict[TopicPartition, int]
) -> list[tuple[str, int, bytes | None, bytes]]:
    """Every message on the three topics after the offsets in ``before``."""
    after = end_offsets(bootstrap)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=10_000
    )
    try:
        pending = {tp: end for tp, end in after.items() if end > before.get(tp, 0)}
        consumer.assign(list(pending))
        for tp in pending:
            consumer.seek(tp, before.get(tp, 0))
        out = []
        for record in consumer:
            tp = TopicPartition(record.topic, record.partition)
            if record.offset < pending[tp]:
                out.append((record.topic, record.partition, record.key, record.value))
            if all(consumer.position(p) >= end for p, end in pending.items()):
                break
        return out
    finally:
        consumer.close()


def summary_counts(stdout: str) -> tuple[int, dict[str, int]]:
    text = " ".join(stdout.split())
    total = re.search(r"(?:Published|Wrote) (\d+) messages", text)
    assert total, stdout
    per_topic = {
        topic: int(match.group(1))
        for topic in TOPICS
        if (match := re.search(re.escape(topic) + r"(?: [│|] \d+)* [│|] (\d+) [│|]", text))
    }
    return int(total.group(1)), per_topic


@pytest.mark.parametrize("batch_events", [None, "1"])
def test_simulate_publishes_what_it_reports(kafka_bootstrap: str, batch_events: str | None) -> None:
    before = end_offsets(kafka_bootstrap)
    env = {"DXPULSE_KAFKA_BOOTSTRAP": kafka_bootstrap}
    args = ["simulate", "--rate", "500", "--duration", "4", "--seed", "7", "--invalid", "0.05"]
    if batch_events is not None:
        args += ["--batch-events", batch_events]
    result = run_cli(*args, env=env)
    assert result.returncode == 0, result.stderr
    total, per_topic = summary_counts(result.stdout)
    assert 1900 <= total <= 2200  # 500 events/s for 4 s, and 5 % invalid ones

    messages = consume_since(kafka_bootstrap, before)
    seen = {topic: 0 for topic in TOPICS}
    invalid = batches = 0
    for topic, partition, key, value in messages:
        try:
            data = orjson.loads(value)
        except orjson.JSONDecodeError:  # broken JSON: always a message of its own
            invalid += 1
            seen[topic] += 1
            continue
        items = data if isinstance(data, list) else [data]
        batches += isinstance(data, list)
        assert key == str(items[0][TOPIC_KEYS[topic]]).encode()  # the first event's key
        for item in items:
            seen[topic] += 1
            assert default_partition(str(item[TOPIC_KEYS[topic]]).encode(), 4) == partition
            try:
                validate_event(item, topic=topic)
            except EventValidationError:
                invalid += 1
    assert sum(seen.values()) == total
    assert {t: n for t, n in seen.items() if n} == per_topic
    assert seen[INVOICE_TOPIC] > 0.9 * total
    assert invalid > 0
    if batch_events == "1":
        assert batches == 0 and len(messages) == total
    else:  # 20 ms ticks of ~10 events over 12 partitions: mostly batches
        assert batches > 0 and len(messages) < 0.8 * total


def read_jsonl(path: Path) -> list[dict[str, str]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_simulate_out_writes_json_lines(tmp_path: Path) -> None:
    args = ["simulate", "--count", "3000", "--seed", "3", "--speed", "600"]
    args += ["--start", "2026-11-20T08:00:00+07:00", "--duplicates", "0.05", "--invalid", "0.05"]
    first = run_cli(*args, "--out", str(tmp_path / "a.jsonl"))
    assert first.returncode == 0, first.stderr
    total, per_topic = summary_counts(first.stdout)
    assert total == 3000

    lines = read_jsonl(tmp_path / "a.jsonl")
    assert len(lines) == 3000
    assert {line["topic"] for line in lines} <= set(TOPICS)
    kinds = {line["kind"] for line in lines}
    assert {"valid", "duplicate", "invalid"} <= kinds
    seen: set[str] = set()
    for line in lines:
        value = line["value"].encode()
        if line["kind"] == "invalid":
            with pytest.raises(EventValidationError):
                validate_event(value, topic=line["topic"])
            continue
        event = validate_event(value, topic=line["topic"])
        assert line["key"] == event.key
        if line["kind"] == "duplicate":
            assert line["value"] in seen
        seen.add(line["value"])
    assert {t: sum(line["topic"] == t for line in lines) for t in per_topic} == per_topic

    # Same seed and window, same bytes.
    again = run_cli(*args, "--out", str(tmp_path / "b.jsonl"))
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "b.jsonl").read_bytes() == (tmp_path / "a.jsonl").read_bytes()


def test_simulate_refuses_a_window_in_the_future(tmp_path: Path) -> None:
    result = run_cli(
        "simulate", "--start", "2999-01-01T00:00:00+07:00", "--out", str(tmp_path / "x.jsonl")
    )
    assert result.returncode == 2
    assert "future" in " ".join(result.stderr.split())
    assert not (tmp_path / "x.jsonl").exists()
