"""The README's contract section: every example message is valid and on its documented topic."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest

from dxpulse.contracts import EVENT_MODELS, TOPIC_KEYS, EventValidationError, validate_event
from dxpulse.contracts.schema import all_schemas

README = Path(__file__).resolve().parents[3] / "README.md"
#: After every example's occurred_at (2026-11-20, Hanoi time).
NOW = datetime(2026, 11, 20, 23, 0, tzinfo=timezone(timedelta(hours=7)))


def contract_section() -> str:
    text = README.read_text("utf-8")
    start = text.index("\n## Event contract (wire format v1)\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def json_blocks() -> list[tuple[str, str, str]]:
    """(topic heading, documented key, JSON text) of every ```json block, in order."""
    found: list[tuple[str, str, str]] = []
    topic = ""
    key = ""
    for match in re.finditer(
        r"^### Topic `(?P<topic>[^`]+)`|^Example \(key `(?P<key>[^`]+)`\)|^```json\n(?P<json>.*?)^```$",
        contract_section(),
        re.M | re.S,
    ):
        if match["topic"]:
            topic = match["topic"]
        elif match["key"]:
            key = match["key"]
        else:
            found.append((topic, key, match["json"]))
    return found


BLOCKS = [b for b in json_blocks() if not b[2].startswith("[")]
BATCH = re.compile(
    r"^Example batch on `(?P<topic>[^`]+)` with key `(?P<key>[^`]+)`, on partition "
    r"(?P<partition>\d+) \(of (?P<count>\d+)\):\n\n```json\n(?P<json>.*?)^```$",
    re.M | re.S,
)


def test_batch_example_follows_the_batch_rules() -> None:
    from dxpulse.producers.batching import default_partition

    (match,) = BATCH.finditer(contract_section())
    topic, key = match["topic"], match["key"]
    partition, count = int(match["partition"]), int(match["count"])
    data = json.loads(match["json"])
    assert isinstance(data, list) and 1 <= len(data) <= 1000
    events = [validate_event(item, topic=topic, now=NOW) for item in data]
    assert events[0].key == key
    assert {default_partition(e.key.encode(), count) for e in events} == {partition}
    assert [json.loads(e.to_json()) for e in events] == data
    jsonschema.Draft202012Validator(all_schemas()[f"{topic}.batch"]).validate(data)


def test_section_has_one_example_per_topic() -> None:
    assert sorted(topic for topic, _, _ in BLOCKS) == sorted(TOPIC_KEYS)


@pytest.mark.parametrize(("topic", "key", "text"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_example_is_valid(topic: str, key: str, text: str) -> None:
    event = validate_event(text, now=NOW)
    assert validate_event(text, topic=topic, now=NOW) == event
    assert event.topic == topic
    assert event.key == key
    assert event.key_field == TOPIC_KEYS[topic]
    assert json.loads(event.to_json()) == json.loads(text)


@pytest.mark.parametrize(("topic", "key", "text"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_example_passes_the_exported_schemas(topic: str, key: str, text: str) -> None:
    del key
    data = json.loads(text)
    schemas = all_schemas()
    jsonschema.Draft202012Validator(schemas[topic]).validate(data)
    jsonschema.Draft202012Validator(schemas[data["event_type"]]).validate(data)


def test_every_event_type_is_documented() -> None:
    section = contract_section()
    for event_type in EVENT_MODELS:
        assert f"`{event_type}`" in section
    for name, model in EVENT_MODELS.items():
        for field in model.model_fields:
            assert f"| `{field}` |" in section, f"{name}.{field} is not in a README table"


def test_error_example_is_what_validate_event_says() -> None:
    (shown,) = re.findall(r"^```text\n(.*?)\n```$", contract_section(), re.M | re.S)
    payment = json.loads(next(text for topic, _, text in BLOCKS if topic == "dx.payment.v1"))
    payment.update(locality_code="99", amount_vnd=0)
    with pytest.raises(EventValidationError) as info:
        validate_event(payment, now=NOW)
    assert str(info.value) == shown
