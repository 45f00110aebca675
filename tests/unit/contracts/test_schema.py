"""The JSON Schema export: valid Draft 2020-12, as strict as the models where it can be."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from dxpulse.cli import app
from dxpulse.contracts import EVENT_MODELS, TOPIC_KEYS
from dxpulse.contracts.schema import (
    JSON_SCHEMA_DIALECT,
    all_schemas,
    batch_schema,
    event_schema,
    export_json_schemas,
    schema_id,
    topic_schema,
)
from tests.unit.contracts.examples import DROP, EVENT_TYPES, accepted, make

BATCHES = [f"{topic}.batch" for topic in TOPIC_KEYS]
NAMES = [*EVENT_TYPES, *TOPIC_KEYS, *BATCHES]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    directory = tmp_path_factory.mktemp("schemas")
    paths = export_json_schemas(directory)
    return {p.name.removesuffix(".schema.json"): json.loads(p.read_text("utf-8")) for p in paths}


def validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema)


def topic_of(event_type: str) -> str:
    return EVENT_MODELS[event_type].topic


def test_one_file_per_event_type_and_topic(tmp_path: Path) -> None:
    paths = export_json_schemas(tmp_path / "nested" / "out")
    assert [p.name for p in paths] == [f"{n}.schema.json" for n in NAMES]
    assert len(paths) == 14
    assert sorted(p.name for p in (tmp_path / "nested" / "out").iterdir()) == sorted(
        p.name for p in paths
    )


def test_export_is_byte_for_byte_stable(tmp_path: Path) -> None:
    first = {p.name: p.read_bytes() for p in export_json_schemas(tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in export_json_schemas(tmp_path / "a")}
    third = {p.name: p.read_bytes() for p in export_json_schemas(tmp_path / "b")}
    assert first == second == third


def test_files_are_indented_utf8_with_trailing_newline(tmp_path: Path) -> None:
    for path in export_json_schemas(tmp_path):
        text = path.read_text("utf-8")
        assert text.endswith("}\n")
        assert not text.endswith("\n\n")
        assert text.startswith('{\n  "$schema": ')
        assert json.loads(text) == all_schemas()[path.name.removesuffix(".schema.json")]


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_draft_2020_12(exported: dict[str, dict[str, Any]], name: str) -> None:
    schema = exported[name]
    jsonschema.Draft202012Validator.check_schema(schema)
    assert jsonschema.validators.validator_for(schema) is jsonschema.Draft202012Validator


@pytest.mark.parametrize("name", NAMES)
def test_header(exported: dict[str, dict[str, Any]], name: str) -> None:
    schema = exported[name]
    assert list(schema)[:4] == ["$schema", "$id", "title", "description"]
    assert (
        schema["$schema"] == JSON_SCHEMA_DIALECT == "https://json-schema.org/draft/2020-12/schema"
    )
    assert schema["$id"] == schema_id(name) == f"urn:dxpulse:schema:{name}:v1"
    assert schema["title"] == name
    assert len(schema["description"]) > 40
    assert "10 minutes in the future" in schema["description"]


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_type_schema_forbids_unknown_fields(
    exported: dict[str, dict[str, Any]], event_type: str
) -> None:
    schema = exported[event_type]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["event_type"]["const"] == event_type
    assert schema["properties"]["schema_version"] == {
        "const": 1,
        "title": "Schema Version",
        "type": "integer",
    }


@pytest.mark.parametrize("topic", list(TOPIC_KEYS))
def test_topic_schema_is_one_of_its_types(exported: dict[str, dict[str, Any]], topic: str) -> None:
    schema = exported[topic]
    types = [t for t in EVENT_TYPES if topic_of(t) == topic]
    assert len(schema["oneOf"]) == len(types)
    assert schema["discriminator"]["propertyName"] == "event_type"
    assert sorted(schema["discriminator"]["mapping"]) == sorted(types)
    for definition in schema["$defs"].values():
        assert definition["additionalProperties"] is False
    assert TOPIC_KEYS[topic] in schema["description"]


def test_citizen_id_not_pattern(exported: dict[str, dict[str, Any]]) -> None:
    props = exported["dossier.received"]["properties"]
    for field in ("dossier_id", "procedure_code"):
        assert props[field]["not"] == {"pattern": "^(\\d{9}|\\d{12})$"}
    assert props["procedure_code"]["maxLength"] == 32
    payment_dossier = exported["payment.succeeded"]["properties"]["dossier_id"]["anyOf"][0]
    assert "not" in payment_dossier


def test_online_level_if_then_else(exported: dict[str, dict[str, Any]]) -> None:
    (rule,) = exported["dossier.received"]["allOf"]
    assert rule["if"]["properties"]["channel"] == {"const": "online"}
    assert rule["then"]["required"] == ["online_level"]
    assert "else" in rule


def test_locality_enum(exported: dict[str, dict[str, Any]]) -> None:
    from dxpulse.reference import load_localities

    for event_type in EVENT_TYPES:
        enum = exported[event_type]["properties"]["locality_code"]["enum"]
        assert enum == sorted(load_localities().known_codes)
        assert {"01", "27", "79"} <= set(enum)
        assert "99" not in enum


def test_helpers_agree_with_export(exported: dict[str, dict[str, Any]]) -> None:
    assert exported["dossier.rated"] == event_schema("dossier.rated")
    assert exported["dx.invoice.v1"] == topic_schema("dx.invoice.v1")
    assert exported["dx.invoice.v1.batch"] == batch_schema("dx.invoice.v1")


# --- valid examples pass, invalid ones fail ---------------------------------------------


VALID_VARIANTS: list[tuple[str, dict[str, Any]]] = [
    *[(t, {}) for t in EVENT_TYPES],
    ("dossier.received", {"channel": "in_person", "online_level": DROP, "applicant_ref": DROP}),
    ("dossier.received", {"channel": "postal", "online_level": None}),
    ("dossier.received", {"occurred_at": "2026-11-20T02:15:00Z", "locality_code": "27"}),
    ("invoice.issued", {"vat_vnd": 1_100_000, "invoice_kind": "cash_register"}),
    ("invoice.cancelled", {"amount_vnd": 0}),
    ("payment.failed", {"dossier_id": DROP}),
    ("payment.refunded", {"dossier_id": None}),
]


@pytest.mark.parametrize(("event_type", "overrides"), VALID_VARIANTS)
def test_valid_events_pass_type_and_topic_schema(
    exported: dict[str, dict[str, Any]], event_type: str, overrides: dict[str, Any]
) -> None:
    data = make(event_type, **overrides)
    accepted(data)  # the models agree it is valid
    validator(exported[event_type]).validate(data)
    validator(exported[topic_of(event_type)]).validate(data)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_wire_json_passes_its_schemas(exported: dict[str, dict[str, Any]], event_type: str) -> None:
    wire = json.loads(accepted(make(event_type)).to_json())
    validator(exported[event_type]).validate(wire)
    validator(exported[topic_of(event_type)]).validate(wire)


INVALID_VARIANTS: list[tuple[str, str, dict[str, Any]]] = [
    ("unknown field", "dossier.rated", {"note": "x"}),
    ("unknown field", "payment.succeeded", {"currency": "VND"}),
    ("9-digit dossier_id", "dossier.completed", {"dossier_id": "123456789"}),
    ("12-digit dossier_id", "payment.failed", {"dossier_id": "001204012345"}),
    ("12-digit procedure_code", "dossier.received", {"procedure_code": "001204012345"}),
    ("online without online_level", "dossier.received", {"online_level": DROP}),
    ("online with null online_level", "dossier.received", {"online_level": None}),
    ("postal with online_level", "dossier.received", {"channel": "postal"}),
    ("wrong enum", "dossier.rated", {"satisfaction": "happy"}),
    ("wrong enum", "invoice.issued", {"invoice_kind": "paper"}),
    ("wrong enum", "payment.refunded", {"method": "cash"}),
    ("unknown locality", "invoice.cancelled", {"locality_code": "99"}),
    ("one-digit locality", "invoice.cancelled", {"locality_code": "1"}),
    ("schema_version 2", "dossier.rated", {"schema_version": 2}),
    ("schema_version true", "dossier.rated", {"schema_version": True}),
    ("missing field", "invoice.issued", {"vat_vnd": DROP}),
    ("negative amount", "invoice.issued", {"amount_vnd": -1}),
    ("zero payment", "payment.succeeded", {"amount_vnd": 0}),
    ("float amount", "payment.succeeded", {"amount_vnd": 150_000.5}),
    ("string bool", "dossier.completed", {"digitized": "true"}),
    ("naive timestamp", "dossier.rated", {"occurred_at": "2026-11-20T09:15:00"}),
    ("timestamp without T", "dossier.rated", {"occurred_at": "2026-11-20 09:15:00+07:00"}),
    ("tax code", "invoice.issued", {"seller_tax_code": "0101234567-01"}),
    ("agency code", "invoice.issued", {"agency_code": "HN MOTCUA"}),
    ("agency code length", "invoice.issued", {"agency_code": "A" * 65}),
    ("event_id", "payment.failed", {"event_id": "not-a-uuid"}),
    ("applicant_ref", "dossier.received", {"applicant_ref": "A" * 64}),
]


@pytest.mark.parametrize(
    ("event_type", "overrides"),
    [(t, o) for _, t, o in INVALID_VARIANTS],
    ids=[f"{t}: {why}" for why, t, _ in INVALID_VARIANTS],
)
def test_invalid_events_fail_type_and_topic_schema(
    exported: dict[str, dict[str, Any]], event_type: str, overrides: dict[str, Any]
) -> None:
    data = make(event_type, **overrides)
    assert not validator(exported[event_type]).is_valid(data)
    assert not validator(exported[topic_of(event_type)]).is_valid(data)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_topic_schema_rejects_other_topics_events(
    exported: dict[str, dict[str, Any]], event_type: str
) -> None:
    for topic in TOPIC_KEYS:
        if topic != topic_of(event_type):
            assert not validator(exported[topic]).is_valid(make(event_type))


def test_unknown_event_type_fails_topic_schema(exported: dict[str, dict[str, Any]]) -> None:
    data = make("dossier.rated", event_type="dossier.deleted")
    assert not validator(exported["dx.dossier.v1"]).is_valid(data)


# --- batched messages -------------------------------------------------------------------


@pytest.mark.parametrize("topic", list(TOPIC_KEYS))
def test_batch_schema_is_an_array_of_its_topics_events(
    exported: dict[str, dict[str, Any]], topic: str
) -> None:
    schema = exported[f"{topic}.batch"]
    assert (schema["type"], schema["minItems"], schema["maxItems"]) == ("array", 1, 1000)
    single = exported[topic]
    assert schema["items"]["oneOf"] == single["oneOf"] and schema["$defs"] == single["$defs"]
    assert "murmur2" in schema["description"] and TOPIC_KEYS[topic] in schema["description"]
    check = validator(schema)
    types = [t for t in EVENT_TYPES if topic_of(t) == topic]
    wire = [json.loads(accepted(make(t)).to_json()) for t in types]
    check.validate(wire)
    check.validate(wire[:1] * 1000)
    assert not check.is_valid([])
    assert not check.is_valid(wire[:1] * 1001)
    assert not check.is_valid(wire[0])  # a single event is not a batch
    others = [t for t in EVENT_TYPES if topic_of(t) != topic]
    assert not check.is_valid([*wire, make(others[0])])
    assert not check.is_valid([*wire, make(types[0], locality_code="99")])


# --- CLI --------------------------------------------------------------------------------


def test_cli_schema_export(tmp_path: Path) -> None:
    out = tmp_path / "schemas" / "v1"
    result = CliRunner().invoke(app, ["schema", "export", str(out)])
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.schema.json"))
    assert len(files) == 14
    assert {p.name for p in files} == {f"{n}.schema.json" for n in NAMES}
    assert "14 files written" in result.output
    assert "dx.invoice.v1.batch.schema.json" in result.output
    assert "batched message" in result.output
    assert "dossier.received.schema.json" in result.output
    for path in files:
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text("utf-8")))


def test_cli_schema_export_requires_a_directory() -> None:
    result = CliRunner().invoke(app, ["schema", "export"])
    assert result.exit_code != 0
