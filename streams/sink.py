"""The ClickHouse sink: the one writer of dxpulse's tables.

It consumes the internal row topics and the dead-letter topic as consumer group
``<app_id>-sink`` and, per poll:

1. inserts the rows of each table as one ``JSONEachRow`` insert (thousands of rows);
2. recomputes the 1-minute windows and hourly roll-ups the rows touched (including
   completions whose ``dossier.received`` just arrived) from the de-duplicated tables;
3. commits the consumed offsets.

A crash between 1 and 3 replays the batch: the raw tables de-duplicate it and the
windows are recomputed as absolute values, so results stay exact (at-least-once delivery,
idempotent writes). When ClickHouse fails, the sink keeps the batch, pauses its
partitions (nothing more is read into memory), retries with exponential backoff and
resumes when ClickHouse is back; the workers keep processing into Kafka meanwhile.

Example::

    sink = ClickHouseSink(client, settings)
    sink.run(stop_event)          # until stop_event is set; or sink.run_once()
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from clickhouse_connect.driver.exceptions import ClickHouseError
from kafka.errors import CommitFailedError

from dxpulse.clickhouse import Client
from dxpulse.settings import Settings
from dxpulse.streams.deadletter import dead_letter_row
from dxpulse.streams.health import HealthSampler
from dxpulse.streams.rowbatch import decode, is_row_batch
from dxpulse.streams.topics import DEAD_LETTER_TOPIC, TABLE_OF_TOPIC
from dxpulse.streams.windows import Span, coalesce_spans, rollup_sql, window_sql

__all__ = ["BatchStats", "ClickHouseSink"]

log = logging.getLogger(__name__)

_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class BatchStats:
    """What one batch wrote, for logs and pipeline health."""

    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    spans: int = 0
    late: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    dead_letters: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    newest: dict[tuple[str, int], datetime] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _parse_time(text: str) -> datetime:
    """A row time: Unix seconds ("1763604900.123") or, in older rows, "YYYY-MM-DD hh:mm:ss.fff"."""
    if "-" not in text:
        return datetime.fromtimestamp(int(text[:-4]), UTC).replace(
            microsecond=int(text[-3:]) * 1000
        )
    return datetime.strptime(text + "000", _TIME_FORMAT).replace(tzinfo=UTC)


class ClickHouseSink:
    """Write the pipeline's rows and dead letters to ClickHouse, exactly once in effect.

    Args:
        client: the ClickHouse client (the sink owns it while running).
        settings: bootstrap address, database, grace period.
        group_id: Kafka consumer group of the sink.
        worker_group: consumer group of the stream workers (for lag in pipeline health).
        max_rows: most rows per write (a row-batch message is never split, so a write
            may exceed it by one message).
        min_rows / linger_s: once messages arrive, wait up to ``linger_s`` for
            ``min_rows`` rows before writing (fewer, fuller writes; adds <= linger_s).
        health_interval_s: how often to sample pipeline health.
        retry_max_s: longest pause between ClickHouse retries.
        insert_hook: called before each batch is written (tests use it to inject failures).
    """

    def __init__(
        self,
        client: Client,
        settings: Settings,
        *,
        group_id: str = "dxpulse-sink",
        worker_group: str = "dxpulse-worker",
        max_rows: int = 200_000,
        min_rows: int = 50_000,
        linger_s: float = 0.5,
        health_interval_s: float = 5.0,
        retry_max_s: float = 10.0,
        insert_hook: Callable[[], None] | None = None,
    ) -> None:
        from kafka import KafkaConsumer

        self.client = client
        self.settings = settings
        self.database = settings.database
        self.max_rows = max_rows
        self.min_rows = min(min_rows, max_rows)
        self.linger_s = linger_s
        self.retry_max_s = retry_max_s
        self.insert_hook = insert_hook
        self.consumer = KafkaConsumer(
            *TABLE_OF_TOPIC,
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=group_id,
            client_id="dxpulse-sink",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=1000,
            max_poll_interval_ms=600_000,
            session_timeout_ms=30_000,
            fetch_max_bytes=64 * 1024 * 1024,
        )
        self.health = HealthSampler(
            client,
            settings,
            consumer=self.consumer,
            worker_group=worker_group,
            interval_s=health_interval_s,
        )
        self.written = 0
        self.failures = 0

    # Public ------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Consume and write until ``stop`` is set; then commit and close."""
        log.info("sink started (database %s)", self.database)
        try:
            while not stop.is_set():
                self.run_once(stop=stop)
        finally:
            self.close()

    def run_once(self, *, timeout_ms: int = 500, stop: threading.Event | None = None) -> int:
        """One poll -> write -> commit cycle; returns the number of rows written.

        After the first messages arrive it keeps polling for up to ``linger_s`` or until
        ``min_rows`` rows: a write costs about the same for 3,000 or 30,000 rows (the
        window recomputation dominates), so fuller batches leave CPU to the workers.
        """
        messages: list[Any] = []
        rows = 0
        deadline = None
        while rows < self.max_rows:
            wait_ms = timeout_ms
            if deadline is not None:
                if rows >= self.min_rows or time.monotonic() >= deadline:
                    break
                wait_ms = min(max(int((deadline - time.monotonic()) * 1000), 1), 200)
            polled = self.consumer.poll(timeout_ms=wait_ms, max_records=1000)
            for batch in polled.values():
                for message in batch:
                    messages.append(message)
                    rows += rows_in(message)
            if deadline is None:
                if not messages:
                    break
                deadline = time.monotonic() + self.linger_s
        if messages:
            stats = self._write_with_retry(messages, stop)
            if stats is None:  # stopped while ClickHouse was down: do not commit
                return 0
            try:
                self.consumer.commit()
            except CommitFailedError as exc:  # a rebalance: the batch is replayed, harmlessly
                log.warning("offset commit failed (%s); the batch will be replayed", exc)
            self.written += rows
            self.health.record(stats)
        self.health.maybe_sample()
        return rows

    def close(self) -> None:
        try:
            self.health.sample()
        except ClickHouseError as exc:
            log.warning("final health sample failed: %s", exc)
        self.health.close()
        self.consumer.close()

    # Writing ----------------------------------------------------------------------------

    def _write_with_retry(
        self, messages: list[Any], stop: threading.Event | None
    ) -> BatchStats | None:
        delay = 0.5
        while True:
            try:
                if self.insert_hook is not None:
                    self.insert_hook()
                return self.write(messages)
            except ClickHouseError as exc:
                self.failures += 1
                log.warning("ClickHouse write failed (%s); retrying in %.1f s", exc, delay)
                assignment = self.consumer.assignment()
                self.consumer.pause(*assignment)
                deadline = time.monotonic() + delay
                while time.monotonic() < deadline:
                    if stop is not None and stop.is_set():
                        self.consumer.resume(*assignment)
                        return None
                    self.consumer.poll(timeout_ms=100)  # keeps group membership; paused: no data
                self.consumer.resume(*assignment)
                delay = min(delay * 2, self.retry_max_s)

    def write(self, messages: list[Any]) -> BatchStats:
        """Insert ``messages`` and recompute the windows they touch."""
        stats = BatchStats()
        by_table: dict[str, list[bytes]] = defaultdict(list)
        points: set[tuple[str, datetime]] = set()
        minutes: set[tuple[str, int]] = set()
        received_ids: list[str] = []
        for message in messages:
            table = TABLE_OF_TOPIC[message.topic]
            if message.topic == DEAD_LETTER_TOPIC:
                row = dead_letter_row(message.value)
                by_table[table].append(orjson.dumps(row))
                source = (row["source_topic"], row["source_partition"])
                stats.dead_letters[source] += 1
            elif is_row_batch(message.headers):
                batch = decode(message.value)
                header = batch.header
                by_table[table].append(batch.rows)
                stats.rows[table] += batch.count
                minutes.update((loc, minute) for loc, minute in header["points"])
                received_ids += header["received"]
                source = (header["source_topic"], header["source_partition"])
                stats.late[source] += header["late"]
                newest = datetime.fromtimestamp(header["newest_ms"] / 1000, UTC)
                if source not in stats.newest or newest > stats.newest[source]:
                    stats.newest[source] = newest
            else:  # one row per message: the form before row batches
                by_table[table].append(message.value)
                stats.rows[table] += 1
                self._single_row(orjson.loads(message.value), stats, points, received_ids)
        points |= {(loc, _EPOCH + timedelta(minutes=minute)) for loc, minute in minutes}
        for table, chunks in by_table.items():
            self.client.raw_insert(
                f"{self.database}.{table}",
                None,
                b"\n".join(chunks),
                fmt="JSONEachRow",
                # Copies of an event are collapsed by FINAL and by merges; doing it again
                # for every inserted block costs a sort and a merge of the whole block.
                settings={"optimize_on_insert": 0},
            )
            if table == "dead_letters":
                stats.rows[table] += len(chunks)
        if received_ids:
            points |= self._completions_of(received_ids)
        if points:
            spans = coalesce_spans(points)
            stats.spans = len(spans)
            version = time.time_ns()
            grace_s = self.settings.window_grace_seconds
            for chunk in _chunks(spans, 200):
                self.client.command(
                    window_sql(self.database, chunk, version=version, grace_seconds=grace_s)
                )
                self.client.command(rollup_sql(self.database, chunk, version=version))
        return stats

    def _single_row(
        self,
        row: dict[str, Any],
        stats: BatchStats,
        points: set[tuple[str, datetime]],
        received_ids: list[str],
    ) -> None:
        grace = timedelta(seconds=60 + self.settings.window_grace_seconds)
        occurred = _parse_time(row["occurred_at"])
        minute = occurred.replace(second=0, microsecond=0)
        points.add((row["locality_code"], minute))
        source = (row["source_topic"], row["source_partition"])
        if _parse_time(row["published_at"]) > minute + grace:
            stats.late[source] += 1
        if source not in stats.newest or occurred > stats.newest[source]:
            stats.newest[source] = occurred
        if row["event_type"] == "dossier.received":
            received_ids.append(row["dossier_id"])

    def _completions_of(self, dossier_ids: list[str]) -> set[tuple[str, datetime]]:
        """Windows of completions that were waiting for these dossiers' received events."""
        result = self.client.query(
            f"SELECT DISTINCT locality_code, toStartOfMinute(occurred_at) "
            f"FROM {self.database}.dossier_events "
            "WHERE event_type = 'dossier.completed' AND dossier_id IN {ids:Array(String)}",
            parameters={"ids": dossier_ids},
        )
        return {(str(loc), minute.replace(tzinfo=UTC)) for loc, minute in result.result_rows}


def rows_in(message: Any) -> int:
    """Rows a consumed message carries: a row batch's count, else 1."""
    if is_row_batch(message.headers):
        head = message.value[: message.value.index(b"\n")]
        return int(orjson.loads(head)["rows"])
    return 1


def _chunks(items: list[Span], size: int) -> list[list[Span]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
