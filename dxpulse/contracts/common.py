"""Fields and rules every dxpulse event shares (wire contract version 1).

Every event is one JSON object; unknown fields are rejected. Common fields:

==============  =======  =============================================================
field           type     rule
==============  =======  =============================================================
event_id        string   UUID (8-4-4-4-12 hex); the idempotency key
event_type      string   one of the event types, selects the model
occurred_at     string   RFC 3339 with offset; not more than 10 minutes in the future
agency_code     string   1-64 chars of ``[A-Za-z0-9._-]``
locality_code   string   a current 2-digit provincial code or a pre-2025 one
schema_version  integer  1
==============  =======  =============================================================
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Self, get_args

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
)

from dxpulse.reference import load_localities

__all__ = [
    "MAX_FUTURE",
    "SCHEMA_VERSION",
    "AgencyCode",
    "DossierId",
    "EventBase",
    "EventId",
    "Identifier",
    "LocalityCode",
    "Money",
    "OccurredAt",
    "PositiveMoney",
    "ProcedureCode",
    "Pseudonym",
    "Rfc3339",
    "SchemaVersion",
    "StrictBool",
    "StrictInt",
    "reject_citizen_id",
]

#: Version of the wire contract these models implement.
SCHEMA_VERSION = 1
#: How far in the future ``occurred_at`` may be (clock skew allowance).
MAX_FUTURE = timedelta(minutes=10)

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
#: The same rule as _RFC3339 (whose text the JSON schemas carry), compiled for speed:
#: ASCII digits, no capturing groups (checked on every event).
_RFC3339_FAST = re.compile(
    r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:[Zz]|[+-]\d\d:\d\d)", re.ASCII
)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_CITIZEN_ID = re.compile(r"^(\d{9}|\d{12})$")


def _rfc3339(value: Any) -> Any:
    """Accept an aware ``datetime`` or an RFC 3339 string with an offset; nothing else."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("must be timezone-aware (RFC 3339 with an offset)")
        return value
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 timestamp string, e.g. 2026-11-20T09:15:00+07:00")
    if not _RFC3339_FAST.fullmatch(value):
        raise ValueError(
            f"must be RFC 3339 with an offset, e.g. 2026-11-20T09:15:00+07:00 (got {value[:40]!r})"
        )
    # fromisoformat (3.11+) takes Z, offsets and fractions of any length (kept to the
    # microsecond); RFC 3339 also allows a lowercase t and z.
    try:
        return datetime.fromisoformat(value.upper())
    except ValueError as exc:
        raise ValueError(f"is not a valid date and time: {exc}") from None


def _occurred_at(value: Any, info: ValidationInfo) -> datetime:
    """:func:`_rfc3339`, and not more than :data:`MAX_FUTURE` ahead of now (one call, not two)."""
    moment: datetime = _rfc3339(value)
    context = info.context
    now = context.get("now") if isinstance(context, dict) else None
    if now is None:
        now = datetime.now(moment.tzinfo)
    if moment - now > MAX_FUTURE:
        raise ValueError(
            f"is more than {int(MAX_FUTURE.total_seconds() // 60)} minutes in the future "
            f"({moment.isoformat()} vs now {now.isoformat(timespec='seconds')})"
        )
    return moment


_RFC3339_SCHEMA = {
    "type": "string",
    "format": "date-time",
    "pattern": _RFC3339.pattern,
    "description": "RFC 3339 timestamp with offset, e.g. 2026-11-20T09:15:00+07:00",
}

#: An RFC 3339 timestamp with offset; parsed to an aware ``datetime``.
Rfc3339 = Annotated[
    datetime,
    BeforeValidator(_rfc3339),
    WithJsonSchema(_RFC3339_SCHEMA),
]
#: ``occurred_at``: :data:`Rfc3339`, at most :data:`MAX_FUTURE` ahead of now (or of the
#: validation context's ``now``).
OccurredAt = Annotated[
    datetime,
    BeforeValidator(_occurred_at),
    WithJsonSchema(_RFC3339_SCHEMA),
]


#: A UUID, checked and lower-cased by pydantic-core (no Python call per event); the
#: reason shown for a bad one comes from :data:`dxpulse.contracts.errors.FRIENDLY_REASONS`.
EventId = Annotated[
    str,
    StringConstraints(pattern=_UUID.pattern, to_lower=True),
    WithJsonSchema({"type": "string", "pattern": _UUID.pattern, "description": "UUID"}),
]

AgencyCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]


def _unknown_locality(value: str) -> str:
    return (
        f"unknown locality code {value!r}: expected one of the 34 current provincial "
        "codes or a pre-2025 code"
    )


_LOCALITY_SCHEMA = {
    "type": "string",
    "enum": sorted(load_localities().known_codes),
    "description": "Current 2-digit provincial code, or a pre-2025 code",
}
if TYPE_CHECKING:
    LocalityCode = Annotated[str, WithJsonSchema(_LOCALITY_SCHEMA)]
else:
    #: Checked natively (a literal of the known codes); the reasons given when it fails
    #: come from :func:`locality_reason`.
    LocalityCode = Annotated[
        Literal[tuple(_LOCALITY_SCHEMA["enum"])], WithJsonSchema(_LOCALITY_SCHEMA)
    ]


def reject_citizen_id(value: str | None) -> str | None:
    """Refuse a value shaped like a CMND/CCCD number (exactly 9 or 12 digits)."""
    if value is not None and _CITIZEN_ID.fullmatch(value):
        raise ValueError(
            "looks like a raw citizen ID (exactly 9 or 12 digits); never send citizen "
            "identifiers: use the agency's own reference or pseudonymize() it"
        )
    return value


_NOT_CITIZEN_ID_SCHEMA = {"not": {"pattern": _CITIZEN_ID.pattern}}

#: 1-64 characters.
Identifier = Annotated[str, Field(min_length=1, max_length=64)]
#: A dossier id: 1-64 characters, never shaped like a citizen ID.
DossierId = Annotated[
    str,
    Field(min_length=1, max_length=64, json_schema_extra=_NOT_CITIZEN_ID_SCHEMA),
    AfterValidator(reject_citizen_id),
]
#: A procedure code (mã TTHC): 1-32 characters, never shaped like a citizen ID.
ProcedureCode = Annotated[
    str,
    Field(min_length=1, max_length=32, json_schema_extra=_NOT_CITIZEN_ID_SCHEMA),
    AfterValidator(reject_citizen_id),
]
#: HMAC-SHA256 pseudonym: 64 lowercase hex characters.
Pseudonym = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
#: Money in whole Vietnamese đồng, >= 0.
Money = Annotated[StrictInt, Field(ge=0)]
#: Money in whole Vietnamese đồng, > 0.
PositiveMoney = Annotated[StrictInt, Field(gt=0)]


#: The contract version an event claims: exactly the JSON integer 1 (not true, 1.0 or "1");
#: checked natively, the reason for a failure is "must be the integer 1".
SchemaVersion = Annotated[
    StrictInt,
    Field(ge=SCHEMA_VERSION, le=SCHEMA_VERSION),
    WithJsonSchema({"const": 1, "title": "Schema Version", "type": "integer"}),
]


def locality_reason(value: Any) -> str:
    """Why ``value`` is not a locality code, worded as the contract documents it."""
    if isinstance(value, str) and re.fullmatch(r"\d{2}", value):
        return _unknown_locality(value)
    return (
        "String should match pattern '^\\d{2}$'"
        if isinstance(value, str)
        else ("Input should be a valid string")
    )


class EventBase(BaseModel):
    """Fields every event carries. Subclasses set ``event_type``, :attr:`topic` and :attr:`key_field`.

    Build events for publishing with :meth:`create`, which fills ``event_id`` and
    ``schema_version``::

        DossierRated.create(
            occurred_at="2026-11-20T09:15:00+07:00",
            agency_code="HN.MC",
            locality_code="01",
            dossier_id="HS-0001",
            satisfaction="satisfied",
        )
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        str_strip_whitespace=False,
        validate_default=True,
    )

    #: Kafka topic of the event family.
    topic: ClassVar[str]
    #: Field whose value is the Kafka message key.
    key_field: ClassVar[str]

    event_id: EventId
    event_type: str
    occurred_at: OccurredAt
    agency_code: AgencyCode
    locality_code: LocalityCode
    schema_version: SchemaVersion

    @classmethod
    def create(cls, **fields: Any) -> Self:
        """Validate ``fields`` into an event, generating ``event_id`` and ``schema_version``.

        Raises :class:`~dxpulse.contracts.EventValidationError` listing every bad field.
        """
        from dxpulse.contracts.errors import EventValidationError, field_errors

        fields.setdefault("event_id", str(uuid.uuid4()))
        fields.setdefault("schema_version", SCHEMA_VERSION)
        fields.setdefault("event_type", get_args(cls.model_fields["event_type"].annotation)[0])
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            raise EventValidationError(field_errors(exc)) from None

    @property
    def key(self) -> str:
        """The Kafka message key (the value of :attr:`key_field`)."""
        return str(getattr(self, self.key_field))

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON as it travels on the wire (optional fields left out when unset)."""
        return orjson.dumps(self.model_dump(mode="json", exclude_none=True))
