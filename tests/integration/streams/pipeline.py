"""Drive the real pipeline from tests: workers as processes, ground truth computed independently."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient
from kafka.partitioner.default import murmur2

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
SOURCE = ("dx.dossier.v1", "dx.invoice.v1", "dx.payment.v1")
INTERNAL = (
    "dx.internal.dossier_events.v1",
    "dx.internal.invoice_events.v1",
    "dx.internal.payment_events.v1",
    "dx.deadletter.v1",
)


def publish(bootstrap: str, messages: Iterable[Any], *, batch_events: int = 1) -> int:
    """Publish (topic, key, value) messages in order; returns how many.

    With ``batch_events`` > 1, messages that are JSON go out in the batched form: arrays
    of up to that many events per (topic, partition of the key), as the contract says
    (independent of the SDK, which has its own tests); the rest stay single messages.
    """
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    n = 0
    pending: dict[tuple[str, int], list[Any]] = defaultdict(list)

    def send_batch(topic: str, partition: int) -> None:
        batch = pending.pop((topic, partition))
        value = b"[" + b",".join(m.value for m in batch) + b"]"
        producer.send(topic, key=batch[0].key, value=value, partition=partition)

    for m in messages:
        n += 1
        if batch_events <= 1 or not _is_json(m.value):
            producer.send(m.topic, key=m.key, value=m.value)
            continue
        partitions = sorted(producer.partitions_for(m.topic))
        key = m.key if m.key is not None else m.value
        partition = partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]
        pending[(m.topic, partition)].append(m)
        if len(pending[(m.topic, partition)]) >= batch_events:
            send_batch(m.topic, partition)
    for topic, partition in list(pending):
        send_batch(topic, partition)
    producer.flush(60)
    producer.close()
    return n


def _is_json(value: bytes) -> bool:
    try:
        orjson.loads(value)
    except orjson.JSONDecodeError:
        return False
    return True


def lag(bootstrap: str, group: str, topics: Sequence[str]) -> int:
    """Messages of ``topics`` not yet committed by ``group``."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        committed = admin.list_group_offsets({group: None}).get(group, {})
        done = {(tp.topic, tp.partition): meta.offset for tp, meta in committed.items()}
        tps = [
            TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())
        ]
        ends = consumer.end_offsets(tps)
        return sum(
            max(end - max(done.get((tp.topic, tp.partition), 0), 0), 0) for tp, end in ends.items()
        )
    except Exception:  # group not formed yet: everything is pending  # noqa: BLE001
        return 1 << 30
    finally:
        admin.close()
        consumer.close()


def wait_caught_up(
    bootstrap: str, *, timeout_s: float = 240, sink_group: str = "dxpulse-sink"
) -> None:
    """Wait until the workers and the sink have committed everything (twice in a row)."""
    deadline = time.monotonic() + timeout_s
    clean = 0
    while time.monotonic() < deadline:
        if (
            lag(bootstrap, "dxpulse-worker", SOURCE) == 0
            and lag(bootstrap, sink_group, INTERNAL) == 0
        ):
            clean += 1
            if clean >= 2:
                return
        else:
            clean = 0
        time.sleep(1.5)
    raise TimeoutError(
        f"pipeline did not catch up: worker lag {lag(bootstrap, 'dxpulse-worker', SOURCE)}, "
        f"sink lag {lag(bootstrap, sink_group, INTERNAL)}"
    )


@dataclass
class WorkerProcess:
    """``dxpulse worker`` in a child process."""

    env: dict[str, str]
    log: Path
    sink: bool = True
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        args = [sys.executable, "-m", "dxpulse", "worker"] + ([] if self.sink else ["--no-sink"])
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("DXPULSE_")} | self.env
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                args, env=full_env, stdout=out, stderr=subprocess.STDOUT
            )
        return self

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(90)
            except subprocess.TimeoutExpired:
                self.process.kill()
                raise
        return int(self.process.returncode)

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])


@dataclass
class Truth:
    """Expected view rows, computed from the published messages without the pipeline."""

    dossier: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    invoice: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    payment: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    dead_letters: int = 0
    accepted_events: int = 0


def ground_truth(messages: Sequence[Any], successor: dict[str, str]) -> Truth:
    """Count what the views must show: de-duplicated, normalised, lifecycle-joined."""
    from dxpulse.contracts import EventValidationError, validate_event

    truth = Truth()
    events: dict[str, dict[str, Any]] = {}
    for m in messages:
        try:
            validate_event(m.value, topic=m.topic)
        except EventValidationError:
            truth.dead_letters += 1
            continue
        data = orjson.loads(m.value)
        events.setdefault(
            data["event_id"], data
        )  # the first copy counts; later copies are duplicates
    truth.accepted_events = len(events)
    due = {
        e["dossier_id"]: e["due_at"]
        for e in events.values()
        if e["event_type"] == "dossier.received"
    }
    dossier: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    invoice: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    payment: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    paid: dict[tuple[str, str], set[str]] = defaultdict(set)
    for e in events.values():
        at = datetime.fromisoformat(e["occurred_at"])
        key = (at.astimezone(HCM).date().isoformat(), successor[e["locality_code"]])
        kind = e["event_type"]
        if kind == "dossier.received":
            d = dossier[key]
            d["received"] += 1
            d["received_online"] += e["channel"] == "online"
            d["received_full_online"] += e.get("online_level") == "full"
            d["received_fee_required"] += e["fee_required"]
        elif kind == "dossier.completed":
            d = dossier[key]
            d["completed"] += 1
            if e["dossier_id"] in due:
                on_time = at <= datetime.fromisoformat(due[e["dossier_id"]])
                d["completed_on_time"] += on_time
                d["completed_late"] += not on_time
            d["completed_digitized"] += e["digitized"]
        elif kind == "dossier.rated":
            d = dossier[key]
            d["rated"] += 1
            d["rated_dissatisfied"] += e["satisfaction"] == "dissatisfied"
        elif kind.startswith("invoice."):
            i = invoice[key]
            if kind == "invoice.issued":
                i["issued"] += 1
                i["issued_amount_vnd"] += e["amount_vnd"]
                i["issued_vat_vnd"] += e["vat_vnd"]
                i[e["invoice_kind"]] += 1
            else:
                i["cancelled"] += 1
                i["cancelled_amount_vnd"] += e["amount_vnd"]
        else:
            p = payment[key]
            p[kind.split(".")[1]] += 1
            if kind == "payment.succeeded":
                p["succeeded_amount_vnd"] += e["amount_vnd"]
                if e.get("dossier_id"):
                    paid[key].add(e["dossier_id"])
            elif kind == "payment.refunded":
                p["refunded_amount_vnd"] += e["amount_vnd"]
    for key in payment:
        payment[key]["paid_dossiers"] = len(paid[key])
    truth.dossier = {k: dict(v) for k, v in dossier.items()}
    truth.invoice = {k: dict(v) for k, v in invoice.items()}
    truth.payment = {k: dict(v) for k, v in payment.items()}
    return truth


def view_rows(
    rows: list[dict[str, Any]], columns: Sequence[str]
) -> dict[tuple[str, str], dict[str, int]]:
    """View rows keyed like :class:`Truth`, keeping the non-zero counts."""
    out: dict[tuple[str, str], dict[str, int]] = {}
    for row in rows:
        values = {c: int(row[c]) for c in columns if int(row[c]) != 0}
        out[(str(row["day"]), str(row["locality_code"]))] = values
    return out


DOSSIER_COLUMNS = (
    "received", "received_online", "received_full_online", "received_fee_required", "completed",
    "completed_on_time", "completed_late", "completed_digitized", "rated", "rated_dissatisfied",
)  # fmt: skip
INVOICE_COLUMNS = (
    "issued", "cancelled", "issued_amount_vnd", "issued_vat_vnd", "cancelled_amount_vnd",
    "with_code", "without_code", "cash_register",
)  # fmt: skip
PAYMENT_COLUMNS = (
    "succeeded", "failed", "refunded", "succeeded_amount_vnd", "refunded_amount_vnd", "paid_dossiers",
)  # fmt: skip
