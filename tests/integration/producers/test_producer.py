"""The agency SDK against the real broker."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer, TopicPartition

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
from tests.conftest import free_port

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)


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


def consume_all(bootstrap: str, topics: list[str]) -> list[Any]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=3000)
    partitions = [
        TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or {0})
    ]
    consumer.assign(partitions)
    consumer.seek_to_beginning()
    messages = list(consumer)
    consumer.close()
    return messages


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

    messages = [
        m
        for m in consume_all(kafka_bootstrap, [DOSSIER_TOPIC, INVOICE_TOPIC, PAYMENT_TOPIC])
        if tag.encode() in (m.key or b"")
    ]
    by_id = {orjson.loads(m.value)["event_id"]: m for m in messages}
    assert len(by_id) == 8
    expected_key = {"dossier": f"D-{tag}", "invoice": f"I-{tag}", "payment": None}
    for p in pending:
        message = by_id[p.event.event_id]
        family = p.event.event_type.split(".")[0]
        assert message.topic == f"dx.{family}.v1"
        assert message.key.decode() == (expected_key[family] or p.event.payment_id)  # type: ignore[attr-defined]
        assert validate_event(message.value, topic=message.topic) == p.event
        uuid.UUID(p.event.event_id)  # generated, a real UUID


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
        m for m in consume_all(kafka_bootstrap, [DOSSIER_TOPIC]) if m.key == f"R-{tag}".encode()
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
    """A broker that goes away: the event fails after delivery_timeout_ms and flush says so."""
    doomed = LocalKafka(
        host="127.0.0.1", port=free_port(), data_dir=tmp_path / "k", runtime=kafka_broker.runtime
    )
    doomed.start(timeout_s=120)
    p = EventProducer(
        doomed.bootstrap, delivery_timeout_ms=4000, request_timeout_ms=1500, linger_ms=0,
        reconnect_backoff_max_ms=500,
    )  # fmt: skip
    try:
        assert p.send(one_of_each("up")[0]).result(timeout=30).ok  # metadata now cached
        doomed.stop()
        lost = p.send(one_of_each("down")[0])
        with pytest.raises(DeliveryError) as info:
            p.flush(timeout=30)
        assert [f.event_id for f in info.value.failures] == [lost.event.event_id]
        with pytest.raises(DeliveryError):
            lost.result(timeout=1)
        assert p.stats.failed == 1 and p.stats.buffered_events == 0
    finally:
        doomed.stop()
        p.close(timeout=5)


def test_unreachable_bootstrap_is_a_clear_error() -> None:
    from dxpulse.errors import KafkaUnavailableError

    with pytest.raises(KafkaUnavailableError, match=r"cannot connect to Kafka at 127\.0\.0\.1"):
        EventProducer(f"127.0.0.1:{free_port()}", bootstrap_timeout_ms=1500)
