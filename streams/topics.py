"""Kafka topics the stream processors read and write.

Source topics (the wire contract): ``dx.dossier.v1``, ``dx.invoice.v1``, ``dx.payment.v1``.
Dead letters: ``dx.deadletter.v1`` (public: agencies may watch their rejects).
Internal topics carry normalised rows, one topic per ClickHouse raw table, each message a
JSON object whose keys are that table's columns; the sink writes them unchanged
(``JSONEachRow``), so the workers decide every value.
"""

from __future__ import annotations

import contextlib

from dxpulse.contracts import DEAD_LETTER_TOPIC, DOSSIER_TOPIC, INVOICE_TOPIC, PAYMENT_TOPIC

__all__ = [
    "DEAD_LETTER_TOPIC",
    "INTERNAL_TOPICS",
    "PARTITIONS",
    "ROW_TOPICS",
    "SOURCE_TOPICS",
    "TABLE_OF_TOPIC",
    "ensure_topics",
]

#: Partitions of every dxpulse topic: the most worker processes that can share a topic.
PARTITIONS = 4

SOURCE_TOPICS = (DOSSIER_TOPIC, INVOICE_TOPIC, PAYMENT_TOPIC)

#: source topic -> internal topic of its normalised rows.
ROW_TOPICS = {
    DOSSIER_TOPIC: "dx.internal.dossier_events.v1",
    INVOICE_TOPIC: "dx.internal.invoice_events.v1",
    PAYMENT_TOPIC: "dx.internal.payment_events.v1",
}

#: topic the sink reads -> ClickHouse table it writes.
TABLE_OF_TOPIC = {
    ROW_TOPICS[DOSSIER_TOPIC]: "dossier_events",
    ROW_TOPICS[INVOICE_TOPIC]: "invoice_events",
    ROW_TOPICS[PAYMENT_TOPIC]: "payment_events",
    DEAD_LETTER_TOPIC: "dead_letters",
}

INTERNAL_TOPICS = tuple(ROW_TOPICS.values())


def ensure_topics(
    bootstrap: str, *, partitions: int = PARTITIONS, timeout_s: float = 30.0
) -> list[str]:
    """Create every dxpulse topic that does not exist yet; return the ones created.

    Workers call this before they subscribe: a consumer group cannot be assigned a
    topic that does not exist, and topics created later would need a rebalance.
    """
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="dxpulse-topics")
    try:
        existing = set(admin.list_topics())
        wanted = [*SOURCE_TOPICS, *INTERNAL_TOPICS, DEAD_LETTER_TOPIC]
        missing = [t for t in wanted if t not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another worker won the race
                admin.create_topics(
                    [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in missing],
                    timeout_ms=int(timeout_s * 1000),
                )
        return missing
    finally:
        admin.close()
