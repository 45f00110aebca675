"""Dead letters: what the pipeline rejected, kept with every reason.

A dead letter is a JSON object on ``dx.deadletter.v1``::

    {
      "source_topic": "dx.dossier.v1", "source_partition": 2, "source_offset": 1041,
      "source_index": null,
      "key": "HS-1", "key_encoding": "utf-8",
      "payload": "{...original message...}", "payload_encoding": "utf-8",
      "errors": [{"field": "locality_code", "reason": "unknown locality code '99' ..."}],
      "reason": "unknown_locality",
      "event_type": "dossier.received",
      "first_seen_at": "2026-11-20T02:15:00.123+00:00"
    }

``payload`` (and ``key``) are the original bytes as UTF-8 text, or base64 when they are
not valid UTF-8 (``*_encoding`` says which). For an event inside a batched message,
``source_index`` is its position in the batch and ``payload`` is that event alone
(re-encoded JSON); it is null when the whole message was rejected. ``reason`` classifies the message for
dashboards (a whole-message problem first, then the event type, then an unknown locality
or a probable citizen ID anywhere in the list, else ``contract``): ``invalid_json``, ``not_an_object``, ``invalid_batch`` (an empty or oversized batch),
``unknown_event_type``,
``unknown_locality``, ``citizen_id``, ``wrong_topic`` or ``contract``.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson

from dxpulse.contracts import FieldError
from dxpulse.streams.normalize import ch_time, version_of

__all__ = ["classify", "dead_letter", "dead_letter_row"]


def _text(data: bytes | None) -> tuple[str | None, str]:
    if data is None:
        return None, "utf-8"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


def classify(errors: list[FieldError]) -> str:
    """A short reason class for the message (for grouping in dashboards); see the module doc."""
    first = errors[0] if errors else FieldError("$", "")
    if first.field == "$":
        if first.reason.startswith("invalid JSON"):
            return "invalid_json"
        if first.reason.startswith("batch "):
            return "invalid_batch"
        return "not_an_object"
    if first.field == "event_type":
        return "wrong_topic" if "belongs on" in first.reason else "unknown_event_type"
    if any(e.field == "locality_code" for e in errors):
        return "unknown_locality"
    if any("citizen ID" in e.reason for e in errors):
        return "citizen_id"
    return "contract"


def dead_letter(
    *,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    errors: list[FieldError],
    index: int | None = None,
    first_seen: datetime | None = None,
) -> bytes:
    """The dead-letter message (JSON bytes) for one rejected source message."""
    payload, payload_encoding = _text(value)
    key_text, key_encoding = _text(key)
    event_type: str | None = None
    if payload_encoding == "utf-8" and payload:
        try:
            parsed = orjson.loads(payload)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("event_type"), str):
            event_type = parsed["event_type"][:64]
    record: dict[str, Any] = {
        "source_topic": topic,
        "source_partition": partition,
        "source_offset": offset,
        "source_index": index,
        "key": key_text,
        "key_encoding": key_encoding,
        "payload": payload if payload is not None else "",
        "payload_encoding": payload_encoding,
        "errors": [{"field": e.field, "reason": e.reason} for e in errors],
        "reason": classify(errors),
        "event_type": event_type,
        "first_seen_at": (first_seen or datetime.now(UTC)).isoformat(timespec="milliseconds"),
    }
    return orjson.dumps(record)


def dead_letter_row(message: bytes) -> dict[str, Any]:
    """The ``dead_letters`` table row for a dead-letter message."""
    record = orjson.loads(message)
    first_seen = datetime.fromisoformat(record["first_seen_at"])
    return {
        "first_seen_at": ch_time(first_seen),
        "source_topic": record["source_topic"],
        "source_partition": record["source_partition"],
        "source_offset": record["source_offset"],
        "source_index": record.get("source_index") or 0,
        "message_key": record.get("key") or "",
        "payload": record["payload"],
        "payload_encoding": record["payload_encoding"],
        "error_fields": [e["field"] for e in record["errors"]],
        "error_reasons": [e["reason"] for e in record["errors"]],
        "reason": record["reason"],
        "event_type": record.get("event_type") or "",
        "version": version_of(int(first_seen.timestamp() * 1000)),
    }
