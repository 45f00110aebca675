"""The wire contract as JSON Schema (Draft 2020-12), for agencies that validate in other languages.

One file per event type (``dossier.received.schema.json``), one per topic
(``dx.dossier.v1.schema.json``: ``oneOf`` its event types, discriminated by
``event_type``) and one per topic for its batched messages
(``dx.dossier.v1.batch.schema.json``: an array of 1 to 1000 such events). Files are generated from the pydantic models, so they cannot drift
from what the pipeline accepts; the few rules JSON Schema cannot express (a timestamp
not in the future, ``due_at`` after ``occurred_at``, ``vat_vnd`` not above
``amount_vnd``) are stated in each schema's description.

Example::

    from pathlib import Path
    from dxpulse.contracts.schema import export_json_schemas

    written = export_json_schemas(Path("schemas"))   # 14 files, stable byte for byte

or, from the shell, ``dxpulse schema export schemas/``.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

from dxpulse.contracts.common import MAX_FUTURE, SCHEMA_VERSION, EventBase
from dxpulse.contracts.registry import EVENT_MODELS, TOPIC_ADAPTERS, TOPIC_KEYS

__all__ = [
    "BATCH_SUFFIX",
    "JSON_SCHEMA_DIALECT",
    "all_schemas",
    "batch_schema",
    "event_schema",
    "export_json_schemas",
    "schema_id",
    "topic_schema",
]

#: Schema name of a topic's batched messages: ``<topic>.batch``.
BATCH_SUFFIX = ".batch"
#: Most events in one batched message, and its largest encoded size (wire contract v1).
_BATCH_EVENTS = 1000
_BATCH_BYTES = 1024 * 1024

#: The ``$schema`` of every exported file.
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_FUTURE_RULE = (
    f"occurred_at must not be more than {int(MAX_FUTURE.total_seconds() // 60)} minutes "
    "in the future."
)


def schema_id(name: str) -> str:
    """The ``$id`` of the schema for an event type or topic ``name``."""
    return f"urn:dxpulse:schema:{name}:v{SCHEMA_VERSION}"


def _with_header(name: str, description: str, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with ``$schema``, ``$id``, ``title`` and ``description`` first."""
    header = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": schema_id(name),
        "title": name,
        "description": description,
    }
    return header | {k: v for k, v in body.items() if k not in header}


def _event_type_of(model: type[EventBase]) -> str:
    for event_type, candidate in EVENT_MODELS.items():
        if candidate is model:
            return event_type
    raise KeyError(model.__name__)  # pragma: no cover - every model is registered


def event_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of one event type, e.g. ``"dossier.received"``."""
    model = EVENT_MODELS[event_type]
    body = model.model_json_schema(mode="validation")
    parts = [inspect.cleandoc(model.__doc__ or "")]
    extra = body.get("description")
    if extra and extra not in parts:
        parts.append(extra)
    parts.append(f"Topic {model.topic}, message key {model.key_field}.")
    parts.append(_FUTURE_RULE)
    return _with_header(event_type, " ".join(p for p in parts if p), body)


def topic_schema(topic: str) -> dict[str, Any]:
    """The JSON Schema of every message on ``topic``: one of its event types."""
    body = TOPIC_ADAPTERS[topic].json_schema(mode="validation")
    types = [t for t, m in EVENT_MODELS.items() if m.topic == topic]
    description = (
        f"A message on Kafka topic {topic} (message key {TOPIC_KEYS[topic]}): one of "
        f"{', '.join(types)}, discriminated by event_type. {_FUTURE_RULE}"
    )
    return _with_header(topic, description, body)


def batch_schema(topic: str) -> dict[str, Any]:
    """The JSON Schema of a batched message on ``topic``: an array of 1-1000 of its events."""
    union = TOPIC_ADAPTERS[topic].json_schema(mode="validation")
    items = {k: v for k, v in union.items() if k != "$defs"}
    description = (
        f"A batched message on Kafka topic {topic}: a JSON array of 1 to {_BATCH_EVENTS} "
        f"events of that topic (each as in {schema_id(topic)}), at most {_BATCH_BYTES} bytes "
        f"encoded. Every event's key ({TOPIC_KEYS[topic]}) maps to the message's partition "
        "under Kafka's default partitioner, (murmur2(key) & 0x7FFFFFFF) % partitions, and "
        "the message key is the key of the first event; neither rule, nor the size limit, "
        f"can be expressed in JSON Schema. {_FUTURE_RULE}"
    )
    body = {
        "type": "array",
        "minItems": 1,
        "maxItems": _BATCH_EVENTS,
        "items": items,
        "$defs": union.get("$defs", {}),
    }
    return _with_header(topic + BATCH_SUFFIX, description, body)


def all_schemas() -> dict[str, dict[str, Any]]:
    """Every schema by name: the event types, then the topics, then their batched forms."""
    schemas = {event_type: event_schema(event_type) for event_type in EVENT_MODELS}
    schemas.update({topic: topic_schema(topic) for topic in TOPIC_ADAPTERS})
    schemas.update({topic + BATCH_SUFFIX: batch_schema(topic) for topic in TOPIC_ADAPTERS})
    return schemas


def _dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def export_json_schemas(directory: Path) -> list[Path]:
    """Write ``<name>.schema.json`` for every event type, topic and batched form into ``directory``.

    Creates ``directory`` when needed and overwrites earlier exports. The output is
    deterministic (pydantic's key order, two-space indent, UTF-8, trailing newline), so
    committed copies diff cleanly. Returns the paths written, event types first.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, schema in all_schemas().items():
        path = directory / f"{name}.schema.json"
        path.write_text(_dump(schema), encoding="utf-8")
        written.append(path)
    return written
