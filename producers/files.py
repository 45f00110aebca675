"""Read events from JSON Lines or CSV files, validating each line (``dxpulse publish``).

Example::

    from pathlib import Path
    from dxpulse.producers.files import read_events

    for record in read_events(Path("events.jsonl")):
        if record.ok:
            print(record.line, record.event.event_type)
        else:
            print(record.line, [str(e) for e in record.errors])

Formats:

* **JSON Lines** (``.jsonl``, ``.ndjson``, ``.json``): one JSON object per line; blank
  lines are skipped.
* **CSV** (``.csv``): a header row naming contract fields; each row is one event.
  Boolean columns take ``true``/``false`` (or ``1``/``0``), integer columns plain digits,
  and an empty cell means the field is absent.

A line without ``event_id`` gets one derived from its content (UUID v5), so publishing
the same file twice still counts each event once downstream.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

import orjson

from dxpulse.contracts import (
    EVENT_MODELS,
    EventBase,
    EventValidationError,
    FieldError,
    validate_event,
)

__all__ = ["EVENT_ID_NAMESPACE", "FileFormat", "FileRecord", "detect_format", "read_events"]

FileFormat = Literal["jsonl", "csv"]

#: Namespace of event ids derived from line content when a line has none.
EVENT_ID_NAMESPACE = uuid.UUID("5f0b3c52-8f1e-4d7a-9d0c-6b7f2a1e9c11")


@dataclass(frozen=True)
class FileRecord:
    """One line (or CSV row) of an input file and what validation made of it."""

    line: int
    raw: str
    event: EventBase | None = None
    errors: list[FieldError] = field(default_factory=list)
    derived_event_id: bool = False

    @property
    def ok(self) -> bool:
        return self.event is not None


def detect_format(path: Path) -> FileFormat:
    """``csv`` for ``.csv`` files, ``jsonl`` for ``.jsonl``/``.ndjson``/``.json``."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise ValueError(
        f"cannot tell the format of {path.name} from its extension; use .jsonl or .csv, "
        "or pass --format"
    )


def read_events(
    path: Path,
    *,
    file_format: FileFormat | None = None,
    now: datetime | None = None,
) -> Iterator[FileRecord]:
    """Yield a validated :class:`FileRecord` for every non-blank line of ``path``."""
    fmt = file_format or detect_format(path)
    with path.open("r", encoding="utf-8", newline="") as handle:
        if fmt == "jsonl":
            yield from _read_jsonl(handle, now)
        else:
            yield from _read_csv(handle, now)


def _read_jsonl(handle: io.TextIOBase, now: datetime | None) -> Iterator[FileRecord]:
    for number, raw in enumerate(handle, start=1):
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            yield FileRecord(number, text, errors=[FieldError("$", f"invalid JSON: {exc}")])
            continue
        if not isinstance(data, dict):
            yield FileRecord(number, text, errors=[FieldError("$", "must be a JSON object")])
            continue
        yield _validated(number, text, data, now)


def _read_csv(handle: io.TextIOBase, now: datetime | None) -> Iterator[FileRecord]:
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        return
    header = [h.strip() for h in header]
    for row in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        raw = _csv_line(row)
        if len(row) != len(header):
            yield FileRecord(
                number,
                raw,
                errors=[FieldError("$", f"has {len(row)} columns, the header has {len(header)}")],
            )
            continue
        data = _coerce_csv_row(dict(zip(header, row, strict=True)))
        yield _validated(number, raw, data, now)


def _validated(number: int, raw: str, data: dict[str, Any], now: datetime | None) -> FileRecord:
    derived = "event_id" not in data
    if derived:
        data["event_id"] = str(uuid.uuid5(EVENT_ID_NAMESPACE, raw.strip()))
    try:
        event = validate_event(data, now=now)
    except EventValidationError as exc:
        return FileRecord(number, raw, errors=exc.errors)
    return FileRecord(number, raw, event=event, derived_event_id=derived)


def _csv_line(row: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(row)
    return buf.getvalue()


@cache
def _field_kinds() -> dict[str, dict[str, str]]:
    """event_type -> field -> JSON type ('boolean', 'integer', ...), from the models."""
    kinds: dict[str, dict[str, str]] = {}
    for event_type, model in EVENT_MODELS.items():
        props = model.model_json_schema()["properties"]
        kinds[event_type] = {name: str(spec.get("type", "")) for name, spec in props.items()}
    return kinds


def _coerce_csv_row(row: dict[str, str]) -> dict[str, Any]:
    """Turn CSV text cells into JSON values using the contract's field types."""
    kinds = _field_kinds().get(row.get("event_type", "").strip(), {})
    out: dict[str, Any] = {}
    for name, cell in row.items():
        value = cell.strip()
        if value == "":
            continue  # an empty cell is an absent field
        kind = kinds.get(name)
        if kind == "boolean" and value.lower() in ("true", "false", "1", "0"):
            out[name] = value.lower() in ("true", "1")
        elif kind == "integer" and value.lstrip("-").isdigit():
            out[name] = int(value)
        else:
            out[name] = value
    return out
