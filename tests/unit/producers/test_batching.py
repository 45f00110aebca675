"""The producer side of the batched form, without a broker: partitioner, encoding, grouping."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from kafka.partitioner.default import murmur2 as kafka_murmur2

from dxpulse.contracts import DossierRated, validate_event
from dxpulse.producers.batching import (
    MAX_BATCH_EVENTS,
    PartitionCache,
    RawBatcher,
    check_batch_limits,
    default_partition,
    encode_batch,
    murmur2,
)
from dxpulse.producers.producer import EventProducer, wire_bytes
from dxpulse.producers.simulator import SimulationConfig, Simulator, calibrate


def test_murmur2_is_kafkas() -> None:
    rng = random.Random(7)
    keys = [bytes(rng.randrange(256) for _ in range(n)) for n in range(0, 300) for _ in range(3)]
    keys += [f"000.00.01.H26-261120-{i:04d}".encode() for i in range(500)]
    keys += ["Hồ sơ-ĐN-1".encode(), b""]
    for key in keys:
        assert murmur2(key) == kafka_murmur2(key), key
        assert default_partition(key, 4) == (kafka_murmur2(key) & 0x7FFFFFFF) % 4


def test_partition_cache_follows_partition_count_changes() -> None:
    counts = {"t": 4}
    asked: list[str] = []

    def count_of(topic: str) -> int:
        asked.append(topic)
        return counts[topic]

    cache = PartitionCache(count_of, max_keys=3, refresh_s=0.0)
    keys = [f"k{i}".encode() for i in range(10)]
    assert [cache.partition("t", k) for k in keys] == [(default_partition(k, 4), 4) for k in keys]
    counts["t"] = 6
    assert [cache.partition("t", k) for k in keys] == [(default_partition(k, 6), 6) for k in keys]
    assert len(asked) == 20  # refresh_s=0: asked every time
    assert len(cache._topics["t"][2]) <= 3  # bounded


def test_encode_batch_is_a_json_array() -> None:
    values = [b'{"a":1}', b'{"b":"\xc3\xa1"}']
    assert encode_batch(values) == b'[{"a":1},{"b":"\xc3\xa1"}]'
    assert orjson.loads(encode_batch(values)) == [{"a": 1}, {"b": "á"}]


@pytest.mark.parametrize(("events", "size"), [(0, 1000), (1001, 1000), (10, 0), (10, 2**20 + 1)])
def test_batch_limits_are_the_contracts(events: int, size: int) -> None:
    with pytest.raises(ValueError, match="batch_"):
        check_batch_limits(events, size)
    check_batch_limits(MAX_BATCH_EVENTS, 2**20)


class FakeProducer:
    """Records what a kafka-python producer was asked to send."""

    def __init__(self, partitions: int = 4) -> None:
        self.sent: list[tuple[str, bytes | None, bytes, int | None]] = []
        self.partitions = partitions

    def partitions_for(self, topic: str) -> set[int]:
        return set(range(self.partitions))

    def send(self, topic: str, *, value: bytes, key: bytes | None, partition: int | None) -> Any:
        self.sent.append((topic, key, value, partition))
        return len(self.sent)


def test_raw_batcher_groups_per_partition_in_order() -> None:
    fake = FakeProducer()
    futures: list[tuple[Any, int]] = []
    batcher = RawBatcher(
        fake, batch_events=3, batch_max_bytes=1000, on_future=lambda f, n: futures.append((f, n))
    )
    keys = [f"key-{i}".encode() for i in range(20)]
    values = [orjson.dumps({"k": k.decode(), "i": i}) for i, k in enumerate(keys)]
    for key, value in zip(keys, values, strict=True):
        batcher.add("t", key, value)
    batcher.add_single("t", keys[0], b"{broken")
    batcher.send_all()
    assert sum(n for _, n in futures) == 21
    seen: list[bytes] = []
    for topic, key, value, partition in fake.sent:
        assert topic == "t" and partition is not None and key is not None
        if value == b"{broken":
            assert key == keys[0]
            continue
        data = orjson.loads(value)
        items = data if isinstance(data, list) else [data]
        assert 1 <= len(items) <= 3 and (len(items) > 1) == isinstance(data, list)
        assert key == items[0]["k"].encode()
        assert {default_partition(item["k"].encode(), 4) for item in items} == {partition}
        seen += [orjson.dumps(item) for item in items]
    assert sorted(seen) == sorted(values)
    # Within each partition, the order of the calls; the broken one after its partition's batch.
    for p in range(4):
        mine = [v for _, _, v, part in fake.sent if part == p]
        flat = list(itertools.chain.from_iterable(
            [v] if v == b"{broken" or not v.startswith(b"[") else [orjson.dumps(x) for x in orjson.loads(v)]
            for v in mine
        ))  # fmt: skip
        expected = [v for k, v in zip(keys, values, strict=True) if default_partition(k, 4) == p]
        if p == default_partition(keys[0], 4):
            at = flat.index(b"{broken")
            assert flat[:at] + flat[at + 1 :] == expected and at == len(expected)
        else:
            assert flat == expected


def test_raw_batcher_splits_on_bytes() -> None:
    fake = FakeProducer(partitions=1)
    value = b'{"x":"' + b"a" * 90 + b'"}'  # 98 bytes
    batcher = RawBatcher(fake, batch_events=100, batch_max_bytes=250)
    for i in range(5):
        batcher.add("t", f"{i}".encode(), value)
    batcher.send_all()
    sizes = [len(orjson.loads(v)) if v.startswith(b"[") else 1 for _, _, v, _ in fake.sent]
    assert sizes == [2, 2, 1]
    assert all(len(v) <= 250 for _, _, v, _ in fake.sent)


def simulated(n: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    config = SimulationConfig(start=now - timedelta(days=2), seed=3, invoices_per_dossier=2.0)
    messages = itertools.islice(Simulator(calibrate(config, n * 1.2, now), now=now), n)
    return [dict(m.fields) for m in messages if m.fields is not None]


def test_wire_bytes_are_to_json() -> None:
    events = [EventProducer._validated(f) for f in simulated(3000)]
    events.append(
        DossierRated.create(
            occurred_at="2026-11-20T02:15:00.123456789Z", agency_code="HN.MC",
            locality_code="01", dossier_id="Hồ sơ \"1\"/\\\u0001", satisfaction="neutral",
        )
    )  # fmt: skip
    assert {type(e).__name__ for e in events} >= {"DossierReceived", "InvoiceIssued"}
    for event in events:
        assert wire_bytes(event) == event.to_json()


def test_sdk_validation_is_the_contracts() -> None:
    from dxpulse.contracts import EventValidationError

    for fields in simulated(300):
        assert EventProducer._validated(fields) == validate_event(fields)
    bad = simulated(1)[0] | {"locality_code": "99", "surprise": 1}
    with pytest.raises(EventValidationError) as ours:
        EventProducer._validated(bad)
    with pytest.raises(EventValidationError) as theirs:
        validate_event(bad)
    assert ours.value.errors == theirs.value.errors
    for odd in ({"event_type": ["x"]}, {"event_type": "nope"}, {}):
        with pytest.raises(EventValidationError):
            EventProducer._validated(odd)
