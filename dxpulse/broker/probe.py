"""Ask a Kafka broker for metadata: is anything answering at the bootstrap address?

Example::

    from dxpulse.broker.probe import broker_answers, require_kafka

    if not broker_answers("127.0.0.1:9092", timeout_s=2):
        ...
    require_kafka("127.0.0.1:9092")   # raises KafkaUnavailableError with a hint
"""

from __future__ import annotations

import logging
import socket

from dxpulse.errors import KafkaUnavailableError

__all__ = ["broker_answers", "require_kafka", "topic_names"]

log = logging.getLogger(__name__)


def _split(bootstrap: str) -> tuple[str, int]:
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    return host, int(port)


def topic_names(bootstrap: str, *, timeout_s: float = 5.0) -> set[str]:
    """Topic names from a metadata request. Raises :class:`KafkaUnavailableError`."""
    host, port = _split(bootstrap)
    # A plain TCP check first: kafka-python's own retries take much longer to give up.
    try:
        with socket.create_connection((host, port), timeout=min(timeout_s, 3.0)):
            pass
    except OSError as exc:
        raise KafkaUnavailableError(
            f"no Kafka broker at {bootstrap} ({exc.strerror or exc}); start one with "
            "`dxpulse kafka start` or set DXPULSE_KAFKA_BOOTSTRAP"
        ) from exc

    from kafka import KafkaConsumer
    from kafka.errors import KafkaError as KafkaClientError

    timeout_ms = int(timeout_s * 1000)
    try:
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            request_timeout_ms=max(timeout_ms, 1000) + 500,
            bootstrap_timeout_ms=timeout_ms,
            connections_max_idle_ms=max(timeout_ms, 1000) + 1000,
            client_id="dxpulse-probe",
        )
    except KafkaClientError as exc:
        raise KafkaUnavailableError(f"Kafka at {bootstrap} does not answer: {exc}") from exc
    try:
        return set(consumer.topics())
    except KafkaClientError as exc:
        raise KafkaUnavailableError(f"Kafka at {bootstrap} does not answer: {exc}") from exc
    finally:
        consumer.close()


def broker_answers(bootstrap: str, *, timeout_s: float = 5.0) -> bool:
    """True when a broker at ``bootstrap`` answers a metadata request."""
    try:
        topic_names(bootstrap, timeout_s=timeout_s)
    except KafkaUnavailableError as exc:
        log.debug("probe of %s failed: %s", bootstrap, exc)
        return False
    return True


def require_kafka(bootstrap: str, *, timeout_s: float = 5.0) -> None:
    """Raise :class:`KafkaUnavailableError` unless a broker answers at ``bootstrap``."""
    topic_names(bootstrap, timeout_s=timeout_s)
