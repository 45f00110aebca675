"""Reading JSON Lines and CSV event files."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from dxpulse.producers.files import detect_format, read_events

RATED = {
    "event_type": "dossier.rated",
    "occurred_at": "2026-11-20T09:15:00+07:00",
    "agency_code": "HN.MOTCUA",
    "locality_code": "01",
    "schema_version": 1,
    "dossier_id": "000.00.01.H26-261120-0001",
    "satisfaction": "satisfied",
}


def jsonl(tmp_path: Path, *lines: object) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text(
        "\n".join(line if isinstance(line, str) else orjson.dumps(line).decode() for line in lines)
        + "\n"
    )
    return path


def test_jsonl_good_bad_and_blank_lines(tmp_path: Path) -> None:
    path = jsonl(tmp_path, RATED, "", "{broken", [1, 2], RATED | {"satisfaction": "meh", "x": 1})
    records = list(read_events(path))
    assert [r.line for r in records] == [1, 3, 4, 5]
    assert records[0].ok and records[0].event is not None
    assert records[0].event.event_type == "dossier.rated"
    assert [e.field for e in records[1].errors] == ["$"]
    assert "invalid JSON" in records[1].errors[0].reason
    assert records[2].errors[0].reason == "must be a JSON object"
    assert {e.field for e in records[3].errors} == {"satisfaction", "x"}


def test_missing_event_id_is_derived_from_the_line(tmp_path: Path) -> None:
    first = next(iter(read_events(jsonl(tmp_path, RATED))))
    again = next(iter(read_events(jsonl(tmp_path, RATED))))
    other = next(iter(read_events(jsonl(tmp_path, RATED | {"satisfaction": "neutral"}))))
    assert first.derived_event_id
    assert first.event is not None and again.event is not None and other.event is not None
    assert first.event.event_id == again.event.event_id != other.event.event_id


def test_given_event_id_is_kept(tmp_path: Path) -> None:
    event_id = "0b3c7a1e-5d2f-4c8e-9a61-2f0e8d4b7c19"
    record = next(iter(read_events(jsonl(tmp_path, RATED | {"event_id": event_id}))))
    assert record.event is not None and record.event.event_id == event_id
    assert not record.derived_event_id


def test_csv_cells_are_typed_by_the_contract(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "event_type,occurred_at,agency_code,locality_code,schema_version,dossier_id,procedure_code,"
        "channel,online_level,due_at,fee_required,applicant_type\n"
        "dossier.received,2026-11-20T09:15:00+07:00,HN.MC,01,1,HS-1,1.004227,online,full,"
        "2026-11-27T17:00:00+07:00,true,citizen\n"
        "dossier.received,2026-11-20T09:15:00+07:00,HN.MC,01,1,HS-2,1.004227,in_person,,"
        "2026-11-27T17:00:00+07:00,0,business\n"
        "dossier.received,2026-11-20T09:15:00+07:00,HN.MC,01,1,HS-3,1.004227,postal,,"
        "2026-11-27T17:00:00+07:00,maybe,citizen\n"
        "dossier.received,too,few\n"
    )
    records = list(read_events(path))
    assert [r.line for r in records] == [2, 3, 4, 5]
    first, second, third, fourth = records
    assert first.event is not None and first.event.fee_required is True  # type: ignore[attr-defined]
    assert second.event is not None and second.event.online_level is None  # type: ignore[attr-defined]
    assert second.event.fee_required is False  # type: ignore[attr-defined]
    assert [e.field for e in third.errors] == ["fee_required"]
    assert "3 columns, the header has 12" in fourth.errors[0].reason


def test_csv_integer_columns(tmp_path: Path) -> None:
    path = tmp_path / "inv.csv"
    path.write_text(
        "event_type,occurred_at,agency_code,locality_code,schema_version,invoice_id,"
        "seller_tax_code,invoice_kind,amount_vnd,vat_vnd\n"
        "invoice.issued,2026-11-20T09:15:00+07:00,HCM.HD,79,1,I-1,0301234567,with_code,1100000,100000\n"
        "invoice.issued,2026-11-20T09:15:00+07:00,HCM.HD,79,1,I-2,0301234567,with_code,12.5,0\n"
    )
    ok, bad = list(read_events(path))
    assert ok.event is not None and ok.event.amount_vnd == 1_100_000  # type: ignore[attr-defined]
    assert [e.field for e in bad.errors] == ["amount_vnd"]


@pytest.mark.parametrize(
    ("name", "fmt"), [("a.jsonl", "jsonl"), ("a.NDJSON", "jsonl"), ("a.csv", "csv")]
)
def test_detect_format(name: str, fmt: str) -> None:
    assert detect_format(Path(name)) == fmt


def test_unknown_extension_is_refused() -> None:
    with pytest.raises(ValueError, match=r"use \.jsonl or \.csv"):
        detect_format(Path("events.txt"))
