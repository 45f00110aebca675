"""The local Apache Kafka broker that ``dxpulse kafka start`` runs (KRaft, one node, no Docker).

Example::

    from dxpulse import Settings
    from dxpulse.broker import LocalKafka

    broker = LocalKafka.from_settings(Settings())
    bootstrap = broker.start()
"""

from dxpulse.broker.local import BrokerStatus, LocalKafka
from dxpulse.broker.probe import broker_answers, require_kafka, topic_names
from dxpulse.broker.runtime import KafkaRuntime

__all__ = [
    "BrokerStatus",
    "KafkaRuntime",
    "LocalKafka",
    "broker_answers",
    "require_kafka",
    "topic_names",
]
