"""SDK publishing throughput: validated, batched events/s against a raw kafka-python baseline.

Run with ``python -m bench --only sdk`` (``--smoke`` for a seconds-long check). Events are
generated once with the simulator (national mix, the day before now) as the ``fields``
dicts an agency would hand to :meth:`EventProducer.send`. Each repetition publishes them
to fresh topics (``<topic>.bench-<run>-<n>-sdk``, created beforehand with 4 partitions like the
real ones), so every repetition starts from the same empty state. Three figures:

* ``SDK publish, validated, batched (defaults)``: ``EventProducer`` with its defaults,
  ``send(dict)`` for every event then ``flush()``; the goal is 50,000 events/s;
* ``kafka-python, one pre-serialised message per event`` (the baseline): a plain
  ``KafkaProducer`` (acks=all, idempotent, linger 10 ms, 128 KiB batches, like the SDK
  before batching) sending the same events' bytes, one keyed message each;
* ``validation only (no Kafka)``: what the SDK does to a dict before sending (validate,
  serialise), without a broker.

Example::

    python -m bench --only sdk --reps 5
    python -m bench --only sdk --set sdk.events=50000
"""

from __future__ import annotations

import gc
import itertools
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.harness import Context, Figure
from dxpulse.contracts import DOSSIER_TOPIC, INVOICE_TOPIC, PAYMENT_TOPIC, EventBase
from dxpulse.producers import EventProducer
from dxpulse.producers.producer import wire_bytes
from dxpulse.producers.simulator import SimulationConfig, Simulator, calibrate

SCENARIO = "sdk"
SDK = "SDK publish, validated, batched (defaults)"
BASELINE = "kafka-python, one pre-serialised message per event"
VALIDATION = "validation only (no Kafka)"
TOPICS = (DOSSIER_TOPIC, INVOICE_TOPIC, PAYMENT_TOPIC)
PARTITIONS = 4

Events = list[Mapping[str, Any]]


def generate(n: int) -> Events:
    """``n`` realistic events (national mix over the day before now) as field dicts."""
    now = datetime.now(UTC)
    config = calibrate(SimulationConfig(start=now - timedelta(days=1), seed=1), n * 1.1, now)
    fields = [m.fields for m in itertools.islice(Simulator(config, now=now), n)]
    return [dict(f) for f in fields if f is not None]


class _Renamed(EventProducer):
    """The SDK publishing to suffixed topics (fresh ones per repetition), nothing else changed."""

    suffix = ""

    def _partition_count(self, topic: str) -> int:
        return super()._partition_count(topic + self.suffix)

    def _hand_over(self, batch: Any) -> None:
        if not batch.topic.endswith(self.suffix):
            batch.topic += self.suffix
        super()._hand_over(batch)


def create_topics(bootstrap: str, suffix: str) -> None:
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics(
            [NewTopic(t + suffix, num_partitions=PARTITIONS, replication_factor=1) for t in TOPICS]
        )
    finally:
        admin.close()


def timed(fn: Callable[[], int]) -> float:
    """Events/s of ``fn`` (which returns how many events it handled), GC as in production."""
    gc.collect()
    started = time.perf_counter()
    n = fn()
    return n / (time.perf_counter() - started)


def sdk_publish(bootstrap: str, events: Events, suffix: str) -> float:
    """Events/s of ``send`` for every event then ``flush()`` (connected, metadata known)."""
    with _Renamed(bootstrap, client_id="bench-sdk") as producer:
        producer.suffix = suffix
        for topic in TOPICS:
            producer._partition_count(topic)

        def publish() -> int:
            for event in events:
                producer.send(event)
            producer.flush(timeout=300)
            return len(events)

        return timed(publish)


def raw_publish(bootstrap: str, messages: list[tuple[str, bytes, bytes]], suffix: str) -> float:
    """Events/s of a plain kafka-python producer sending pre-serialised events one by one."""
    from kafka import KafkaProducer

    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=10,
        batch_size=128 * 1024,
        client_id="bench-raw",
    )
    try:
        for topic in TOPICS:
            producer.partitions_for(topic + suffix)

        def publish() -> int:
            for topic, key, value in messages:
                producer.send(topic + suffix, value=value, key=key)
            producer.flush(timeout=300)
            return len(messages)

        return timed(publish)
    finally:
        producer.close()


def validate_only(events: Events) -> int:
    validated = EventProducer._validated
    for event in events:
        model: EventBase = validated(event)
        wire_bytes(model)
    return len(events)


def run(ctx: Context) -> list[Figure]:
    n = int(ctx.options.get("sdk.events", 2_000 if ctx.smoke else 200_000 * ctx.scale))
    ctx.progress(f"sdk: generating {n:,} events")
    events = generate(n)
    messages = [
        (m.topic, m.key.encode(), m.to_json()) for m in map(EventProducer._validated, events)
    ]
    sdk = Figure(
        SCENARIO,
        SDK,
        "events/s",
        goal=50_000,
        baseline=BASELINE,
        note=f"EventProducer defaults, send(dict) x {len(events):,} realistic events then "
        "flush(), one thread, fresh 4-partition topics per repetition",
    )
    raw = Figure(
        SCENARIO,
        BASELINE,
        "events/s",
        note=f"KafkaProducer (acks=all, idempotent, linger 10 ms, 128 KiB) sending the same "
        f"{len(messages):,} events' bytes, one keyed message each, no validation, then flush()",
    )
    check = Figure(
        SCENARIO,
        VALIDATION,
        "events/s",
        note="what send() does to a dict before batching: validate against the contract "
        "and serialise, no broker",
    )
    run_id = uuid.uuid4().hex[:8]
    rounds = itertools.count()
    for measured in [False] + [True] * ctx.reps:  # the first round warms up
        suffix = f".bench-{run_id}-{next(rounds)}"
        create_topics(ctx.bootstrap, suffix + "-sdk")
        create_topics(ctx.bootstrap, suffix + "-raw")
        rates = (
            sdk_publish(ctx.bootstrap, events, suffix + "-sdk"),
            raw_publish(ctx.bootstrap, messages, suffix + "-raw"),
            timed(lambda: validate_only(events)),
        )
        ctx.progress(
            f"sdk: {'' if measured else 'warm-up '}{rates[0]:,.0f} SDK, {rates[1]:,.0f} raw, "
            f"{rates[2]:,.0f} validation events/s"
        )
        if measured:
            for figure, rate in zip((sdk, raw, check), rates, strict=True):
                figure.values.append(rate)
    return [sdk, raw, check]
