"""The agency SDK: publish validated dxpulse events to Kafka.

Example::

    import os
    from dxpulse.producers import EventProducer, pseudonymize

    with EventProducer(os.environ.get("DXPULSE_KAFKA_BOOTSTRAP", "127.0.0.1:9092")) as producer:
        pending = producer.send({
            "event_type": "dossier.received",
            "occurred_at": "2026-11-20T09:15:00+07:00",
            "agency_code": "HN.MOTCUA",
            "locality_code": "01",
            "schema_version": 1,
            "dossier_id": "000.00.01.H26-261120-0001",
            "procedure_code": "1.004227",
            "channel": "online",
            "online_level": "full",
            "due_at": "2026-11-27T17:00:00+07:00",
            "fee_required": True,
            "applicant_type": "citizen",
            "applicant_ref": pseudonymize("001204012345", os.environ["AGENCY_PSEUDONYM_KEY"]),
        })
        print(pending.event.event_id)        # generated, since the dict had none
        delivery = pending.result(timeout=30)  # or rely on flush() at the end of the block
        print(delivery.partition, delivery.offset)

What it does for you:

* validates every event against the contract before sending; an invalid event raises
  :class:`~dxpulse.contracts.EventValidationError` listing every bad field and why;
* fills ``event_id`` (a UUID) and ``schema_version`` when a dict has none — keep the
  returned ``pending.event`` and re-send *that* to retry safely: the same ``event_id``
  counts once downstream;
* picks the topic and the key (``dossier_id``, ``invoice_id`` or ``payment_id``);
* serialises with orjson; sends with ``acks=all`` through an idempotent producer that
  retries with backoff, batching with ``linger_ms``/``batch_size``;
* bounds what waits in memory (``max_buffered_events``/``max_buffered_bytes``): when the
  broker is slower than you, ``send`` waits up to ``max_block_ms`` and then raises
  :class:`BufferFullError`;
* surfaces delivery failures: per-send ``on_delivery`` callbacks, ``pending.result()``,
  and ``flush()``, which raises :class:`DeliveryError` for failures nobody handled.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from dxpulse.contracts import EventBase, validate_event
from dxpulse.errors import KafkaError, KafkaUnavailableError
from dxpulse.settings import Settings

__all__ = [
    "BufferFullError",
    "Delivery",
    "DeliveryCallback",
    "DeliveryError",
    "EventProducer",
    "PendingDelivery",
    "ProducerClosedError",
    "ProducerStats",
]

log = logging.getLogger(__name__)


class BufferFullError(KafkaError):
    """``send`` waited ``max_block_ms`` for room in the bounded buffer and found none."""


class DeliveryError(KafkaError):
    """Events could not be delivered; ``failures`` lists them with their errors."""

    def __init__(self, failures: list[Delivery]) -> None:
        self.failures = failures
        first = failures[0]
        super().__init__(
            f"{len(failures)} event(s) were not delivered; first: event_id {first.event_id} "
            f"to {first.topic}: {first.error!r}"
        )


class ProducerClosedError(KafkaError):
    """The producer was closed."""


@dataclass(frozen=True)
class Delivery:
    """Outcome of one send: where the event landed, or why it did not."""

    event_id: str
    event_type: str
    topic: str
    key: str
    partition: int | None = None
    offset: int | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


DeliveryCallback = Callable[[Delivery], None]


@dataclass
class ProducerStats:
    """Counters since the producer was created."""

    sent: int = 0
    delivered: int = 0
    failed: int = 0
    buffered_events: int = 0
    buffered_bytes: int = 0


class PendingDelivery:
    """Returned by :meth:`EventProducer.send`: the validated event and its coming delivery."""

    def __init__(self, event: EventBase, future: Any) -> None:
        self.event = event
        self._future = future
        self._done = threading.Event()
        self._delivery: Delivery | None = None

    def _complete(self, delivery: Delivery) -> None:
        self._delivery = delivery
        self._done.set()

    def done(self) -> bool:
        return self._done.is_set()

    def result(self, timeout: float | None = None) -> Delivery:
        """Wait for the outcome; raise :class:`DeliveryError` if the event was not delivered."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"event {self.event.event_id} not acknowledged within {timeout} s")
        assert self._delivery is not None
        if self._delivery.error is not None:
            raise DeliveryError([self._delivery])
        return self._delivery


@dataclass
class _State:
    lock: threading.Condition = field(default_factory=threading.Condition)
    stats: ProducerStats = field(default_factory=ProducerStats)
    unhandled: list[Delivery] = field(default_factory=list)


class EventProducer:
    """Validated, idempotent publishing of dxpulse events (kafka-python underneath).

    Args:
        bootstrap_servers: Kafka ``host:port`` (comma-separated for several).
        client_id: shown in broker logs and metrics; name your system.
        linger_ms: how long to wait to fill a batch (latency vs throughput).
        batch_size: maximum bytes per partition batch.
        compression_type: ``None``, ``"gzip"``, ``"lz4"``, ``"snappy"`` or ``"zstd"``
            (lz4, snappy and zstd need their Python packages).
        max_buffered_events: events accepted but not yet acknowledged, at most.
        max_buffered_bytes: bytes of such events, at most.
        max_block_ms: how long ``send`` waits for buffer room or topic metadata.
        delivery_timeout_ms: upper bound on retries for one event before it fails.
        request_timeout_ms: how long to wait for one broker response.
        retry_backoff_ms: pause between retries.
        on_delivery: called (on the producer's I/O thread) with every :class:`Delivery`;
            a failed delivery passed to a callback is considered handled.
        bootstrap_timeout_ms: how long to wait for the first broker connection.
        **kafka_config: further kafka-python ``KafkaProducer`` settings (security, SASL...).
    """

    def __init__(
        self,
        bootstrap_servers: str = "127.0.0.1:9092",
        *,
        client_id: str = "dxpulse-sdk",
        linger_ms: int = 10,
        batch_size: int = 128 * 1024,
        compression_type: str | None = None,
        max_buffered_events: int = 100_000,
        max_buffered_bytes: int = 64 * 1024 * 1024,
        max_block_ms: int = 10_000,
        delivery_timeout_ms: int = 120_000,
        request_timeout_ms: int = 30_000,
        retry_backoff_ms: int = 100,
        on_delivery: DeliveryCallback | None = None,
        bootstrap_timeout_ms: int = 10_000,
        **kafka_config: Any,
    ) -> None:
        from kafka import KafkaProducer
        from kafka.errors import KafkaError as KafkaClientError

        if max_buffered_events < 1 or max_buffered_bytes < 1:
            raise ValueError("max_buffered_events and max_buffered_bytes must be positive")
        self.bootstrap_servers = bootstrap_servers
        self.max_buffered_events = max_buffered_events
        self.max_buffered_bytes = max_buffered_bytes
        self.max_block_ms = max_block_ms
        self.on_delivery = on_delivery
        self._state = _State()
        self._closed = False
        try:
            self._producer = KafkaProducer(
                bootstrap_servers=bootstrap_servers,
                client_id=client_id,
                acks="all",
                enable_idempotence=True,
                linger_ms=linger_ms,
                batch_size=batch_size,
                compression_type=compression_type,
                max_block_ms=max_block_ms,
                delivery_timeout_ms=delivery_timeout_ms,
                request_timeout_ms=request_timeout_ms,
                retry_backoff_ms=retry_backoff_ms,
                bootstrap_timeout_ms=bootstrap_timeout_ms,
                **kafka_config,
            )
        except KafkaClientError as exc:
            raise KafkaUnavailableError(
                f"cannot connect to Kafka at {bootstrap_servers}: {exc}"
            ) from exc

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> EventProducer:
        """A producer for ``settings.kafka_bootstrap``; keyword arguments as for the constructor."""
        return cls(settings.kafka_bootstrap, **kwargs)

    # Sending ------------------------------------------------------------------------------

    def send(
        self,
        event: EventBase | Mapping[str, Any],
        *,
        on_delivery: DeliveryCallback | None = None,
    ) -> PendingDelivery:
        """Validate and enqueue one event; returns at once with a :class:`PendingDelivery`.

        Raises :class:`~dxpulse.contracts.EventValidationError` (nothing sent),
        :class:`BufferFullError`, or :class:`ProducerClosedError`.
        """
        if self._closed:
            raise ProducerClosedError("the producer is closed")
        model = self._validated(event)
        value = model.to_json()
        key = model.key.encode("utf-8")
        self._reserve(len(value) + len(key))
        from kafka.errors import KafkaError as KafkaClientError

        try:
            future = self._producer.send(model.topic, value=value, key=key)
        except KafkaClientError as exc:
            self._release(len(value) + len(key))
            raise KafkaUnavailableError(
                f"could not enqueue event {model.event_id} for {model.topic}: {exc}"
            ) from exc
        pending = PendingDelivery(model, future)
        size = len(value) + len(key)
        callback = on_delivery or self.on_delivery
        future.add_callback(self._on_success, pending, size, callback)
        future.add_errback(self._on_failure, pending, size, callback)
        return pending

    def send_many(self, events: Iterable[EventBase | Mapping[str, Any]]) -> list[PendingDelivery]:
        """:meth:`send` each event; stops at the first invalid one (earlier ones stay sent)."""
        return [self.send(e) for e in events]

    def flush(self, timeout: float | None = None) -> ProducerStats:
        """Wait until every enqueued event is acknowledged or failed.

        Raises :class:`DeliveryError` listing failures no ``on_delivery`` callback handled
        (each is reported once).
        """
        from kafka.errors import KafkaTimeoutError

        try:
            self._producer.flush(timeout=timeout)
        except KafkaTimeoutError as exc:
            raise TimeoutError(f"flush did not complete within {timeout} s") from exc
        with self._state.lock:
            failures, self._state.unhandled = self._state.unhandled, []
            stats = ProducerStats(**vars(self._state.stats))
        if failures:
            raise DeliveryError(failures)
        return stats

    def close(self, timeout: float | None = 30.0) -> None:
        """Flush and close. Raises :class:`DeliveryError` if events were not delivered."""
        if self._closed:
            return
        try:
            self.flush(timeout=timeout)
        finally:
            self._closed = True
            self._producer.close(timeout=timeout)

    @property
    def stats(self) -> ProducerStats:
        with self._state.lock:
            return ProducerStats(**vars(self._state.stats))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:  # do not hide the original error behind a delivery error
            try:
                self.close()
            except KafkaError as close_error:
                log.error("while closing after an error: %s", close_error)

    # Internals ----------------------------------------------------------------------------

    @staticmethod
    def _validated(event: EventBase | Mapping[str, Any]) -> EventBase:
        if isinstance(event, EventBase):
            return event
        data = dict(event)
        data.setdefault("event_id", str(uuid.uuid4()))
        data.setdefault("schema_version", 1)
        model: EventBase = validate_event(data)
        return model

    def _reserve(self, size: int) -> None:
        state = self._state
        deadline = time.monotonic() + self.max_block_ms / 1000
        with state.lock:
            while (
                state.stats.buffered_events + 1 > self.max_buffered_events
                or state.stats.buffered_bytes + size > self.max_buffered_bytes
            ) and state.stats.buffered_events > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise BufferFullError(
                        f"the producer buffer is full ({state.stats.buffered_events} events, "
                        f"{state.stats.buffered_bytes} bytes awaiting acknowledgement; limits "
                        f"{self.max_buffered_events} events / {self.max_buffered_bytes} bytes) "
                        f"and did not drain within {self.max_block_ms} ms: the broker at "
                        f"{self.bootstrap_servers} is slow or unreachable. Retry later, call "
                        "flush(), or raise max_buffered_events / max_block_ms."
                    )
                state.lock.wait(remaining)
            state.stats.buffered_events += 1
            state.stats.buffered_bytes += size
            state.stats.sent += 1

    def _release(self, size: int) -> None:
        with self._state.lock:
            self._state.stats.buffered_events -= 1
            self._state.stats.buffered_bytes -= size
            self._state.stats.sent -= 1
            self._state.lock.notify_all()

    def _on_success(
        self, pending: PendingDelivery, size: int, callback: DeliveryCallback | None, meta: Any
    ) -> None:
        delivery = Delivery(
            pending.event.event_id,
            pending.event.event_type,
            pending.event.topic,
            pending.event.key,
            partition=meta.partition,
            offset=meta.offset,
        )
        self._finish(pending, size, delivery, callback)

    def _on_failure(
        self,
        pending: PendingDelivery,
        size: int,
        callback: DeliveryCallback | None,
        error: BaseException,
    ) -> None:
        delivery = Delivery(
            pending.event.event_id,
            pending.event.event_type,
            pending.event.topic,
            pending.event.key,
            error=error,
        )
        log.warning("delivery of event %s failed: %r", delivery.event_id, error)
        self._finish(pending, size, delivery, callback)

    def _finish(
        self,
        pending: PendingDelivery,
        size: int,
        delivery: Delivery,
        callback: DeliveryCallback | None,
    ) -> None:
        with self._state.lock:
            stats = self._state.stats
            stats.buffered_events -= 1
            stats.buffered_bytes -= size
            if delivery.ok:
                stats.delivered += 1
            else:
                stats.failed += 1
                if callback is None:
                    self._state.unhandled.append(delivery)
            self._state.lock.notify_all()
        pending._complete(delivery)
        if callback is not None:
            try:
                callback(delivery)
            except Exception:  # a user callback must not kill the I/O thread
                log.exception("on_delivery callback raised for event %s", delivery.event_id)
