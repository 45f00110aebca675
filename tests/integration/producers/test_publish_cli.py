"""``dxpulse publish`` end to end against the real broker."""

from __future__ import annotations

import uuid
from pathlib import Path

import orjson
import pytest
from kafka import KafkaConsumer, TopicPartition

from dxpulse.contracts import DOSSIER_TOPIC, PAYMENT_TOPIC, validate_event
from tests.conftest import run_cli

pytestmark = pytest.mark.integration


def events(tag: str) -> list[dict[str, object]]:
    common = {
        "occurred_at": "2026-11-20T09:15:00+07:00",
        "agency_code": "DN.MOTCUA",
        "locality_code": "48",
        "schema_version": 1,
    }
    return [
        common | {"event_type": "dossier.rated", "dossier_id": f"A-{tag}", "satisfaction": "satisfied"},
        common | {"event_type": "payment.succeeded", "payment_id": f"P-{tag}", "amount_vnd": 30000,
                  "method": "qr", "gateway": "local_gateway", "dossier_id": f"A-{tag}"},
        common | {"event_type": "dossier.rated", "dossier_id": "079204001234", "satisfaction": "neutral"},
        common | {"event_type": "payment.succeeded", "payment_id": f"P0-{tag}", "amount_vnd": 0,
                  "method": "qr", "gateway": "local_gateway"},
    ]  # fmt: skip


def published_with(bootstrap: str, tag: str) -> list[bytes]:
    """Every published event (batches taken apart) whose JSON contains ``tag``."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=3000)
    consumer.assign(
        [TopicPartition(t, p) for t in (DOSSIER_TOPIC, PAYMENT_TOPIC) for p in range(4)]
    )
    consumer.seek_to_beginning()
    values: list[bytes] = []
    for message in consumer:
        if tag.encode() not in message.value:
            continue
        parsed = orjson.loads(message.value)
        events = parsed if isinstance(parsed, list) else [parsed]
        values += [orjson.dumps(e) for e in events if tag in orjson.dumps(e).decode()]
    consumer.close()
    return values


def test_publish_mixed_file(tmp_path: Path, kafka_bootstrap: str) -> None:
    tag = uuid.uuid4().hex[:10]
    lines = [orjson.dumps(e).decode() for e in events(tag)]
    source = tmp_path / "mixed.jsonl"
    source.write_text("\n".join([lines[0], "not json", lines[1], lines[2], lines[3]]) + "\n")
    env = {"DXPULSE_KAFKA_BOOTSTRAP": kafka_bootstrap}

    dry = run_cli("publish", str(source), "--dry-run", env=env)
    assert dry.returncode == 1
    assert published_with(kafka_bootstrap, tag) == []

    result = run_cli("publish", str(source), "--rejects", str(tmp_path / "bad.jsonl"), env=env)
    assert result.returncode == 1, result.stderr
    summary = " ".join(result.stderr.split())
    assert "published │ 2" in summary and "rejected │ 3" in summary

    rejects = [orjson.loads(line) for line in (tmp_path / "bad.jsonl").read_text().splitlines()]
    assert [(r["line"], [e["field"] for e in r["errors"]]) for r in rejects] == [
        (2, ["$"]),
        (4, ["dossier_id"]),
        (5, ["amount_vnd"]),
    ]
    assert "raw citizen ID" in rejects[1]["errors"][0]["reason"]
    assert rejects[1]["raw"] == lines[2]

    values = published_with(kafka_bootstrap, tag)
    assert len(values) == 2
    assert {validate_event(v).event_type for v in values} == {"dossier.rated", "payment.succeeded"}

    # Publishing the same file again re-sends the same event ids: downstream counts once.
    assert run_cli("publish", str(source), env=env).returncode == 1
    again = published_with(kafka_bootstrap, tag)
    assert len(again) == 4
    assert {orjson.loads(v)["event_id"] for v in again} == {
        orjson.loads(v)["event_id"] for v in values
    }


def test_clean_csv_exits_zero_and_leaves_no_rejects(tmp_path: Path, kafka_bootstrap: str) -> None:
    tag = uuid.uuid4().hex[:10]
    source = tmp_path / "ok.csv"
    source.write_text(
        "event_type,occurred_at,agency_code,locality_code,schema_version,dossier_id,satisfaction\n"
        f"dossier.rated,2026-11-20T09:15:00+07:00,HN.MC,27,1,C1-{tag},satisfied\n"
        f"dossier.rated,2026-11-20T09:15:00Z,HN.MC,01,1,C2-{tag},dissatisfied\n"
    )
    result = run_cli("publish", str(source), env={"DXPULSE_KAFKA_BOOTSTRAP": kafka_bootstrap})
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "ok.csv.rejects.jsonl").exists()
    assert len(published_with(kafka_bootstrap, tag)) == 2


def test_unreachable_broker_is_one_clear_line(tmp_path: Path) -> None:
    source = tmp_path / "x.jsonl"
    source.write_text(orjson.dumps(events("u")[0]).decode() + "\n")
    result = run_cli("publish", str(source), env={"DXPULSE_KAFKA_BOOTSTRAP": "127.0.0.1:1"})
    assert result.returncode == 4
    assert "no Kafka broker at 127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr


def messages_with(bootstrap: str, tag: str) -> list[tuple[bytes | None, object]]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=3000)
    consumer.assign([TopicPartition(DOSSIER_TOPIC, p) for p in range(4)])
    consumer.seek_to_beginning()
    found = [(m.key, orjson.loads(m.value)) for m in consumer if tag.encode() in m.value]
    consumer.close()
    return found


@pytest.mark.parametrize("batch_events", [None, "1"])
def test_publish_batches_by_default(
    tmp_path: Path, kafka_bootstrap: str, batch_events: str | None
) -> None:
    tag = uuid.uuid4().hex[:10]
    ids = [f"B{i % 3}-{tag}" for i in range(30)]  # three keys, ten events each
    source = tmp_path / "many.jsonl"
    source.write_text(
        "".join(orjson.dumps(events(tag)[0] | {"dossier_id": i}).decode() + "\n" for i in ids)
    )
    args = ["publish", str(source)] + (["--batch-events", batch_events] if batch_events else [])
    result = run_cli(*args, env={"DXPULSE_KAFKA_BOOTSTRAP": kafka_bootstrap})
    assert result.returncode == 0, result.stderr

    found = messages_with(kafka_bootstrap, tag)
    landed = [e for _, value in found for e in (value if isinstance(value, list) else [value])]
    assert sorted(e["dossier_id"] for e in landed) == sorted(ids)  # type: ignore[index]
    for key, value in found:
        first = value[0] if isinstance(value, list) else value
        assert key == first["dossier_id"].encode()  # type: ignore[index]
    if batch_events == "1":
        assert len(found) == 30 and not any(isinstance(v, list) for _, v in found)
    else:
        assert len(found) <= 3 and all(isinstance(v, list) for _, v in found)
    # Identical lines, identical derived event ids: downstream counts each key once.
    assert len({e["event_id"] for e in landed}) == 3  # type: ignore[index]
