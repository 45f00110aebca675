"""E-invoices (hóa đơn điện tử): topic ``dx.invoice.v1``, key ``invoice_id``."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import ConfigDict, Field, model_validator

from dxpulse.contracts.common import EventBase, Identifier, Money

__all__ = [
    "INVOICE_TOPIC",
    "InvoiceCancelled",
    "InvoiceEvent",
    "InvoiceEventBase",
    "InvoiceIssued",
    "TaxCode",
]

INVOICE_TOPIC = "dx.invoice.v1"

#: Vietnamese tax code: 10 digits, or 10 digits + "-" + 3 digits (branch).
#: ASCII digits only (the pattern engine treats ``\d`` as any Unicode digit).
TaxCode = Annotated[str, Field(pattern=r"^[0-9]{10}(-[0-9]{3})?$")]


class InvoiceEventBase(EventBase):
    topic: ClassVar[str] = INVOICE_TOPIC
    key_field: ClassVar[str] = "invoice_id"

    invoice_id: Identifier
    seller_tax_code: TaxCode
    amount_vnd: Money = Field(description="Total in whole VND, VAT included.")


class InvoiceIssued(InvoiceEventBase):
    """An e-invoice was issued: with the tax authority's code, without it, or from a cash register."""

    event_type: Literal["invoice.issued"]
    invoice_kind: Literal["with_code", "without_code", "cash_register"]
    vat_vnd: Money = Field(description="VAT in whole VND; 0 <= vat_vnd <= amount_vnd.")

    model_config = ConfigDict(
        json_schema_extra={"description": "vat_vnd must not exceed amount_vnd."}
    )

    @model_validator(mode="after")
    def _vat_within_amount(self) -> InvoiceIssued:
        if self.vat_vnd > self.amount_vnd:
            raise ValueError(
                f"vat_vnd: must not exceed amount_vnd ({self.vat_vnd} > {self.amount_vnd})"
            )
        return self


class InvoiceCancelled(InvoiceEventBase):
    """A previously issued e-invoice was cancelled."""

    event_type: Literal["invoice.cancelled"]


InvoiceEvent = Annotated[InvoiceIssued | InvoiceCancelled, Field(discriminator="event_type")]
