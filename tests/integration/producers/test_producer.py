"""The agency SDK against the real broker."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from dxpulse.broker import LocalKafka
from dxpulse.contracts import (
    DOSSIER_TOPIC,
    INVOICE_TOPIC,
    PAYMENT_TOPIC,
    DossierRated,
    EventValidationError,
    validate_event,
)
from dxpulse.producers import BufferFullError, Delivery, DeliveryError, EventProducer
from dxpulse.producers.batching import default_partition
from dxpulse.producers.producer import wire_bytes
from tests.conftest import free_port
from tests.integration.producers.messages import consume_events, consume_records

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
TOPICS = [DOSSIER_TOPIC, INVOICE_TOPIC, PAYMENT_TOPIC]


def base(event_type: str, **fields: Any) -> dict[str, Any]:
    return {
        "event_type": event_type,
        "occurred_at": (NOW - timedelta(hours=1)).isoformat(),
        "agency_code": "HN.MOTCUA",
        "locality_code": "01",
        "schema_version": 1,
        **fields,
    }


def one_of_each(tag: str) -> list[dict[str, Any]]:
    due = (NOW + timedelta(days=5)).isoformat()
    return [
        base("dossier.received", dossier_id=f"D-{tag}", procedure_code="1.004227", channel="online",
             online_level="full", due_at=due, fee_required=True, applicant_type="citizen"),
        base("dossier.completed", dossier_id=f"D-{tag}", result="approved", digitized=True),
        base("dossier.rated", dossier_id=f"D-{tag}", satisfaction="satisfied"),
        base("invoice.issued", invoice_id=f"I-{tag}", seller_tax_code="0101234567-001",
             invoice_kind="with_code", amount_vnd=1_100_000, vat_vnd=100_000),
        base("invoice.cancelled", invoice_id=f"I-{tag}", seller_tax_code="0101234567",
             amount_vnd=1_100_000),
        base("payment.succeeded", payment_id=f"P-{tag}", dossier_id=f"D-{tag}", amount_vnd=50_000,
             method="qr", gateway="national_portal"),
        base("payment.failed", payment_id=f"P2-{tag}", amount_vnd=50_000, method="card",
             gateway="local_gateway"),
        base("payment.refunded", payment_id=f"P-{tag}", amount_vnd=50_000, method="qr",
             gateway="national_portal"),
    ]  # fmt: skip


@pytest.fixture
def producer(kafka_bootstrap: str) -> Iterator[EventProducer]:
    with EventProducer(kafka_bootstrap, client_id="test-sdk") as p:
        yield p


def test_every_event_type_lands_on_its_topic_with_its_key(
    producer: EventProducer, kafka_bootstrap: str
) -> None:
    tag = uuid.uuid4().hex[:10]
    pending = [producer.send(e) for e in one_of_each(tag)]
    producer.flush(timeout=30)
    deliveries = [p.result(timeout=1) for p in pending]
    assert all(d.ok and d.offset is not None for d in deliveries)

    landed = {
        e.event_id: e
        for e in consume_events(kafka_bootstrap, [DOSSIER_TOPIC, INVOICE_TOPIC, PAYMENT_TOPIC])
        if tag in e.value.decode()
    }
    assert len(landed) == 8
    counts = {t: len(producer._producer.partitions_for(t)) for t in TOPICS}
    for p, d in zip(pending, deliveries, strict=True):
        event = landed[p.event.event_id]
        family = p.event.event_type.split(".")[0]
        assert event.topic == d.topic == f"dx.{family}.v1"
        assert (
            event.partition
            == d.partition
            == default_partition(p.event.key.encode(), counts[event.topic])
        )
        assert (event.offset, event.index) == (d.offset, d.index)
        assert event.value == p.event.to_json()
        assert validate_event(event.value, topic=event.topic) == p.event
        uuid.UUID(p.event.event_id)  # generated, a real UUID
    # The three dossier events share a key, so one batched message keyed by it.
    dossier = [landed[p.event.event_id] for p in pending[:3]]
    assert {(e.offset, e.size, e.message_key) for e in dossier} == {
        (dossier[0].offset, 3, f"D-{tag}".encode())
    }
    assert [e.index for e in dossier] == [0, 1, 2]


def test_invalid_event_is_refused_before_sending(producer: EventProducer) -> None:
    bad = one_of_each("bad")[0] | {"locality_code": "99", "dossier_id": "001204012345"}
    with pytest.raises(EventValidationError) as info:
        producer.send(bad)
    fields = {e.field for e in info.value.errors}
    assert fields == {"locality_code", "dossier_id"}
    assert producer.stats.sent == 0


def test_resending_the_same_event_keeps_its_event_id(
    producer: EventProducer, kafka_bootstrap: str
) -> None:
    tag = uuid.uuid4().hex[:10]
    event = DossierRated.create(
        occurred_at=NOW.isoformat(), agency_code="DN.MC", locality_code="48",
        dossier_id=f"R-{tag}", satisfaction="neutral",
    )  # fmt: skip
    first = producer.send(event)
    again = producer.send(first.event)  # a retry after, say, a timeout
    producer.flush(timeout=30)
    copies = [
        e
        for e in consume_events(kafka_bootstrap, [DOSSIER_TOPIC])
        if e.message_key == f"R-{tag}".encode()
    ]
    assert len(copies) == 2
    assert copies[0].value == copies[1].value == event.to_json()
    assert first.event.event_id == again.event.event_id == event.event_id


def test_given_event_id_is_kept(producer: EventProducer) -> None:
    event_id = str(uuid.uuid4())
    pending = producer.send(one_of_each("keep")[2] | {"event_id": event_id})
    assert pending.event.event_id == event_id
    assert pending.result(timeout=30).ok


def test_delivery_callback_reports_partition_and_offset(kafka_bootstrap: str) -> None:
    seen: list[Delivery] = []
    done = threading.Event()

    def on_delivery(d: Delivery) -> None:
        seen.append(d)
        done.set()

    with EventProducer(kafka_bootstrap, on_delivery=on_delivery) as p:
        p.send(one_of_each("cb")[3])
        assert done.wait(30)
    assert seen[0].ok and seen[0].topic == INVOICE_TOPIC and seen[0].partition in range(4)
    assert seen[0].key == "I-cb"


def test_bounded_buffer_raises_a_clear_error(kafka_bootstrap: str) -> None:
    # A long linger keeps the first event in the buffer, so the second finds no room.
    p = EventProducer(kafka_bootstrap, max_buffered_events=1, linger_ms=3000, max_block_ms=200)
    try:
        p.send(one_of_each("buf1")[0])
        with pytest.raises(BufferFullError, match=r"buffer is full \(1 events"):
            p.send(one_of_each("buf2")[0])
    finally:
        p.close()
    assert p.stats.delivered == 1 and p.stats.sent == 1


def test_undelivered_events_surface_on_flush(tmp_path: Path, kafka_broker: LocalKafka) -> None:
    """A broker that goes away: a whole batch fails after delivery_timeout_ms, flush says so."""
    doomed = LocalKafka(
        host="127.0.0.1", port=free_port(), data_dir=tmp_path / "k", runtime=kafka_broker.runtime
    )
    doomed.start(timeout_s=120)
    p = EventProducer(
        doomed.bootstrap, delivery_timeout_ms=4000, request_timeout_ms=1500, linger_ms=100,
        reconnect_backoff_max_ms=500,
    )  # fmt: skip
    seen: list[Delivery] = []
    try:
        assert p.send(one_of_each("up")[0]).result(timeout=30).ok  # metadata now cached
        doomed.stop()
        # One key: the three events go in one batched message, which fails as a whole.
        lost = [p.send(e) for e in one_of_each("down")[:2]]
        lost.append(p.send(one_of_each("down")[2], on_delivery=seen.append))
        with pytest.raises(DeliveryError) as info:
            p.flush(timeout=30)
        # The failure with a callback was handled by it; the other two surface here.
        assert [f.event_id for f in info.value.failures] == [x.event.event_id for x in lost[:2]]
        assert [f.index for f in info.value.failures] == [0, 1]
        errors = {repr(f.error) for f in info.value.failures} | {repr(seen[0].error)}
        assert len(errors) == 1 and seen[0].index == 2 and not seen[0].ok
        for pending in lost:
            with pytest.raises(DeliveryError):
                pending.result(timeout=1)
        assert p.stats.failed == 3 and p.stats.buffered_events == 0
        assert p.stats.buffered_bytes == 0
    finally:
        doomed.stop()
        p.close(timeout=5)


def test_unreachable_bootstrap_is_a_clear_error() -> None:
    from dxpulse.errors import KafkaUnavailableError

    with pytest.raises(KafkaUnavailableError, match=r"cannot connect to Kafka at 127\.0\.0\.1"):
        EventProducer(f"127.0.0.1:{free_port()}", bootstrap_timeout_ms=1500)


# The batched form -------------------------------------------------------------------------


def rated(tag: str, i: int, dossier_id: str | None = None) -> dict[str, Any]:
    return base("dossier.rated", dossier_id=dossier_id or f"K-{tag}-{i}", satisfaction="neutral")


def same_partition_keys(tag: str, n: int, partitions: int = 4) -> list[str]:
    """``n`` distinct dossier ids that the default partitioner puts on one partition."""
    keys = (f"S-{tag}-{i:05d}" for i in range(10_000))  # one length: one event size
    return [k for k in keys if default_partition(k.encode(), partitions) == 0][:n]


def test_batches_land_where_the_default_partitioner_puts_each_key(kafka_bootstrap: str) -> None:
    tag = uuid.uuid4().hex[:10]
    keys = [f"B-{tag}-{i}" for i in range(40)]
    with EventProducer(kafka_bootstrap) as batched:
        pending = [batched.send(rated(tag, i, k)) for i, k in enumerate(keys)]
        batched.flush(timeout=30)
        assert batched.stats.messages <= 4  # 40 events, 4 partitions
    with EventProducer(kafka_bootstrap, batch_events=1) as single:
        alone = single.send(rated(tag, 99, keys[7])).result(timeout=30)

    landed = {e.event_id: e for e in consume_events(kafka_bootstrap, [DOSSIER_TOPIC])}
    key_of = {x.event.event_id: x.event.key.encode() for x in pending}
    first_keys = {
        (e.partition, e.offset): key_of.get(e.event_id) for e in landed.values() if e.index == 0
    }
    for x in pending:
        d, e = x.result(timeout=1), landed[x.event.event_id]
        assert e.partition == d.partition == default_partition(x.event.key.encode(), 4)
        assert (e.offset, e.index) == (d.offset, d.index) and e.batched
        assert e.message_key == first_keys[e.partition, e.offset]  # the first event's key
    # A single-event message with the same key goes to the same partition.
    assert alone.partition == pending[7].result().partition and alone.index == 0


def test_batch_boundaries_events_bytes_and_linger(kafka_bootstrap: str) -> None:
    tag = uuid.uuid4().hex[:10]
    keys = same_partition_keys(tag, 7)
    with EventProducer(kafka_bootstrap, batch_events=3, linger_ms=60_000) as p:
        pending = [p.send(rated(tag, i, k)) for i, k in enumerate(keys)]
        # Two full batches went without waiting for the linger; the seventh waits.
        assert [x.result(timeout=30).index for x in pending[:6]] == [0, 1, 2, 0, 1, 2]
        assert not pending[6].done()
        p.flush(timeout=30)  # sends the partial batch at once
        assert pending[6].result(timeout=1).index == 0
    sizes = [x.result().offset for x in pending]
    assert sizes[0] == sizes[2] != sizes[3] == sizes[5] != sizes[6]

    one = len(wire_bytes(EventProducer._validated(rated(tag, 0, keys[0]))))
    with EventProducer(kafka_bootstrap, batch_max_bytes=2 * one + 3, linger_ms=60_000) as p:
        by_bytes = [p.send(rated(tag, i, k)) for i, k in enumerate(keys[:5])]
    assert [x.result().index for x in by_bytes] == [0, 1, 0, 1, 0]

    with EventProducer(kafka_bootstrap, linger_ms=50) as p:
        lingered = [p.send(rated(tag, i, k)) for i, k in enumerate(keys[:2])]
        started = time.monotonic()
        deliveries = [x.result(timeout=10) for x in lingered]  # no flush: the linger sends
        assert time.monotonic() - started < 5
    assert [d.index for d in deliveries] == [0, 1] and deliveries[0].offset == deliveries[1].offset
    records = {
        (r.partition, r.offset): r
        for r in consume_records(kafka_bootstrap, [DOSSIER_TOPIC])
        if r.offset in {d.offset for d in deliveries}
    }
    message = records[deliveries[0].partition, deliveries[0].offset]
    assert orjson.loads(message.value) == [orjson.loads(x.event.to_json()) for x in lingered]
    assert message.key == lingered[0].event.key.encode()


def test_batch_events_1_sends_todays_single_event_messages(kafka_bootstrap: str) -> None:
    tag = uuid.uuid4().hex[:10]
    with EventProducer(kafka_bootstrap, batch_events=1) as p:
        pending = [p.send(e) for e in one_of_each(tag)]
        p.flush(timeout=30)
        assert p.stats.messages == 8
    records = {
        (r.topic, r.partition, r.offset): r for r in consume_records(kafka_bootstrap, TOPICS)
    }
    for x in pending:
        d = x.result()
        record = records[d.topic, d.partition, d.offset]
        assert record.value == x.event.to_json() and record.key == x.event.key.encode()
        assert d.index == 0


def test_concurrent_senders_keep_per_key_order(kafka_bootstrap: str) -> None:
    tag = uuid.uuid4().hex[:10]
    threads, per_thread = 4, 300
    results: dict[int, list[Any]] = {}

    def run(t: int) -> None:
        results[t] = [producer.send(rated(tag, i, f"C-{tag}-{t}")) for i in range(per_thread)]

    with EventProducer(kafka_bootstrap, batch_events=50) as producer:
        workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    assert producer.stats.delivered == threads * per_thread
    landed = {e.event_id: e for e in consume_events(kafka_bootstrap, [DOSSIER_TOPIC])}
    for pending in results.values():
        places = [
            (landed[p.event.event_id].offset, landed[p.event.event_id].index) for p in pending
        ]
        assert places == sorted(places) and len(set(places)) == per_thread
        assert places == [(p.result().offset, p.result().index) for p in pending]
