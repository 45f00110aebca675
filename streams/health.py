"""Pipeline health: lag, throughput, dead letters, late events and freshness, every few seconds.

The sink owns a :class:`HealthSampler`. It records what each written batch contained and,
every ``interval_s``, writes one ``pipeline_health`` row per (component, topic, partition):

* ``workers``: the stream workers' consumer group on the source topics — committed
  offset, end offset, lag, messages/s, dead letters and late events from that partition,
  and the newest event time written from it (freshness);
* ``sink``: the sink's own group on the internal topics — committed offset, end offset, lag.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dxpulse.clickhouse import Client
from dxpulse.settings import Settings
from dxpulse.streams.topics import SOURCE_TOPICS, TABLE_OF_TOPIC

if TYPE_CHECKING:
    from dxpulse.streams.sink import BatchStats

__all__ = ["HEALTH_COLUMNS", "HealthSampler"]

log = logging.getLogger(__name__)

HEALTH_COLUMNS = [
    "sampled_at",
    "component",
    "topic",
    "partition",
    "committed_offset",
    "end_offset",
    "lag",
    "events_per_s",
    "dead_letters",
    "late_events",
    "newest_event_time",
]


class HealthSampler:
    """Collects batch statistics and writes ``pipeline_health`` samples."""

    def __init__(
        self,
        client: Client,
        settings: Settings,
        *,
        consumer: Any,
        worker_group: str,
        interval_s: float = 5.0,
    ) -> None:
        self.client = client
        self.database = settings.database
        self.bootstrap = settings.kafka_bootstrap
        self.consumer = consumer
        self.worker_group = worker_group
        self.interval_s = interval_s
        self._last_sample = 0.0
        self._last_offsets: dict[tuple[str, str, int], tuple[int, float]] = {}
        self._dead: dict[tuple[str, int], int] = defaultdict(int)
        self._late: dict[tuple[str, int], int] = defaultdict(int)
        self._newest: dict[tuple[str, int], datetime] = {}
        self._admin: Any = None

    def record(self, stats: BatchStats) -> None:
        for source, n in stats.dead_letters.items():
            self._dead[source] += n
        for source, n in stats.late.items():
            self._late[source] += n
        for source, when in stats.newest.items():
            if source not in self._newest or when > self._newest[source]:
                self._newest[source] = when

    def maybe_sample(self) -> None:
        if time.monotonic() - self._last_sample >= self.interval_s:
            self.sample()

    def sample(self) -> None:
        """Write one sample now."""
        from kafka import TopicPartition

        self._last_sample = time.monotonic()
        now = datetime.now(UTC)
        worker_committed = self._group_offsets(self.worker_group)
        sink_committed = {
            (tp.topic, tp.partition): offset
            for tp in self.consumer.assignment()
            if (offset := self.consumer.committed(tp)) is not None
        }
        partitions: list[Any] = []
        for topic in (*SOURCE_TOPICS, *TABLE_OF_TOPIC):
            for p in self.consumer.partitions_for_topic(topic) or ():
                partitions.append(TopicPartition(topic, p))
        ends = self.consumer.end_offsets(partitions) if partitions else {}
        rows: list[list[Any]] = []
        mono = time.monotonic()
        for tp in partitions:
            source = tp.topic in SOURCE_TOPICS
            component = "workers" if source else "sink"
            committed = (worker_committed if source else sink_committed).get(
                (tp.topic, tp.partition), 0
            )
            end = int(ends.get(tp, 0))
            key = (component, tp.topic, tp.partition)
            rate = 0.0
            if key in self._last_offsets:
                before, at = self._last_offsets[key]
                if mono > at:
                    rate = max(committed - before, 0) / (mono - at)
            self._last_offsets[key] = (committed, mono)
            src = (tp.topic, tp.partition)
            rows.append(
                [
                    now,
                    component,
                    tp.topic,
                    tp.partition,
                    committed,
                    end,
                    max(end - committed, 0),
                    rate,
                    self._dead.pop(src, 0) if source else 0,
                    self._late.pop(src, 0) if source else 0,
                    self._newest.get(src) if source else None,
                ]
            )
        if rows:
            self.client.insert(
                f"{self.database}.pipeline_health", rows, column_names=HEALTH_COLUMNS
            )

    def _group_offsets(self, group: str) -> dict[tuple[str, int], int]:
        from kafka.admin import KafkaAdminClient
        from kafka.errors import KafkaError

        try:
            if self._admin is None:
                self._admin = KafkaAdminClient(
                    bootstrap_servers=self.bootstrap, client_id="dxpulse-health"
                )
            offsets = self._admin.list_group_offsets({group: None})
        except KafkaError as exc:
            log.debug("cannot read offsets of group %s yet: %s", group, exc)
            return {}
        found = offsets.get(group) or {}
        result: dict[tuple[str, int], int] = {}
        for tp, meta in found.items():
            offset = getattr(meta, "offset", meta)
            if isinstance(offset, int) and offset >= 0:
                result[(tp.topic, tp.partition)] = offset
        return result

    def close(self) -> None:
        if self._admin is not None:
            self._admin.close()
