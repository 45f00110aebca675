"""End-to-end throughput: Kafka -> Faust workers -> ClickHouse windows, against a plain loop.

Scenario ``pipeline`` of ``python -m bench``. Once per invocation, ``1,000,000 x scale``
simulator events (national mix, the last hour, 1 % duplicates, 0.5 % invalid) are
published to the source topics in the contract's batched form (arrays of 500 events per
partition, as the SDK sends them). Then, per repetition and per layout (1 worker process
with the sink; 2 worker processes, one with the sink), on a fresh database with fresh
consumer groups:

* the workers start; the window totals are polled every 0.1 s through the read-only
  query endpoint; the rate is counted from the first window rows to the moment
  ``sum(events)`` over ``window_1m`` equals the distinct valid events (start-up, the
  group join, is reported apart);
* **baseline**: in this process, a plain aiokafka ``getmany`` loop reads the same
  messages with a fresh group, validates them with the same contract code
  (``validate_message``) and counts them per (locality, minute, event type) in a dict.

The pipeline does more than the baseline (normalisation, a second Kafka hop, ClickHouse
inserts, de-duplication and window recomputation); the issue's goal is >= 25 % of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from bench.harness import Context, Figure
from bench.profile import Profile, Profiler
from bench.profile import available as profiling_available
from bench.stack import (
    FAULTS,
    Stack,
    accepted_events,
    batched,
    cpu_seconds,
    generate,
    partitions_of,
    publish_raw,
    thread_cpu,
)
from dxpulse.contracts.batch import validate_message
from dxpulse.streams.topics import SOURCE_TOPICS, ensure_topics

GOAL = 50_000


class Run(NamedTuple):
    """One pipeline run: events/s, start-up s, CPU ms per 1,000 events, CPU s by thread."""

    rate: float
    startup_s: float
    cpu_ms: float
    threads: Counter[str]


def run(ctx: Context) -> list[Figure]:
    events = 5_000 if ctx.smoke else int(1_000_000 * ctx.scale)
    ensure_topics(ctx.bootstrap)
    ctx.progress(f"generating {events:,} events")
    now = datetime.now(UTC)
    messages = generate(events, now, **FAULTS)
    expected = accepted_events(messages)
    batch_events = int(ctx.options.get("batch_events", 500))
    wire = batched(messages, partitions=partitions_of(ctx.bootstrap), batch_events=batch_events)
    seconds = publish_raw(ctx.bootstrap, wire)
    ctx.progress(f"published {events:,} events in {len(wire):,} messages, {seconds:.1f} s")

    layouts = {1: "1 worker process (with the sink)", 2: "2 worker processes (one with the sink)"}
    figures = {
        n: Figure(
            "pipeline",
            f"end-to-end, {label}",
            "events/s",
            goal=GOAL,
            baseline="plain aiokafka loop: decode + validate + dict (baseline)",
            ratio_goal=0.25,
            note=(
                f"{events:,} events ({expected:,} distinct valid) in {len(wire):,} batched "
                "messages; from the first window rows to all events counted in window_1m"
            ),
        )
        for n, label in layouts.items()
    }
    startup = Figure(
        "pipeline", "worker start-up to first window rows", "s", higher_is_better=False
    )
    cpu = Figure("pipeline", "worker CPU per 1,000 events, 1 worker", "ms", higher_is_better=False)
    baseline = Figure(
        "pipeline",
        "plain aiokafka loop: decode + validate + dict (baseline)",
        "events/s",
        note="same messages, one process, contract validation, counts in a dict",
    )
    stack = Stack(ctx)
    reps = ctx.reps
    split: Counter[str] = Counter()
    for rep in range(reps + (0 if ctx.smoke else 1)):  # the first is warm-up
        warm = rep == 0 and not ctx.smoke
        measured_base = _baseline(ctx.bootstrap, len(wire), events)
        for n in layouts:
            result = _pipeline(ctx, stack, n, expected)
            rate, start_s, cpu_ms = result.rate, result.startup_s, result.cpu_ms
            if n == 1:
                split = result.threads
            ctx.progress(
                f"rep {rep}{' (warm-up)' if warm else ''}: {n} worker(s) {rate:,.0f} events/s"
            )
            if not warm:
                figures[n].values.append(rate)
                if n == 1:
                    startup.values.append(start_s)
                    cpu.values.append(cpu_ms)
        ctx.progress(f"rep {rep}: baseline {measured_base:,.0f} events/s")
        if not warm:
            baseline.values.append(measured_base)
    if profiling_available():
        output = ctx.workdir / "worker-profile.txt"
        rate = _pipeline(ctx, stack, 1, expected, profile=output).rate
        profile = Profile(output.read_text() if output.exists() else "")
        main = profile.thread("MainThread")
        threads = ", ".join(
            f"{name.split(': ', 1)[-1]} {count / max(profile.samples, 1):.0%}"
            for name, count in profile.threads.most_common(4)
        )
        cpu.extra["details"] = (
            f"py-spy profile of the 1-worker process over one more run ({rate:,.0f} events/s "
            f"while sampled; {profile.samples:,} samples of Python frames; by thread: "
            f"{threads}). The main thread (Faust's event loop: agents, aiokafka), "
            f"self and total share of its samples:\n\n" + main.markdown(top=15)
        )
        ctx.progress(cpu.extra["details"])
    if split:
        total = sum(split.values()) or 1.0
        cpu.note = (
            "CPU of the whole process (all threads) per 1,000 events; last run: "
            + ", ".join(f"{k} {v / total:.0%}" for k, v in split.most_common() if v)
        )
    return [figures[1], figures[2], baseline, startup, cpu]


def _pipeline(
    ctx: Context, stack: Stack, workers: int, expected: int, *, profile: Path | None = None
) -> Run:
    """One run of ``workers`` processes over the backlog."""
    stack.reset()
    started = time.monotonic()
    procs = stack.start_workers(workers)
    try:
        with contextlib.ExitStack() as attached:
            if profile is not None:
                attached.enter_context(Profiler(procs[0].pid, profile))
            (first_at, first_total), done_at = _wait_counted(stack, procs, expected, started)
        cpu_s = cpu_seconds(procs[0].pid)
        threads = thread_cpu(procs[0].pid)
        ctx.progress(
            f"{workers} worker(s): CPU of the sink's process by thread (s): "
            + ", ".join(f"{k} {v:.1f}" for k, v in threads.most_common())
        )
    finally:
        stack.stop_workers(procs)
    rate = (expected - first_total) / max(done_at - first_at, 1e-3)
    return Run(rate, first_at - started, cpu_s * 1_000_000 / expected, threads)


def _wait_counted(
    stack: Stack, procs: list[Any], expected: int, started: float
) -> tuple[tuple[float, int], float]:
    """Poll until the windows count ``expected`` events: ((first rows at, count), done at)."""
    first: tuple[float, int] | None = None
    deadline = started + max(600, expected / 1000)
    while time.monotonic() < deadline:
        stack.check(procs)
        rows = stack.try_query("SELECT toUInt64(sum(events)) FROM window_1m FINAL")
        now = time.monotonic()
        total = int(rows[0][0] or 0) if rows else 0
        if total and first is None:
            first = (now, total)
        if first is not None and total >= expected:
            return first, now
        time.sleep(0.1)
    raise TimeoutError(f"the pipeline did not count {expected} events in time")


def _baseline(bootstrap: str, messages: int, events: int) -> float:
    return asyncio.run(_consume(bootstrap, messages, events))


async def _consume(bootstrap: str, messages: int, events: int) -> float:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        *SOURCE_TOPICS,
        bootstrap_servers=bootstrap,
        group_id=f"bench-baseline-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    await consumer.start()
    counts: Counter[tuple[str, int, str]] = Counter()
    seen = 0
    started = 0.0
    try:
        while seen < messages:
            batches = await consumer.getmany(timeout_ms=200, max_records=1000)
            if batches and not started:
                started = time.perf_counter()
            now = datetime.now(UTC)
            for tp, records in batches.items():
                for record in records:
                    checked = validate_message(record.value, topic=tp.topic, now=now)
                    for _, event in checked.events:
                        minute = int(event.occurred_at.timestamp()) // 60
                        counts[(event.locality_code, minute, event.event_type)] += 1
                seen += len(records)
        elapsed = time.perf_counter() - started
    finally:
        await consumer.stop()
    return events / elapsed
