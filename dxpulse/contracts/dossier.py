"""Administrative-procedure dossiers (hồ sơ TTHC): topic ``dx.dossier.v1``, key ``dossier_id``."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import ConfigDict, Field, StrictBool, model_validator

from dxpulse.contracts.common import DossierId, EventBase, ProcedureCode, Pseudonym, Rfc3339

__all__ = [
    "DOSSIER_TOPIC",
    "DossierCompleted",
    "DossierEvent",
    "DossierEventBase",
    "DossierRated",
    "DossierReceived",
]

DOSSIER_TOPIC = "dx.dossier.v1"


class DossierEventBase(EventBase):
    topic: ClassVar[str] = DOSSIER_TOPIC
    key_field: ClassVar[str] = "dossier_id"

    dossier_id: DossierId


class DossierReceived(DossierEventBase):
    """A dossier was received (portal field KenhThucHien gives the channel; NgayHenTra the due date)."""

    event_type: Literal["dossier.received"]
    procedure_code: ProcedureCode
    channel: Literal["online", "in_person", "postal"]
    online_level: Literal["full", "partial"] | None = None
    due_at: Rfc3339
    fee_required: StrictBool
    applicant_type: Literal["citizen", "business"]
    applicant_ref: Pseudonym | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                # Mirrors _consistent(): an explicit null counts as absent.
                {
                    "if": {
                        "properties": {"channel": {"const": "online"}},
                        "required": ["channel"],
                    },
                    "then": {
                        "required": ["online_level"],
                        "properties": {"online_level": {"type": "string"}},
                    },
                    "else": {"properties": {"online_level": {"type": "null"}}},
                }
            ],
            "description": (
                "online_level is required when channel is online and absent (or null) "
                "otherwise; due_at is later than occurred_at."
            ),
        }
    )

    @model_validator(mode="after")
    def _consistent(self) -> DossierReceived:
        if self.channel == "online" and self.online_level is None:
            raise ValueError("online_level: is required when channel is online")
        if self.channel != "online" and self.online_level is not None:
            raise ValueError(f"online_level: must be absent when channel is {self.channel}")
        if self.due_at <= self.occurred_at:
            raise ValueError("due_at: must be later than occurred_at")
        return self


class DossierCompleted(DossierEventBase):
    """A dossier's processing ended (NgayKetThucXuLy); on time when occurred_at <= the received due_at."""

    event_type: Literal["dossier.completed"]
    result: Literal["approved", "rejected"]
    digitized: StrictBool = Field(
        description="Inputs digitised and an electronic result issued (DuocSoHoa)."
    )


class DossierRated(DossierEventBase):
    """A citizen or business rated the service."""

    event_type: Literal["dossier.rated"]
    satisfaction: Literal["satisfied", "neutral", "dissatisfied"]


DossierEvent = Annotated[
    DossierReceived | DossierCompleted | DossierRated, Field(discriminator="event_type")
]
