"""Simulator throughput: events generated per second, and published per second.

Usage::

    python bench/simulate.py                      # generator only (no Kafka)
    python bench/simulate.py 127.0.0.1:9092       # also publish to that broker

Generation is measured for three mixes over the day before now: the national mix
(~100 e-invoices per dossier), a dossier-heavy mix (1 e-invoice per dossier) and the
national mix with every fault injected. Publishing sends pre-generated messages as
fast as the CLI's producer allows (acks=all, idempotent, linger 10 ms, 128 KiB
batches), then runs ``dxpulse simulate --rate 2000 --duration 10`` and reports what
it published. Each measurement prints one ``result:`` line.
"""

from __future__ import annotations

import gc
import itertools
import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from dxpulse.cli.simulate import raw_producer
from dxpulse.producers.simulator import SimulationConfig, Simulator, calibrate

GENERATE = 200_000
PUBLISH = 100_000
FAULTS = {
    "duplicate_rate": 0.02,
    "late_rate": 0.02,
    "out_of_order_rate": 0.05,
    "legacy_code_rate": 0.05,
    "invalid_rate": 0.01,
}


def config(now: datetime, events: int, **overrides: float) -> SimulationConfig:
    start = now - timedelta(days=1)
    return calibrate(SimulationConfig(start=start, seed=1, **overrides), events * 1.1, now)


def generate(name: str, now: datetime, **overrides: float) -> None:
    sim = Simulator(config(now, GENERATE, **overrides), now=now)
    t0 = time.perf_counter()
    n = sum(1 for _ in itertools.islice(sim, GENERATE))
    elapsed = time.perf_counter() - t0
    print(f"result: generate {name}: {n} events in {elapsed:.2f} s = {n / elapsed:,.0f} events/s")


def publish(bootstrap: str, now: datetime) -> None:
    gc.disable()
    messages = list(itertools.islice(Simulator(config(now, PUBLISH), now=now), PUBLISH))
    gc.enable()
    producer = raw_producer(bootstrap)
    producer.send(messages[0].topic, value=messages[0].value, key=messages[0].key).get(30)
    t0 = time.perf_counter()
    for m in messages[1:]:
        producer.send(m.topic, value=m.value, key=m.key)
    producer.flush(60)
    elapsed = time.perf_counter() - t0
    producer.close()
    n = len(messages) - 1
    print(f"result: publish unpaced: {n} events in {elapsed:.2f} s = {n / elapsed:,.0f} events/s")


def paced(bootstrap: str) -> None:
    env = dict(os.environ, DXPULSE_KAFKA_BOOTSTRAP=bootstrap, COLUMNS="200")
    t0 = time.perf_counter()
    cli = [sys.executable, "-m", "dxpulse", "simulate", "--rate", "2000", "--duration", "10"]
    done = subprocess.run(cli, env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    match = re.search(r"Published (\d+) messages .* in ([\d.]+) s", " ".join(done.stdout.split()))
    assert match, done.stdout
    n, seconds = int(match.group(1)), float(match.group(2))
    print(
        f"result: dxpulse simulate --rate 2000 --duration 10: {n} events published in "
        f"{seconds:.1f} s = {n / seconds:,.0f} events/s ({n / 20_000:.1%} of 20,000; "
        f"process wall time {wall:.1f} s)"
    )


def main() -> None:
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}")
    now = datetime.now(UTC)
    generate("national mix", now)
    generate("dossier-heavy mix", now, invoices_per_dossier=1.0)
    generate("national mix + faults", now, **FAULTS)
    if len(sys.argv) > 1:
        publish(sys.argv[1], now)
        paced(sys.argv[1])


if __name__ == "__main__":
    main()
