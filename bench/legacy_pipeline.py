"""Pipeline throughput and freshness: a real broker, one ``dxpulse worker``, embedded chDB.

Usage::

    python bench/pipeline.py                                  # 100,000 events; 500/s for 60 s
    python bench/pipeline.py --events 20000 --rate 1000 --duration 30

Everything runs on this machine in a temporary folder (removed at the end): a fresh
single-node Kafka broker (jars from the usual cache), ``dxpulse migrate``, then

1. **backlog**: ``--events`` simulator messages (national mix, the last hour, 1 %
   duplicates, 0.5 % invalid) are published first; then ONE ``dxpulse worker`` (Faust
   agents + the ClickHouse sink, embedded chDB) starts. Offsets of the consumer groups
   ``dxpulse-worker`` (source topics) and ``dxpulse-sink`` (internal topics) are polled
   every 0.25 s; rates are counted from each group's first commit (start-up is reported
   separately) to the moment it has committed everything;
2. **live**: with the worker caught up, ``dxpulse simulate --rate R --duration S`` runs
   against the same broker; every 2 s the worker's read-only query endpoint (what
   ``dxpulse sql`` uses when a pipeline owns the database; asked in-process here, so no
   Python start-up competes for the 2 cores) is asked for the workers' freshness on
   ``dx.invoice.v1`` and the publish -> ClickHouse latency of the last 30 s;
3. **step costs**: after the worker stopped (SIGTERM), the same messages are replayed in
   this process through ``process()`` (validation + normalisation, no Faust) and through
   ``ClickHouseSink.write`` into a fresh database, timing inserts and window/roll-up
   recomputation at the backlog's and the live run's sink batch sizes;

and CPU seconds per process (and per thread of the worker) are read from /proc. Each
measurement prints one ``result:`` line; the broker is stopped at the end.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient

from dxpulse.broker import KafkaRuntime, LocalKafka
from dxpulse.cli.simulate import raw_producer
from dxpulse.producers.simulator import SimulatedMessage, SimulationConfig, Simulator, calibrate
from dxpulse.query_endpoint import query_owner
from dxpulse.settings import DEFAULT_KAFKA_VERSION, Settings
from dxpulse.streams.topics import INTERNAL_TOPICS, SOURCE_TOPICS, ensure_topics

SINK_TOPICS = (*INTERNAL_TOPICS, "dx.deadletter.v1")
FAULTS = {"duplicate_rate": 0.01, "invalid_rate": 0.005}
CLK_TCK = os.sysconf("SC_CLK_TCK")
POLL_S = 0.25


def result(text: str) -> None:
    print(f"result: {text}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# CPU accounting from /proc -----------------------------------------------------------------


def _stat(path: Path) -> tuple[str, float]:
    """(comm, user+system CPU seconds) of a /proc/<pid>[/task/<tid>]/stat file."""
    text = path.read_text()
    comm = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    return comm, (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_seconds(pid: int) -> float:
    """CPU seconds of a process so far, all its threads (also exited ones)."""
    return _stat(Path(f"/proc/{pid}/stat"))[1]


def thread_cpu(pid: int) -> Counter[str]:
    """CPU seconds of a process by thread group: the main thread, the other Python threads
    (same name as the process), the chDB engine's threads (ClickHouse names its own);
    CPU of threads that already exited goes to ``exited threads``."""
    out: Counter[str] = Counter()
    main_comm, total = _stat(Path(f"/proc/{pid}/stat"))
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            comm, seconds = _stat(task / "stat")
        except (FileNotFoundError, ProcessLookupError):
            continue
        if task.name == str(pid):
            out["main thread (Faust event loop: agents, aiokafka)"] += seconds
        elif comm == main_comm:
            out["other Python threads (sink, query endpoint, kafka-python)"] += seconds
        else:
            out["chDB engine threads"] += seconds
    out["exited threads"] = max(total - sum(out.values()), 0.0)
    return out


# Kafka offsets -----------------------------------------------------------------------------


class Offsets:
    """Committed and end offsets, summed over the partitions of some topics."""

    def __init__(self, bootstrap: str) -> None:
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-offsets")
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="bench-offsets")

    def partitions(self, topics: Sequence[str]) -> list[TopicPartition]:
        return [
            TopicPartition(t, p)
            for t in topics
            for p in sorted(self.consumer.partitions_for_topic(t) or ())
        ]

    def end(self, topics: Sequence[str]) -> int:
        return sum(self.consumer.end_offsets(self.partitions(topics)).values())

    def committed(self, group: str, topics: Sequence[str]) -> int:
        try:
            found = self.admin.list_group_offsets({group: None}).get(group) or {}
        except Exception:  # the group does not exist yet  # noqa: BLE001
            return 0
        return sum(
            max(getattr(meta, "offset", meta), 0)
            for tp, meta in found.items()
            if tp.topic in topics
        )

    def close(self) -> None:
        self.admin.close()
        self.consumer.close()


class Progress(NamedTuple):
    """When a consumer group first committed, how much, and when it had committed all."""

    first_at: float
    first: int
    done_at: float
    total: int

    def rate(self) -> float:
        return (self.total - self.first) / (self.done_at - self.first_at)


# The pipeline's processes ------------------------------------------------------------------


class Pipeline:
    """A temporary broker, database and ``dxpulse worker`` process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.chdb = self.home / "clickhouse"
        self.broker = LocalKafka(
            host="127.0.0.1",
            port=free_port(),
            data_dir=root / "kafka",
            runtime=KafkaRuntime(
                version=DEFAULT_KAFKA_VERSION,
                cache_dir=Settings(_env_file=None).cache_dir,  # type: ignore[call-arg]
            ),
        )
        self.worker: subprocess.Popen[bytes] | None = None
        self.log = root / "worker.log"

    @property
    def env(self) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("DXPULSE_")},
            "DXPULSE_KAFKA_BOOTSTRAP": self.broker.bootstrap,
            "DXPULSE_HOME": str(self.home),
            "DXPULSE_CLICKHOUSE_URL": f"chdb://{self.chdb}",
            "DXPULSE_LOG_LEVEL": "warning",
            "COLUMNS": "200",
        }

    def settings(self, **overrides: Any) -> Settings:
        return Settings(  # type: ignore[call-arg]
            _env_file=None,
            home=self.home,
            kafka_bootstrap=self.broker.bootstrap,
            clickhouse_url=f"chdb://{self.chdb}",
            **overrides,
        )

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "dxpulse", *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            check=True,
        )

    def start_worker(self) -> int:
        with self.log.open("ab") as out:
            self.worker = subprocess.Popen(
                [sys.executable, "-m", "dxpulse", "worker"],
                env=self.env,
                cwd=self.root,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self.worker.pid

    def check_worker(self) -> None:
        if self.worker is not None and self.worker.poll() is not None:
            tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])
            raise RuntimeError(f"the worker exited ({self.worker.returncode}):\n{tail}")

    def stop_worker(self) -> tuple[int, float]:
        """SIGTERM; (exit code, seconds to exit)."""
        assert self.worker is not None
        t0 = time.monotonic()
        if self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)
            try:
                self.worker.wait(90)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait(30)
        code, self.worker = int(self.worker.returncode), None
        return code, time.monotonic() - t0

    def query(self, sql: str) -> list[list[Any]]:
        """Read-only SQL answered by the worker process (as ``dxpulse sql`` does)."""
        answer = query_owner(self.settings(), sql)
        if answer is None:
            raise RuntimeError("no query endpoint: is the worker (with its sink) running?")
        return answer.rows


def watch(
    offsets: Offsets, pipeline: Pipeline, on_first: Callable[[], None] | None = None
) -> tuple[Progress, Progress]:
    """Poll both groups until the workers have committed every source message and the sink
    every message the workers produced; ``on_first`` runs at the workers' first commit."""
    total = offsets.end(SOURCE_TOPICS)
    first: dict[str, tuple[float, int]] = {}
    done: dict[str, tuple[float, int]] = {}
    deadline = time.monotonic() + 1800
    while len(done) < 2:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the pipeline did not catch up: {first} {done}")
        pipeline.check_worker()
        for group, topics in (("dxpulse-worker", SOURCE_TOPICS), ("dxpulse-sink", SINK_TOPICS)):
            now, committed = time.monotonic(), offsets.committed(group, topics)
            if committed and group not in first:
                first[group] = (now, committed)
                if group == "dxpulse-worker" and on_first is not None:
                    on_first()
            if group == "dxpulse-worker":
                target = total
            elif "dxpulse-worker" in done:  # its output is complete: the sink's target
                target = max(offsets.end(SINK_TOPICS), total)
            else:
                continue
            if committed >= target and group not in done:
                done[group] = (now, target)
        time.sleep(POLL_S)
    workers, sink = (Progress(*first[g], *done[g]) for g in ("dxpulse-worker", "dxpulse-sink"))
    return workers, sink


# 1. Backlog --------------------------------------------------------------------------------


def generate(events: int, now: datetime) -> list[SimulatedMessage]:
    config = SimulationConfig(start=now - timedelta(hours=1), seed=1, **FAULTS)
    config = calibrate(config, events * 1.1, now)
    return list(itertools.islice(Simulator(config, now=now), events))


def backlog(pipeline: Pipeline, offsets: Offsets, messages: list[SimulatedMessage]) -> float:
    """Publish, then start the worker; returns its sink's mean batch size."""
    bootstrap = pipeline.broker.bootstrap
    ensure_topics(bootstrap)
    producer = raw_producer(bootstrap)
    t0 = time.perf_counter()
    for m in messages:
        producer.send(m.topic, key=m.key, value=m.value)
    producer.flush(120)
    producer.close()
    published = time.perf_counter() - t0
    total = offsets.end(SOURCE_TOPICS)
    kinds = Counter(m.kind.value for m in messages)
    result(
        f"backlog published: {total} messages ({kinds['duplicate']} duplicates, "
        f"{kinds['invalid']} invalid) in {published:.1f} s = {total / published:,.0f} events/s"
    )
    pipeline.cli("migrate")

    broker_pid = pipeline.broker.pid() or 0
    spawned = time.monotonic()
    pid = pipeline.start_worker()
    at_start: dict[str, Any] = {}

    def snapshot() -> None:
        at_start.update(threads=thread_cpu(pid), broker=cpu_seconds(broker_pid))

    workers, sink = watch(offsets, pipeline, snapshot)
    startup_cpu = at_start["threads"]
    cpu = thread_cpu(pid) - startup_cpu
    broker_cpu = cpu_seconds(broker_pid) - at_start["broker"]

    result(
        f"worker start-up: {workers.first_at - spawned:.1f} s from spawn to the first "
        f"commit of dxpulse-worker ({workers.first} messages in it; "
        f"{sum(startup_cpu.values()):.1f} CPU s)"
    )
    result(
        f"backlog workers (Faust agents, 1 process): {workers.total - workers.first} events in "
        f"{workers.done_at - workers.first_at:.1f} s = {workers.rate():,.0f} events/s"
    )
    result(
        f"backlog end-to-end (committed by dxpulse-sink, rows in ClickHouse): "
        f"{sink.total - sink.first} events in {sink.done_at - sink.first_at:.1f} s = "
        f"{sink.rate():,.0f} events/s; the sink finished {sink.done_at - workers.done_at:.1f} s "
        f"after the workers; {sink.done_at - spawned:.1f} s from spawn to all in ClickHouse"
    )
    wall = sink.done_at - workers.first_at
    parts = ", ".join(f"{name} {s:.1f} s" for name, s in cpu.most_common() if s >= 0.05)
    result(
        f"backlog CPU over {wall:.1f} s: worker process {sum(cpu.values()):.1f} s "
        f"({sum(cpu.values()) / wall:.0%} of a core: {parts}); broker {broker_cpu:.1f} s"
    )
    rows, batches = pipeline.query("SELECT count(), uniqExact(ingested_at) FROM invoice_events")[0]
    result(
        f"backlog sink batches: {batches} inserts of invoice rows, {int(rows) / int(batches):,.0f} "
        f"rows each on average ({wall / int(batches):.2f} s per batch)"
    )
    return sink.total / int(batches)


# 2. Live load ------------------------------------------------------------------------------

FRESHNESS = (
    "SELECT max(freshness_s) FROM v_pipeline_health_latest "
    "WHERE component = 'workers' AND topic = 'dx.invoice.v1'"
)
LATENCY = (
    "SELECT quantiles(0.5, 0.95)(dateDiff('millisecond', published_at, ingested_at)) "
    "FROM invoice_events WHERE ingested_at > now() - INTERVAL 30 SECOND"
)


def _finite(values: Sequence[Any]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def live(pipeline: Pipeline, offsets: Offsets, rate: float, duration: float) -> float:
    """Paced traffic through the running worker; returns the sink's mean batch size."""
    assert pipeline.worker is not None
    pid, broker_pid = pipeline.worker.pid, pipeline.broker.pid() or 0
    started = datetime.now(UTC)
    since = f"toDateTime64('{started:%Y-%m-%d %H:%M:%S.%f}', 6, 'UTC')"
    cpu0, broker0 = cpu_seconds(pid), cpu_seconds(broker_pid)
    t0 = time.monotonic()
    faults = ["--duplicates", str(FAULTS["duplicate_rate"]), "--invalid", str(FAULTS["invalid_rate"])]  # fmt: skip
    simulate = subprocess.Popen(
        [sys.executable, "-m", "dxpulse", "simulate", "--rate", f"{rate:g}",
         "--duration", f"{duration:g}", *faults],
        env=pipeline.env, cwd=pipeline.root, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    samples: list[tuple[float, float | None, list[float]]] = []
    while simulate.poll() is None:
        time.sleep(max(0.0, t0 + 2 * (len(samples) + 1) - time.monotonic()))
        pipeline.check_worker()
        fresh = pipeline.query(FRESHNESS)[0][0]
        latency = _finite(pipeline.query(LATENCY)[0][0])
        samples.append((time.monotonic() - t0, fresh, latency))
        print(f"  t={samples[-1][0]:5.1f} s  freshness {fresh} s  p50/p95 {latency} ms")
    ended = time.monotonic()
    out = " ".join((simulate.stdout.read() if simulate.stdout else "").split())
    match = re.search(r"Published (\d+) messages .* in ([\d.]+) s", out)
    if simulate.returncode != 0 or match is None:
        raise RuntimeError(f"dxpulse simulate failed ({simulate.returncode}): {out[-2000:]}")
    published, seconds = int(match.group(1)), float(match.group(2))
    watch(offsets, pipeline)
    drained = time.monotonic() - ended
    cpu, broker_cpu = cpu_seconds(pid) - cpu0, cpu_seconds(broker_pid) - broker0
    wall = time.monotonic() - t0

    count, q, top, lag_q, batches, first, last = pipeline.query(
        "SELECT count(), quantiles(0.5, 0.95, 0.99)(dateDiff('millisecond', published_at, "
        "ingested_at)), max(dateDiff('millisecond', published_at, ingested_at)), "
        "quantile(0.5)(dateDiff('millisecond', occurred_at, published_at)), "
        "uniqExact(ingested_at), min(ingested_at), max(ingested_at) "
        f"FROM invoice_events WHERE published_at >= {since}"
    )[0]
    ingest_s = (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()
    # Samples from before these cut-offs still see the backlog: the health sample every 5 s,
    # the rows of the backlog's last batches within the latency query's 30 s.
    fresh = [float(f) for t, f, _ in samples if t >= 10 and f is not None]
    recent = [lat for t, _, lat in samples if t >= 32 and lat]
    p50s, p95s = [lat[0] for lat in recent], [lat[-1] for lat in recent]
    result(
        f"live: dxpulse simulate --rate {rate:g} --duration {duration:g} published {published} "
        f"messages in {seconds:.1f} s = {published / seconds:,.0f} events/s; "
        f"{count} invoice rows ingested over {ingest_s:.1f} s = {int(count) / ingest_s:,.0f}/s; "
        f"the sink caught up {drained:.1f} s after the publisher stopped"
    )
    result(
        f"live publish -> ClickHouse latency, all {count} invoice rows: p50 {q[0] / 1000:.2f} s, "
        f"p95 {q[1] / 1000:.2f} s, p99 {q[2] / 1000:.2f} s, max {int(top) / 1000:.2f} s"
    )
    if p50s:
        result(
            f"live latency, 2-s samples of the last 30 s ({len(recent)} from t >= 32 s): "
            f"median p50 {sorted(p50s)[len(p50s) // 2] / 1000:.2f} s, "
            f"worst p50 {max(p50s) / 1000:.2f} s, worst p95 {max(p95s) / 1000:.2f} s"
        )
    if fresh:
        result(
            f"live freshness (workers, dx.invoice.v1): max {max(fresh):.0f} s, "
            f"median {sorted(fresh)[len(fresh) // 2]:.0f} s over the 2-s samples from t >= 10 s; "
            f"the simulator itself publishes events a median {float(lag_q) / 1000:.1f} s after "
            "they occurred (its window is the --duration before it starts)"
        )
    result(
        f"live CPU over {wall:.1f} s: worker process {cpu:.1f} s ({cpu / wall:.0%} of a core), "
        f"broker {broker_cpu:.1f} s ({broker_cpu / wall:.0%}); sink batches: {batches} inserts of "
        f"invoice rows, {int(count) / int(batches):,.0f} rows each, one every "
        f"{ingest_s / int(batches):.2f} s"
    )
    t1 = time.perf_counter()
    pipeline.cli("sql", FRESHNESS, "-f", "json")
    result(
        f"one `dxpulse sql ... -f json` call (a new Python process): {time.perf_counter() - t1:.2f} s"
    )
    return published / int(batches)


# 3. Step costs (worker stopped) ------------------------------------------------------------


class Record(NamedTuple):
    topic: str
    value: bytes


class TimedClient:
    """Delegates to a ClickHouse client, adding up seconds per kind of statement."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.seconds: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def _timed(self, kind: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            self.seconds[kind] += time.perf_counter() - t0

    def raw_insert(self, *args: Any, **kwargs: Any) -> Any:
        return self._timed("raw inserts", self._client.raw_insert, *args, **kwargs)

    def command(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        kind = "window_1m recompute" if "window_1m (" in sql[:200] else "rollup_1h recompute"
        return self._timed(kind, self._client.command, sql, *args, **kwargs)

    def query(self, *args: Any, **kwargs: Any) -> Any:
        return self._timed("completions lookup", self._client.query, *args, **kwargs)


def step_costs(
    pipeline: Pipeline, messages: list[SimulatedMessage], batch_sizes: Sequence[int]
) -> None:
    from dxpulse.clickhouse import connect
    from dxpulse.migrations import Migrator
    from dxpulse.streams.processor import process
    from dxpulse.streams.sink import ClickHouseSink

    now_ms = int(time.time() * 1000)
    t0 = time.perf_counter()
    outputs = [
        process(m.topic, partition=0, offset=i, timestamp_ms=now_ms, key=m.key, value=m.value)
        for i, m in enumerate(messages)
    ]
    elapsed = time.perf_counter() - t0
    result(
        f"process() alone (validate + normalise + JSON, no Faust/Kafka): {len(outputs)} messages "
        f"in {elapsed:.2f} s = {elapsed / len(outputs) * 1e6:.0f} us each "
        f"({len(outputs) / elapsed:,.0f}/s)"
    )
    records = [Record(o.topic, o.value) for o in outputs]
    settings = pipeline.settings(database="bench")
    client = connect(settings)
    Migrator(client, database="bench").migrate()
    sink = ClickHouseSink(client, settings, group_id="bench-sink")
    timed = TimedClient(client)
    sink.client = timed  # type: ignore[assignment]
    # Most of the messages in big batches (as a backlog), the rest in small ones (as live).
    split = len(records) * 4 // 5
    for size, chunk in zip(batch_sizes, (records[:split], records[split:]), strict=True):
        timed.seconds.clear()
        batches = [chunk[i : i + size] for i in range(0, len(chunk), size)]
        t0 = time.perf_counter()
        for batch in batches:
            sink.write(batch)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - t0
        timed.seconds["Python (parse rows, spans)"] = elapsed - sum(timed.seconds.values())
        parts = ", ".join(
            f"{kind} {s / len(batches) * 1000:.0f} ms ({s / elapsed:.0%})"
            for kind, s in timed.seconds.most_common()
        )
        result(
            f"sink.write, {len(batches)} batches of {size:,}: {elapsed / len(batches) * 1000:.0f} "
            f"ms a batch = {len(chunk) / elapsed:,.0f} events/s; per batch: {parts}"
        )
    sink.consumer.close()
    client.close()


# Main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="backlog messages")
    parser.add_argument("--rate", type=float, default=500.0, help="live events/s")
    parser.add_argument("--duration", type=float, default=60.0, help="live seconds")
    args = parser.parse_args()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average before {load}",
        flush=True,
    )
    messages = generate(args.events, datetime.now(UTC))
    root = Path(tempfile.mkdtemp(prefix="dxpulse-bench-"))
    pipeline = Pipeline(root)
    offsets: Offsets | None = None
    try:
        pipeline.broker.start(timeout_s=120)
        offsets = Offsets(pipeline.broker.bootstrap)
        backlog_batch = backlog(pipeline, offsets, messages)
        live_batch = live(pipeline, offsets, args.rate, args.duration)
        code, seconds = pipeline.stop_worker()
        result(f"worker stopped by SIGTERM: exit code {code} after {seconds:.1f} s")
        step_costs(pipeline, messages, [round(backlog_batch), max(1, round(live_batch))])
    finally:
        if pipeline.worker is not None:
            pipeline.stop_worker()
        if offsets is not None:
            offsets.close()
        pipeline.broker.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"removed {root}: {not root.exists()}")


if __name__ == "__main__":
    main()
