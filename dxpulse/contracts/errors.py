"""How contract violations are reported: every invalid field, named as on the wire, with a reason."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from dxpulse.errors import DxpulseError

__all__ = ["FRIENDLY_REASONS", "EventValidationError", "FieldError", "field_errors"]

_FIELD_PREFIX = re.compile(r"^(?:Value error, )?([a-z_]+): (.*)$", re.S)
_EVENT_TYPE = re.compile(r"^[a-z]+\.[a-z]+$")

#: field -> the reason given for any failure of a check pydantic-core makes natively
#: (constraints are checked in Rust for speed; their stock messages are less helpful).
FRIENDLY_REASONS = {
    "event_id": "must be a UUID like 0b3c7a1e-5d2f-4c8e-9a61-2f0e8d4b7c19",
    "schema_version": "must be the integer 1",
}


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of an event."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class EventValidationError(DxpulseError, ValueError):
    """An event broke the contract. ``errors`` lists every invalid field and why."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("invalid event: " + "; ".join(str(e) for e in errors))


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Turn a pydantic error into (field, reason) pairs, named as on the wire."""
    out: list[FieldError] = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        if loc and _EVENT_TYPE.match(loc[0]):  # discriminated-union tag, e.g. dossier.received
            loc = loc[1:]
        message = str(err["msg"])
        kind = err["type"]
        if kind == "extra_forbidden":
            reason = "unknown field (not in the contract)"
        elif kind == "missing":
            reason = "is required"
        elif kind == "union_tag_invalid":
            loc, reason = ["event_type"], _tag_reason(err)
        elif kind == "union_tag_not_found":
            loc, reason = ["event_type"], "is required"
        elif len(loc) == 1 and loc[0] in FRIENDLY_REASONS:
            reason = FRIENDLY_REASONS[loc[0]]
        elif loc == ["locality_code"]:
            from dxpulse.contracts.common import locality_reason

            reason = locality_reason(err.get("input"))
        else:
            reason = message.removeprefix("Value error, ")
            match = _FIELD_PREFIX.match(message)
            if not loc and match:
                loc, reason = [match.group(1)], match.group(2)
        out.append(FieldError(".".join(loc) or "$", reason))
    return out


def _tag_reason(err: Any) -> str:
    ctx = err.get("ctx") or {}
    return f"unknown event type {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
