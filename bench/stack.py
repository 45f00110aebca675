"""What the pipeline scenarios share: simulated traffic, batched publishing, worker
processes on an embedded database, Kafka housekeeping between repetitions, /proc CPU.

Example::

    stack = Stack(ctx)                       # a chDB folder under ctx.workdir
    stack.reset()                            # fresh database, groups and internal topics
    workers = stack.start_workers(2)         # one with the sink, one --no-sink
    stack.query("SELECT sum(events) FROM window_1m FINAL")
    stack.stop_workers(workers)
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient
from kafka.errors import GroupIdNotFoundError, KafkaError, UnknownTopicOrPartitionError

from bench.harness import Context
from dxpulse.producers.batching import default_partition
from dxpulse.producers.simulator import SimulatedMessage, SimulationConfig, Simulator, calibrate
from dxpulse.query_endpoint import query_owner
from dxpulse.settings import Settings
from dxpulse.streams.app import APP_ID
from dxpulse.streams.topics import DEAD_LETTER_TOPIC, INTERNAL_TOPICS, SOURCE_TOPICS

log = logging.getLogger("bench")

CLK_TCK = os.sysconf("SC_CLK_TCK")
#: Fault mix of the throughput backlog (realistic: a few duplicates and rejects).
FAULTS = {"duplicate_rate": 0.01, "invalid_rate": 0.005}
SINK_GROUP = f"{APP_ID}-sink"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (all threads)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _stat(path: Path) -> tuple[str, float]:
    text = path.read_text()
    comm = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    return comm, (int(fields[11]) + int(fields[12])) / CLK_TCK


def thread_cpu(pid: int) -> Counter[str]:
    """CPU seconds of a worker process by kind of thread: the Faust event loop (main
    thread), other Python threads (sink, query endpoint, Kafka clients), chDB's engine
    threads (ClickHouse names its own), and threads that already exited."""
    out: Counter[str] = Counter()
    main_comm, total = _stat(Path(f"/proc/{pid}/stat"))
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            comm, seconds = _stat(task / "stat")
        except (FileNotFoundError, ProcessLookupError):
            continue
        if task.name == str(pid):
            out["main thread (Faust event loop)"] += seconds
        elif comm == main_comm:
            out["other Python threads (sink, Kafka clients)"] += seconds
        else:
            out["chDB engine threads"] += seconds
    out["exited threads"] = max(total - sum(out.values()), 0.0)
    return out


def generate(events: int, now: datetime, **faults: float) -> list[SimulatedMessage]:
    """``events`` simulator messages (national mix) over the hour before ``now``."""
    config = SimulationConfig(start=now - timedelta(hours=1), seed=1, **faults)
    config = calibrate(config, events * 1.1, now)
    return list(itertools.islice(Simulator(config, now=now), events))


def accepted_events(messages: Iterable[SimulatedMessage]) -> int:
    """Distinct valid events among ``messages`` (what ``sum(window_1m.events)`` must reach)."""
    return len({m.fields["event_id"] for m in messages if m.fields is not None})


def batched(
    messages: Iterable[SimulatedMessage], *, partitions: int, batch_events: int = 500
) -> list[tuple[str, int, bytes | None, bytes]]:
    """Messages in the contract's batched form: (topic, partition, key, value).

    Events go in arrays of up to ``batch_events`` per (topic, partition of the key), as the
    SDK sends them; messages that are not JSON stay single.
    """
    out: list[tuple[str, int, bytes | None, bytes]] = []
    pending: dict[tuple[str, int], list[SimulatedMessage]] = defaultdict(list)

    def close(topic: str, partition: int) -> None:
        group = pending.pop((topic, partition))
        value = b"[" + b",".join(m.value for m in group) + b"]"
        out.append((topic, partition, group[0].key, value))

    for m in messages:
        key = m.key if m.key is not None else m.value
        partition = default_partition(key, partitions)
        try:
            orjson.loads(m.value)
        except orjson.JSONDecodeError:
            out.append((m.topic, partition, m.key, m.value))
            continue
        pending[(m.topic, partition)].append(m)
        if len(pending[(m.topic, partition)]) >= batch_events:
            close(m.topic, partition)
    for topic, partition in list(pending):
        close(topic, partition)
    return out


def publish_raw(bootstrap: str, messages: Sequence[tuple[str, int, bytes | None, bytes]]) -> float:
    """Publish pre-built messages (``acks=all``, idempotent); returns the seconds it took."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=20,
        batch_size=1024 * 1024,
        max_request_size=2 * 1024 * 1024,
    )
    started = time.perf_counter()
    for topic, partition, key, value in messages:
        producer.send(topic, key=key, value=value, partition=partition)
    producer.flush(300)
    elapsed = time.perf_counter() - started
    producer.close()
    return elapsed


class Stack:
    """A chDB folder and ``dxpulse worker`` processes on the context's broker."""

    def __init__(self, ctx: Context, name: str = "pipeline") -> None:
        self.ctx = ctx
        self.root = ctx.workdir / name
        self.home = self.root / "home"
        self.chdb = self.home / "clickhouse"
        self.logs = self.root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.env = ctx.env(
            DXPULSE_HOME=str(self.home),
            DXPULSE_CLICKHOUSE_URL=f"chdb://{self.chdb}",
            COLUMNS="200",
        )
        self.settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            home=self.home,
            kafka_bootstrap=ctx.bootstrap,
            clickhouse_url=f"chdb://{self.chdb}",
        )
        self._runs = itertools.count()

    # Housekeeping ---------------------------------------------------------------------------

    def reset(self) -> None:
        """A fresh database, no worker/sink group offsets, empty internal topics."""
        shutil.rmtree(self.home, ignore_errors=True)
        admin = KafkaAdminClient(bootstrap_servers=self.ctx.bootstrap, client_id="bench-reset")
        try:
            for group in (APP_ID, SINK_GROUP):
                with contextlib.suppress(GroupIdNotFoundError, KafkaError):
                    admin.delete_groups([group])
            doomed = [t for t in (*INTERNAL_TOPICS, DEAD_LETTER_TOPIC) if t in admin.list_topics()]
            if doomed:
                with contextlib.suppress(UnknownTopicOrPartitionError):
                    admin.delete_topics(doomed, timeout_ms=30_000)
                deadline = time.monotonic() + 30
                while set(doomed) & set(admin.list_topics()) and time.monotonic() < deadline:
                    time.sleep(0.2)
        finally:
            admin.close()
        self.cli("migrate")

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "dxpulse", *args],
            env=self.env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"dxpulse {' '.join(args)} failed: {result.stderr[-2000:]}")
        return result.stdout

    # Workers --------------------------------------------------------------------------------

    def start_workers(self, count: int) -> list[subprocess.Popen[bytes]]:
        """``count`` worker processes: the first runs the sink, the others ``--no-sink``."""
        run = next(self._runs)
        workers = []
        for i in range(count):
            args = ["worker"] if i == 0 else ["worker", "--no-sink"]
            with (self.logs / f"worker-{run}-{i}.log").open("ab") as out:
                workers.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "dxpulse", *args],
                        env=self.env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        return workers

    def check(self, workers: Sequence[subprocess.Popen[bytes]]) -> None:
        for w in workers:
            if w.poll() is not None:
                logs = sorted(self.logs.glob("worker-*.log"))
                tail = logs[-1].read_text(errors="replace")[-3000:] if logs else ""
                raise RuntimeError(f"a worker exited ({w.returncode}):\n{tail}")

    def stop_workers(self, workers: Sequence[subprocess.Popen[bytes]]) -> None:
        for w in reversed(workers):
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(90)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait(30)

    def query(self, sql: str) -> list[list[Any]]:
        """Read-only SQL answered by the worker that owns the database (None: not up yet)."""
        answer = query_owner(self.settings, sql)
        if answer is None:
            raise LookupError("no query endpoint yet")
        return answer.rows

    def try_query(self, sql: str) -> list[list[Any]] | None:
        try:
            return self.query(sql)
        except (LookupError, OSError):
            return None


def partitions_of(bootstrap: str, topic: str = SOURCE_TOPICS[0]) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="bench-meta")
    try:
        return len(consumer.partitions_for_topic(topic) or ())
    finally:
        consumer.close()
