"""The Faust application: one agent per source topic.

Example::

    from dxpulse import Settings
    from dxpulse.streams.app import create_app

    app = create_app(Settings())
    # run it with dxpulse.streams.worker.run_worker(app, ...) or `dxpulse worker`

Each agent reads its topic in batches of messages (each message one event or a batch of
events), validates every event with the contract models, and produces the normalised rows
to the family's internal topic, many rows per message (see :mod:`dxpulse.streams.rowbatch`),
and a dead letter per rejected event to ``dx.deadletter.v1``. Agents keep no state of their own: de-duplication, the dossier
lifecycle join and the window aggregates are computed by the sink from what ClickHouse
holds exactly once, so a crash or a rebalance can only cause replays, which change
nothing. Delivery is at-least-once: Faust flushes the producer before it commits source
offsets.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import faust

from dxpulse.errors import ConfigurationError
from dxpulse.settings import Settings
from dxpulse.streams.processor import process
from dxpulse.streams.rowbatch import FORMAT_HEADER, RowBatcher
from dxpulse.streams.topics import DEAD_LETTER_TOPIC, PARTITIONS, ROW_TOPICS, SOURCE_TOPICS

__all__ = ["APP_ID", "STORES", "create_app"]

log = logging.getLogger(__name__)

#: Faust application id = the workers' Kafka consumer group.
APP_ID = "dxpulse-worker"
#: Table stores the worker accepts (``--store``).
STORES = {"memory": "memory://", "rocksdb": "rocksdb://"}


def create_app(
    settings: Settings,
    *,
    app_id: str = APP_ID,
    store: str = "memory",
    batch_size: int = 200,
    batch_within_s: float = 0.2,
    session_timeout_s: float = 10.0,
) -> faust.App:
    """Build the Faust app for ``settings.kafka_bootstrap``.

    Args:
        app_id: consumer group and prefix of Faust's own topics.
        store: ``memory`` or ``rocksdb`` (needs the ``rocksdict`` package) for Faust tables.
            The agents keep no table state today (everything stateful lives in ClickHouse),
            so the store matters only for tables added later.
        batch_size / batch_within_s: an agent handles up to ``batch_size`` messages (each
            up to 1,000 events), or what arrived within ``batch_within_s``, per step.
        session_timeout_s: how soon a dead worker's partitions move to the others.
    """
    if store not in STORES:
        raise ConfigurationError(f"--store must be one of {sorted(STORES)}, got {store!r}")
    if store == "rocksdb" and importlib.util.find_spec("rocksdict") is None:
        raise ConfigurationError(
            "the rocksdb store needs the rocksdict package: pip install 'dxpulse[rocksdb]'"
        )
    datadir = settings.home / "faust"
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store=STORES[store],
        datadir=str(datadir),
        topic_partitions=PARTITIONS,
        topic_replication_factor=1,
        key_serializer="raw",
        value_serializer="raw",
        consumer_auto_offset_reset="earliest",
        processing_guarantee="at_least_once",
        broker_session_timeout=session_timeout_s,
        broker_heartbeat_interval=1.0,
        broker_commit_interval=1.0,
        producer_acks=-1,
        producer_linger_ms=5,
        web_enabled=False,
    )
    outputs = {
        name: app.topic(name, partitions=PARTITIONS, key_type=bytes, value_type=bytes)
        for name in (*ROW_TOPICS.values(), DEAD_LETTER_TOPIC)
    }
    for source in SOURCE_TOPICS:
        channel = app.topic(source, partitions=PARTITIONS, key_type=bytes, value_type=bytes)
        family = source.split(".")[1]
        app.agent(channel, name=f"dxpulse.process_{family}")(
            _agent(
                outputs,
                RowBatcher(ROW_TOPICS[source], grace_seconds=settings.window_grace_seconds),
                batch_size,
                batch_within_s,
            )
        )
    return app


def _agent(
    outputs: dict[str, Any], batcher: RowBatcher, batch_size: int, within: float
) -> Callable[[Any], Coroutine[Any, Any, None]]:
    dead_letters = outputs[DEAD_LETTER_TOPIC]
    headers = [FORMAT_HEADER]

    async def agent(stream: Any) -> None:
        async for events in stream.take_events(batch_size, within=within):
            now = datetime.now(UTC)
            for event in events:
                message = event.message
                out = process(
                    message.topic,
                    partition=message.partition,
                    offset=message.offset,
                    timestamp_ms=int(message.timestamp * 1000),
                    key=message.key,
                    value=message.value,
                    now=now,
                )
                batcher.add(
                    out.rows,
                    out.occurred_ms,
                    published_ms=out.published_ms,
                    source_topic=message.topic,
                    source_partition=message.partition,
                )
                # Buffered; Faust flushes the producer before it commits source offsets.
                for key, letter in out.dead_letters:
                    dead_letters.send_soon(key=key, value=letter)
            for batch in batcher.drain():
                outputs[batch.topic].send_soon(
                    key=batch.key, value=batch.value, partition=batch.partition, headers=headers
                )

    return agent
