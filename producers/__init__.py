"""dxpulse.producers: what agencies use to publish events.

* :class:`EventProducer` — the Python SDK (validated, idempotent, bounded, acks=all);
* :func:`pseudonymize` — keyed hash for citizen identifiers (``applicant_ref``);
* ``dxpulse publish FILE`` — JSON Lines or CSV files (:mod:`dxpulse.producers.files`);
* ``dxpulse simulate`` — realistic national traffic (:mod:`dxpulse.producers.simulator`).

Installed as ``dxpulse.producers`` (the repository folder is ``producers/``).

Example::

    from dxpulse.producers import EventProducer

    with EventProducer("127.0.0.1:9092") as producer:
        producer.send(event)
"""

from dxpulse.contracts import EventValidationError, FieldError, pseudonymize
from dxpulse.producers.producer import (
    BufferFullError,
    Delivery,
    DeliveryCallback,
    DeliveryError,
    EventProducer,
    PendingDelivery,
    ProducerClosedError,
    ProducerStats,
)

__all__ = [
    "BufferFullError",
    "Delivery",
    "DeliveryCallback",
    "DeliveryError",
    "EventProducer",
    "EventValidationError",
    "FieldError",
    "PendingDelivery",
    "ProducerClosedError",
    "ProducerStats",
    "pseudonymize",
]
