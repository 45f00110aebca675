"""Reading back what the producers wrote: batched messages expanded into their events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from kafka import KafkaConsumer, TopicPartition


@dataclass(frozen=True)
class Landed:
    """One event as found on Kafka: its message's coordinates and its place in it."""

    topic: str
    partition: int
    offset: int
    index: int
    message_key: bytes | None
    batched: bool
    size: int  # events in its message
    value: bytes  # the event's JSON

    @property
    def event_id(self) -> str:
        return str(orjson.loads(self.value)["event_id"])


def expand(record: Any) -> list[Landed]:
    """The events of one consumed message (a JSON object, or an array of them)."""
    data = orjson.loads(record.value)
    batched = isinstance(data, list)
    items = data if batched else [data]
    values = [orjson.dumps(item) for item in items] if batched else [record.value]
    return [
        Landed(
            record.topic,
            record.partition,
            record.offset,
            i,
            record.key,
            batched,
            len(values),
            value,
        )
        for i, value in enumerate(values)
    ]


def consume_records(bootstrap: str, topics: list[str]) -> list[Any]:
    """Every message of ``topics``, from the beginning."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=3000)
    partitions = [
        TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or {0})
    ]
    consumer.assign(partitions)
    consumer.seek_to_beginning()
    records = list(consumer)
    consumer.close()
    return records


def consume_events(bootstrap: str, topics: list[str]) -> list[Landed]:
    """Every event of ``topics``, batched messages expanded, in partition order."""
    return [landed for record in consume_records(bootstrap, topics) for landed in expand(record)]
