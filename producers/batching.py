"""The producer side of the batched message form: partitioning and batch encoding.

A message on a source topic is either one event (a JSON object) or a **batch**: a JSON
array of 1 to :data:`MAX_BATCH_EVENTS` event objects, at most :data:`MAX_BATCH_BYTES`
encoded, where every event's key maps to the message's partition under Kafka's default
partitioner, ``(murmur2(key) & 0x7FFFFFFF) % partitions``, and the message key is the key
of the first event. Per-key order and co-partitioning therefore hold exactly as if each
event had been sent alone with its key.

:class:`~dxpulse.producers.EventProducer` batches validated events itself; this module
holds what it shares with producers of raw bytes (``dxpulse simulate``, benchmarks):

* :func:`murmur2` / :func:`default_partition` — Kafka's default partitioner, byte for
  byte the Java client's (and kafka-python's), about 2.5x faster than kafka-python's;
* :class:`PartitionCache` — key -> partition per topic, bounded, following partition
  count changes;
* :func:`encode_batch` — the wire bytes of a batch from pre-serialised events;
* :class:`RawBatcher` — groups pre-serialised ``(topic, key, value)`` messages into batch
  messages for a plain kafka-python producer.

Example::

    from kafka import KafkaProducer
    from dxpulse.producers.batching import RawBatcher

    producer = KafkaProducer(bootstrap_servers="127.0.0.1:9092", acks="all")
    batcher = RawBatcher(producer, batch_events=500)
    for topic, key, value in messages:      # value: one event's JSON bytes
        batcher.add(topic, key, value)
    batcher.send_all()                      # the partial batches
    producer.flush()
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from dxpulse.contracts.batch import MAX_BATCH_BYTES, MAX_BATCH_EVENTS

__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_BATCH_EVENTS",
    "PartitionCache",
    "RawBatcher",
    "default_partition",
    "encode_batch",
    "murmur2",
]


_M = 0x5BD1E995
_MASK = 0xFFFFFFFF
_SEED = 0x9747B28C
#: Unpackers of n little-endian 32-bit words, for the usual key lengths.
_WORDS = [struct.Struct(f"<{n}I").unpack_from for n in range(65)]


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 hash of ``data`` (as ``org.apache.kafka.common.utils.Utils.murmur2``).

    >>> murmur2(b"21") & 0x7FFFFFFF
    1173551340
    """
    length = len(data)
    h = _SEED ^ length
    n = length >> 2
    if n:
        unpack = _WORDS[n] if n < len(_WORDS) else struct.Struct(f"<{n}I").unpack_from
        for k in unpack(data):
            k = (k * _M) & _MASK
            k = ((k ^ (k >> 24)) * _M) & _MASK
            h = ((h * _M) & _MASK) ^ k
    extra = length & 3
    if extra:
        base = n << 2
        if extra == 3:
            h ^= data[base + 2] << 16
        if extra >= 2:
            h ^= data[base + 1] << 8
        h = ((h ^ data[base]) * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    return h ^ (h >> 15)


def default_partition(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner gives ``key`` among ``partitions``.

    >>> default_partition(b"C26TAA-0000123", 4)
    2
    """
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def encode_batch(values: Sequence[bytes]) -> bytes:
    """A batch message from the JSON bytes of its events: ``[e1,e2,...]``."""
    return b"[" + b",".join(values) + b"]"


class PartitionCache:
    """Key -> partition under the default partitioner, per topic, cached.

    Args:
        partition_count: returns a topic's current number of partitions (may block,
            e.g. on metadata); asked again every ``refresh_s`` seconds per topic.
        max_keys: keys remembered per topic; the cache is emptied when it is full.
        refresh_s: how long a topic's partition count is trusted.

    Example::

        cache = PartitionCache(lambda topic: len(producer.partitions_for(topic)))
        partition, count = cache.partition("dx.invoice.v1", b"C26TAA-0000123")
    """

    def __init__(
        self,
        partition_count: Callable[[str], int],
        *,
        max_keys: int = 100_000,
        refresh_s: float = 1.0,
    ) -> None:
        self._count_of = partition_count
        self.max_keys = max_keys
        self.refresh_s = refresh_s
        #: topic -> (partition count, when to ask again, key -> partition)
        self._topics: dict[str, tuple[int, float, dict[bytes, int]]] = {}

    def partition(self, topic: str, key: bytes) -> tuple[int, int]:
        """``(partition, partition count)`` of ``key`` on ``topic``."""
        entry = self._topics.get(topic)
        if entry is None or time.monotonic() >= entry[1]:
            entry = self._refresh(topic, entry)
        count, _, cache = entry
        partition = cache.get(key)
        if partition is None:
            partition = (murmur2(key) & 0x7FFFFFFF) % count
            if len(cache) >= self.max_keys:
                cache.clear()
            cache[key] = partition
        return partition, count

    def _refresh(
        self, topic: str, entry: tuple[int, float, dict[bytes, int]] | None
    ) -> tuple[int, float, dict[bytes, int]]:
        count = self._count_of(topic)
        if count < 1:
            raise ValueError(f"topic {topic} has no partitions")
        cache = entry[2] if entry is not None and entry[0] == count else {}
        fresh = (count, time.monotonic() + self.refresh_s, cache)
        self._topics[topic] = fresh
        return fresh


class RawBatcher:
    """Groups pre-serialised events into batch messages per (topic, partition).

    For producers of raw bytes (no validation). Events are added in publish order and
    sent when a partition's batch reaches ``batch_events`` events or ``batch_max_bytes``
    bytes, or at :meth:`send_all`; a batch of one event goes as a plain single-event
    message. :meth:`add_single` sends a message as it is (e.g. one that is not a JSON
    object and so cannot be part of an array), after the batch of its partition, so
    the order within a partition is the order of the calls.

    Args:
        producer: a kafka-python ``KafkaProducer`` (bytes in, no serialisers).
        batch_events: events per batch message, at most (1 = single-event messages).
        batch_max_bytes: encoded bytes per batch message, at most.
        on_future: called with each send's future (to attach callbacks) and the number
            of events it carries.
    """

    def __init__(
        self,
        producer: Any,
        *,
        batch_events: int = 500,
        batch_max_bytes: int = 512 * 1024,
        on_future: Callable[[Any, int], None] | None = None,
    ) -> None:
        check_batch_limits(batch_events, batch_max_bytes)
        self.producer = producer
        self.batch_events = batch_events
        self.batch_max_bytes = batch_max_bytes
        self.on_future = on_future
        self.partitions = PartitionCache(lambda topic: len(producer.partitions_for(topic)))
        #: (topic, partition) -> (first key, values, encoded size)
        self._open: dict[tuple[str, int], tuple[bytes, list[bytes], list[int]]] = {}

    def add(self, topic: str, key: bytes, value: bytes) -> None:
        """Add one event (its JSON object bytes) with its key."""
        partition, _ = self.partitions.partition(topic, key)
        slot = (topic, partition)
        batch = self._open.get(slot)
        if batch is not None and batch[2][0] + len(value) + 1 > self.batch_max_bytes:
            self._send(slot)
            batch = None
        if batch is None:
            batch = self._open[slot] = (key, [], [1])
        batch[1].append(value)
        batch[2][0] += len(value) + 1
        if len(batch[1]) >= self.batch_events:
            self._send(slot)

    def add_single(self, topic: str, key: bytes | None, value: bytes) -> None:
        """Send ``value`` as its own message, keyed, after its partition's open batch."""
        partition = None
        if key is not None:
            partition, _ = self.partitions.partition(topic, key)
            if (topic, partition) in self._open:
                self._send((topic, partition))
        self._emit(topic, key, value, partition, 1)

    def send_all(self) -> None:
        """Send every open (partial) batch."""
        for slot in list(self._open):
            self._send(slot)

    def add_many(self, messages: Iterable[tuple[str, bytes, bytes]]) -> None:
        """:meth:`add` each ``(topic, key, value)``."""
        for topic, key, value in messages:
            self.add(topic, key, value)

    def _send(self, slot: tuple[str, int]) -> None:
        key, values, _ = self._open.pop(slot)
        value = values[0] if len(values) == 1 else encode_batch(values)
        self._emit(slot[0], key, value, slot[1], len(values))

    def _emit(
        self, topic: str, key: bytes | None, value: bytes, partition: int | None, n: int
    ) -> None:
        future = self.producer.send(topic, value=value, key=key, partition=partition)
        if self.on_future is not None:
            self.on_future(future, n)


def check_batch_limits(batch_events: int, batch_max_bytes: int) -> None:
    """Raise ``ValueError`` unless the limits are within the contract's."""
    if not 1 <= batch_events <= MAX_BATCH_EVENTS:
        raise ValueError(f"batch_events must be within 1..{MAX_BATCH_EVENTS}, got {batch_events}")
    if not 1 <= batch_max_bytes <= MAX_BATCH_BYTES:
        raise ValueError(
            f"batch_max_bytes must be within 1..{MAX_BATCH_BYTES}, got {batch_max_bytes}"
        )
