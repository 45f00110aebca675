"""The dxpulse wire contract, version 1: one pydantic model per event type.

Agencies publish three families of events; producers (the SDK, ``dxpulse publish``,
the simulator) and the stream processors import these same models.

Example::

    from dxpulse.contracts import DossierReceived, validate_event

    event = DossierReceived.create(
        occurred_at="2026-11-20T09:15:00+07:00",
        agency_code="HN.MOTCUA",
        locality_code="01",
        dossier_id="000.00.01.H26-261120-0001",
        procedure_code="1.004227",
        channel="online",
        online_level="full",
        due_at="2026-11-27T17:00:00+07:00",
        fee_required=True,
        applicant_type="citizen",
    )
    wire = event.to_json()                 # bytes, on topic event.topic with key event.key
    assert validate_event(wire) == event
"""

from dxpulse.contracts.common import MAX_FUTURE, SCHEMA_VERSION, EventBase
from dxpulse.contracts.dossier import (
    DOSSIER_TOPIC,
    DossierCompleted,
    DossierEvent,
    DossierRated,
    DossierReceived,
)
from dxpulse.contracts.invoice import INVOICE_TOPIC, InvoiceCancelled, InvoiceEvent, InvoiceIssued
from dxpulse.contracts.payment import (
    PAYMENT_TOPIC,
    PaymentEvent,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
)
from dxpulse.contracts.pseudonym import pseudonymize
from dxpulse.contracts.registry import (
    DEAD_LETTER_TOPIC,
    EVENT_MODELS,
    TOPIC_ADAPTERS,
    TOPIC_KEYS,
    Event,
    EventValidationError,
    FieldError,
    field_errors,
    validate_event,
)

__all__ = [
    "DEAD_LETTER_TOPIC",
    "DOSSIER_TOPIC",
    "EVENT_MODELS",
    "INVOICE_TOPIC",
    "MAX_FUTURE",
    "PAYMENT_TOPIC",
    "SCHEMA_VERSION",
    "TOPIC_ADAPTERS",
    "TOPIC_KEYS",
    "DossierCompleted",
    "DossierEvent",
    "DossierRated",
    "DossierReceived",
    "Event",
    "EventBase",
    "EventValidationError",
    "FieldError",
    "InvoiceCancelled",
    "InvoiceEvent",
    "InvoiceIssued",
    "PaymentEvent",
    "PaymentFailed",
    "PaymentRefunded",
    "PaymentSucceeded",
    "field_errors",
    "pseudonymize",
    "validate_event",
]
