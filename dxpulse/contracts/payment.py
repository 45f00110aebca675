"""Online payments (thanh toán trực tuyến): topic ``dx.payment.v1``, key ``payment_id``."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from dxpulse.contracts.common import DossierId, EventBase, Identifier, PositiveMoney

__all__ = [
    "PAYMENT_TOPIC",
    "PaymentEvent",
    "PaymentEventBase",
    "PaymentFailed",
    "PaymentRefunded",
    "PaymentSucceeded",
]

PAYMENT_TOPIC = "dx.payment.v1"


class PaymentEventBase(EventBase):
    topic: ClassVar[str] = PAYMENT_TOPIC
    key_field: ClassVar[str] = "payment_id"

    payment_id: Identifier
    dossier_id: DossierId | None = Field(
        default=None, description="The dossier this payment is for, when there is one."
    )
    amount_vnd: PositiveMoney
    method: Literal["bank_transfer", "card", "e_wallet", "qr"]
    gateway: Literal["national_portal", "local_gateway"] = Field(
        description="DuocThanhToanTrucTuyen: 1 national portal, 2 ministry or provincial gateway."
    )


class PaymentSucceeded(PaymentEventBase):
    """A payment went through."""

    event_type: Literal["payment.succeeded"]


class PaymentFailed(PaymentEventBase):
    """A payment attempt failed."""

    event_type: Literal["payment.failed"]


class PaymentRefunded(PaymentEventBase):
    """A payment was refunded."""

    event_type: Literal["payment.refunded"]


PaymentEvent = Annotated[
    PaymentSucceeded | PaymentFailed | PaymentRefunded, Field(discriminator="event_type")
]
