"""Freshness: from an event handed to the SDK to its window value visible in ClickHouse.

Scenario ``freshness`` of ``python -m bench``. One ``dxpulse worker`` (Faust agents and
the sink, embedded chDB) runs on a fresh database. Per repetition, this process sends
simulator events through the SDK (``EventProducer`` with its default batching) at
``5,000 x scale`` events/s for 30 s, each stamped ``occurred_at`` = the moment it is
handed to ``send``. Meanwhile:

* a poller asks the worker's read-only query endpoint every 0.1 s for the event counts of
  the current windows (``window_1m FINAL``); the k-th event sent into a (locality,
  minute) window is visible once that window counts k events more than it did before the
  run began (a previous repetition may have used the same minute, and was entirely
  visible before this one starts); its freshness is the time of the answer (a
  conservative clock: after the query ran) minus the time it was sent;
* **baseline**: a plain kafka-python consumer in this process reads the same source
  topics and notes when each event arrives: the share of freshness that is the SDK's
  batching and the broker, before any processing.

A warm-up run precedes the measured ones. Figures: p50 / p99 / max freshness per run.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from kafka import KafkaConsumer

from bench.harness import Context, Figure
from bench.stack import Stack
from dxpulse.producers import EventProducer
from dxpulse.producers.simulator import SimulationConfig, Simulator
from dxpulse.reference import load_localities
from dxpulse.streams.topics import SOURCE_TOPICS, ensure_topics

RATE = 5_000
SECONDS = 30.0
GOAL_P99_S = 5.0


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] if ordered else float("nan")


def run(ctx: Context) -> list[Figure]:
    rate = 200.0 if ctx.smoke else RATE * ctx.scale
    seconds = 3.0 if ctx.smoke else SECONDS
    ensure_topics(ctx.bootstrap)
    stack = Stack(ctx, "freshness")
    stack.reset()
    worker = stack.start_workers(1)
    label = f"{rate:,.0f} events/s"
    p99 = Figure(
        "freshness",
        f"freshness p99 at {label}",
        "s",
        higher_is_better=False,
        goal=GOAL_P99_S,
        baseline="SDK -> plain Kafka consumer p99 (baseline)",
        note=(
            f"SDK send at {label} for {seconds:.0f} s -> window_1m count visible through the "
            "query endpoint (polled every 0.1 s; time taken after the answer)"
        ),
    )
    p50 = Figure("freshness", f"freshness p50 at {label}", "s", higher_is_better=False)
    top = Figure("freshness", f"freshness max at {label}", "s", higher_is_better=False)
    base = Figure(
        "freshness",
        "SDK -> plain Kafka consumer p99 (baseline)",
        "s",
        higher_is_better=False,
        note="same events, same time: when a plain consumer in the bench process receives them",
    )
    try:
        _wait_for_endpoint(stack, worker)
        for rep in range(ctx.reps + (0 if ctx.smoke else 1)):
            result = _measure(ctx, stack, rate, seconds, seed=rep + 1)
            ctx.progress(
                f"rep {rep}{' (warm-up)' if rep == 0 and not ctx.smoke else ''}: "
                f"p50 {result['p50']:.2f} s p99 {result['p99']:.2f} s max {result['max']:.2f} s; "
                f"Kafka only p99 {result['kafka_p99']:.2f} s; sent {result['sent']:,} "
                f"at {result['rate']:,.0f}/s"
            )
            if rep == 0 and not ctx.smoke:
                continue
            p99.values.append(result["p99"])
            p50.values.append(result["p50"])
            top.values.append(result["max"])
            base.values.append(result["kafka_p99"])
            stack.check(worker)
    finally:
        stack.stop_workers(worker)
    return [p99, p50, top, base]


def _wait_for_endpoint(stack: Stack, worker: Any, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while stack.try_query("SELECT 1") is None:
        stack.check(worker)
        if time.monotonic() > deadline:
            raise TimeoutError("the worker's query endpoint did not come up")
        time.sleep(0.2)


def _events(rate: float, seconds: float, seed: int) -> list[dict[str, Any]]:
    """Valid simulator events (national mix) with unique ids: ``rate * seconds`` of them."""
    now = datetime.now(UTC)
    config = SimulationConfig(start=now - timedelta(hours=1), seed=seed, rate=rate)
    count = int(rate * seconds)
    out = []
    for message in itertools.islice(Simulator(config, now=now), count * 2):
        if message.fields is not None:
            out.append({**message.fields, "event_id": str(uuid.uuid4())})
        if len(out) == count:
            break
    return out


def _measure(
    ctx: Context, stack: Stack, rate: float, seconds: float, *, seed: int
) -> dict[str, float]:
    events = _events(rate, seconds, seed)
    successor = load_localities().successor
    sent: dict[str, float] = {}
    window_of: dict[str, tuple[str, int]] = {}
    order: dict[tuple[str, int], list[str]] = defaultdict(list)
    seen_kafka: dict[str, float] = {}
    stop = threading.Event()
    polls: list[tuple[float, dict[tuple[str, int], int]]] = []
    start_minute = int(time.time()) // 60 - 1

    def poll() -> None:
        sql = (
            "SELECT locality_code, toUInt32(toUnixTimestamp(window_start)), toUInt64(events) "
            f"FROM window_1m FINAL WHERE window_start >= toDateTime({start_minute * 60}, 'UTC')"
        )
        while not stop.is_set():
            rows = stack.try_query(sql)
            if rows is not None:
                polls.append((time.time(), {(r[0], int(r[1]) // 60): int(r[2]) for r in rows}))
            time.sleep(0.1)

    consumer = KafkaConsumer(
        *SOURCE_TOPICS,
        bootstrap_servers=ctx.bootstrap,
        group_id=f"bench-fresh-{uuid.uuid4()}",
        auto_offset_reset="latest",
        enable_auto_commit=False,
    )
    consumer.poll(timeout_ms=2000)  # join and position at the end before sending

    def consume() -> None:
        while not stop.is_set():
            for records in consumer.poll(timeout_ms=100).values():
                arrived = time.time()
                for record in records:
                    value = orjson.loads(record.value)
                    for event in value if isinstance(value, list) else [value]:
                        seen_kafka.setdefault(event["event_id"], arrived)

    threads = [threading.Thread(target=poll), threading.Thread(target=consume)]
    for t in threads:
        t.start()
    producer = EventProducer(ctx.bootstrap, client_id="bench-freshness")
    waited = time.monotonic() + 30
    while not polls and time.monotonic() < waited:
        time.sleep(0.05)
    # Counts already in these windows (an earlier repetition in the same minute, all of
    # it visible before this one starts): only what goes beyond them is this run's.
    base = dict(polls[-1][1]) if polls else {}
    began = time.time()
    try:
        for i, event in enumerate(events):
            target = began + i / rate
            delay = target - time.time()
            if delay > 0:
                time.sleep(delay)
            now = time.time()
            event["occurred_at"] = datetime.fromtimestamp(now, UTC).isoformat(
                timespec="milliseconds"
            )
            key = (successor(event["locality_code"]), int(now) // 60)
            producer.send(event)
            sent[event["event_id"]] = now
            window_of[event["event_id"]] = key
            order[key].append(event["event_id"])
        producer.flush(60)
        elapsed = time.time() - began
        totals = Counter(window_of.values())
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if polls and all(
                polls[-1][1].get(k, 0) - base.get(k, 0) >= n for k, n in totals.items()
            ):
                break
            time.sleep(0.2)
        else:
            raise TimeoutError("not every event became visible within 120 s")
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        producer.close()
        consumer.close()
    visible: dict[str, float] = {}
    for key, ids in order.items():
        k = 0
        for at, counts in polls:
            reached = counts.get(key, 0) - base.get(key, 0)
            while k < len(ids) and k < reached:
                visible[ids[k]] = at
                k += 1
    freshness = [visible[e] - sent[e] for e in sent if e in visible]
    kafka = [seen_kafka[e] - sent[e] for e in sent if e in seen_kafka]
    return {
        "p50": _quantile(freshness, 0.5),
        "p99": _quantile(freshness, 0.99),
        "max": max(freshness),
        "kafka_p99": _quantile(kafka, 0.99),
        "sent": float(len(sent)),
        "rate": len(sent) / elapsed,
    }
