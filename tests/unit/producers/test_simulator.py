"""The traffic simulator: deterministic, realistic within stated bounds, faults as labelled.

Three fixed-seed samples, generated once per module:

* ``national``: one week (Mon-Sun) at the national mix (~100 e-invoices per dossier);
* ``dossiers``: three weeks with few e-invoices, for per-province dossier statistics;
* ``faulty``: two days with every fault injected, for the contract checks.
"""

from __future__ import annotations

import gc
import itertools
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest

from dxpulse.contracts import EventValidationError, pseudonymize, validate_event
from dxpulse.producers.simulator import (
    PROVINCE_TABLE,
    SIMULATOR_KEY,
    VN_TZ,
    MessageKind,
    SimulatedMessage,
    SimulationConfig,
    Simulator,
    calibrate,
    dossier_profile,
    invoice_profile,
    province_profiles,
)
from dxpulse.reference import load_localities

WEEK_START = datetime(2026, 9, 7, tzinfo=VN_TZ)  # a Monday
CITIZEN_ID = re.compile(r"^(\d{9}|\d{12})$")
PREFIX_TO_CODE = {prefix: code for code, prefix, _, _ in PROVINCE_TABLE}


@dataclass
class Sample:
    config: SimulationConfig
    now: datetime
    messages: list[SimulatedMessage]

    def of(self, event_type: str) -> list[Mapping[str, Any]]:
        return [m.fields for m in self.messages if m.event_type == event_type and m.fields]


def generate(config: SimulationConfig, now: datetime) -> Sample:
    gc.disable()  # hundreds of thousands of small dicts: the collector only slows this down
    try:
        return Sample(config, now, list(Simulator(config, now=now)))
    finally:
        gc.enable()


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def local(text: str) -> datetime:
    return ts(text).astimezone(VN_TZ)


def share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values)


def sigma(n: int, p: float = 0.5) -> float:
    return math.sqrt(p * (1 - p) / n)


@pytest.fixture(scope="module")
def national() -> Sample:
    now = WEEK_START + timedelta(days=7)
    config = calibrate(SimulationConfig(start=WEEK_START, seed=11), 100_000, now)
    return generate(config, now)


@pytest.fixture(scope="module")
def dossiers() -> Sample:
    start = datetime(2026, 8, 3, tzinfo=VN_TZ)  # a Monday
    now = start + timedelta(days=21)
    config = SimulationConfig(start=start, seed=11, invoices_per_dossier=0.1)
    return generate(calibrate(config, 80_000, now), now)


FAULTS = {
    "duplicate_rate": 0.03,
    "late_rate": 0.03,
    "out_of_order_rate": 0.1,
    "legacy_code_rate": 0.1,
    "invalid_rate": 0.03,
}


def faulty_config(seed: int = 5) -> tuple[SimulationConfig, datetime]:
    start = datetime(2026, 10, 5, 6, tzinfo=VN_TZ)
    now = start + timedelta(days=2)
    config = SimulationConfig(start=start, seed=seed, invoices_per_dossier=2, **FAULTS)
    return calibrate(config, 25_000, now), now


@pytest.fixture(scope="module")
def faulty() -> Sample:
    return generate(*faulty_config())


# Determinism --------------------------------------------------------------------------------


def wire(messages: Iterable[SimulatedMessage]) -> list[tuple[str, bytes | None, bytes, str]]:
    return [(m.topic, m.key, m.value, m.kind.value) for m in messages]


def test_same_config_gives_identical_bytes(faulty: Sample) -> None:
    again = generate(*faulty_config())
    assert len(faulty.messages) > 15_000
    assert wire(again.messages) == wire(faulty.messages)


def test_another_seed_gives_other_events(faulty: Sample) -> None:
    config, now = faulty_config(seed=6)
    other = [m.value for m in itertools.islice(Simulator(config, now=now), 500)]
    assert not set(other) & {m.value for m in faulty.messages}


def test_a_later_window_gets_fresh_identifiers() -> None:
    now = WEEK_START + timedelta(hours=4)
    first = SimulationConfig(start=WEEK_START + timedelta(hours=2), seed=3, rate=2.0)
    second = SimulationConfig(start=WEEK_START + timedelta(hours=3), seed=3, rate=2.0)
    keys_a = {m.key for m in Simulator(first, now=now - timedelta(hours=1))}
    keys_b = {m.key for m in Simulator(second, now=now)}
    assert keys_a and keys_b and not keys_a & keys_b


def test_validating_while_generating_changes_nothing() -> None:
    config, now = faulty_config()
    checked = replace(config, validate=True)
    first = list(itertools.islice(Simulator(checked, now=now), 2000))
    assert wire(first) == wire(itertools.islice(Simulator(config, now=now), 2000))


def test_configuration_is_checked() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        SimulationConfig(start=datetime(2026, 9, 7))
    with pytest.raises(ValueError, match="duplicate_rate"):
        SimulationConfig(start=WEEK_START, duplicate_rate=1.5)
    with pytest.raises(ValueError, match="rate"):
        SimulationConfig(start=WEEK_START, rate=0)
    with pytest.raises(ValueError, match="future"):
        Simulator(SimulationConfig(start=WEEK_START), now=WEEK_START - timedelta(seconds=1))


# Volume, provinces, time of day ----------------------------------------------------------------


def test_calibrate_hits_the_requested_volume(national: Sample) -> None:
    assert 0.95 * 100_000 <= len(national.messages) <= 1.02 * 100_000
    assert {m.kind for m in national.messages} == {MessageKind.valid}


def test_nothing_happens_after_now(national: Sample) -> None:
    assert all(m.at <= national.now for m in national.messages)
    assert all(ts(m.fields["occurred_at"]) <= national.now for m in national.messages if m.fields)
    assert all(a.at <= b.at for a, b in zip(national.messages, national.messages[1:], strict=False))
    # Lifecycles that would finish after now stay open.
    assert len(national.of("dossier.completed")) < 0.9 * len(national.of("dossier.received"))


def test_about_a_hundred_invoices_per_dossier(national: Sample) -> None:
    ratio = len(national.of("invoice.issued")) / len(national.of("dossier.received"))
    assert 85 <= ratio <= 115


def test_hanoi_and_ho_chi_minh_city_are_the_largest(national: Sample) -> None:
    for event_type in ("dossier.received", "invoice.issued"):
        counts = Counter(e["locality_code"] for e in national.of(event_type))
        assert len(counts) == 34
        assert [code for code, _ in counts.most_common(2)] == ["79", "01"], event_type


def test_dossiers_arrive_in_office_hours(national: Sample) -> None:
    times = [local(e["occurred_at"]) for e in national.of("dossier.received")]

    def office(t: datetime) -> bool:
        minutes = t.hour * 60 + t.minute
        return t.weekday() < 5 and 7 * 60 + 30 <= minutes < 17 * 60

    assert share(office(t) for t in times) >= 0.80
    assert share(t.weekday() >= 5 for t in times) < 0.08
    assert share(t.hour < 6 for t in times) < 0.03


def test_invoices_spread_wider_than_dossiers(national: Sample) -> None:
    times = [local(e["occurred_at"]) for e in national.of("invoice.issued")]
    daytime = share(t.weekday() < 5 and 7 <= t.hour < 17 for t in times)
    assert 0.35 <= daytime <= 0.65
    assert share(17 <= t.hour < 22 for t in times) >= 0.12
    assert share(t.weekday() >= 5 for t in times) >= 0.15


def test_profiles_average_one_and_peak_in_office_hours() -> None:
    hours = [WEEK_START + timedelta(minutes=30 * i) for i in range(7 * 48)]
    assert statistics.fmean(dossier_profile(t) for t in hours) == pytest.approx(1.0)
    tuesday_10 = WEEK_START + timedelta(days=1, hours=10)
    assert dossier_profile(tuesday_10) > 20 * dossier_profile(tuesday_10 - timedelta(hours=8))
    month_end = datetime(2026, 9, 30, 10, tzinfo=VN_TZ)
    assert invoice_profile(month_end) > 1.5 * invoice_profile(month_end - timedelta(days=7))


# Per-province behaviour ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(1, 30))
def test_province_traits_are_within_bounds(seed: int) -> None:
    profiles = province_profiles(seed)
    assert sorted(p.code for p in profiles) == sorted(load_localities().current)
    for p in profiles:
        assert 0.43 <= p.online_share <= 0.60
        assert 0.17 <= p.full_online_share <= 0.42
        assert p.full_online_share < p.online_share
        assert 0.90 <= p.on_time <= 0.98
        assert 0.36 <= p.fee_share <= 0.44
        assert 0.60 <= p.digitised <= 0.85
        assert 0.20 <= p.rated_share <= 0.30
        assert 0.02 <= p.dissatisfied <= 0.05
    assert province_profiles(seed) == profiles


def within(observed: float, n: int, low: float, high: float, target: float) -> None:
    """Inside [low, high] up to 3 sampling sigmas, and within 4 sigmas of the drawn value."""
    s = sigma(n, target)
    assert low - 3 * sigma(n) <= observed <= high + 3 * sigma(n), (observed, n, low, high)
    assert abs(observed - target) <= 4 * s + 1e-9, (observed, target, n)


def test_dossier_shares_per_province(dossiers: Sample) -> None:
    received = defaultdict(list)
    for e in dossiers.of("dossier.received"):
        received[e["locality_code"]].append(e)
    due = {e["dossier_id"]: ts(e["due_at"]) for rows in received.values() for e in rows}
    completed = defaultdict(list)
    for e in dossiers.of("dossier.completed"):
        completed[e["locality_code"]].append(e)
    settled = dossiers.now - timedelta(days=5)  # late completions of these are all in
    for p in province_profiles(dossiers.config.seed):
        rows = received[p.code]
        n = len(rows)
        assert n >= 100, p.code
        within(share(e["channel"] == "online" for e in rows), n, 0.43, 0.60, p.online_share)
        full = share(e.get("online_level") == "full" for e in rows)
        within(full, n, 0.17, 0.42, p.full_online_share)
        within(share(e["fee_required"] for e in rows), n, 0.36, 0.44, p.fee_share)
        done = completed[p.code]
        within(share(e["digitized"] for e in done), len(done), 0.60, 0.85, p.digitised)
        closed = [e for e in done if due[e["dossier_id"]] <= settled]
        on_time = share(ts(e["occurred_at"]) <= due[e["dossier_id"]] for e in closed)
        within(on_time, len(closed), 0.90, 0.98, p.on_time)


def test_national_dossier_shares(dossiers: Sample) -> None:
    received = dossiers.of("dossier.received")
    completed = dossiers.of("dossier.completed")
    rated = dossiers.of("dossier.rated")
    assert 0.35 <= share(e["fee_required"] for e in received) <= 0.45
    assert 0.43 <= share(e["channel"] == "online" for e in received) <= 0.60
    assert 0.17 <= share(e.get("online_level") == "full" for e in received) <= 0.42
    assert 0.60 <= share(e["digitized"] for e in completed) <= 0.85
    assert 0.20 <= len(rated) / len(completed) <= 0.30
    assert 0.01 <= share(e["satisfaction"] == "dissatisfied" for e in rated) <= 0.06
    assert 0.02 <= share(e["result"] == "rejected" for e in completed) <= 0.06
    assert 0.1 <= share(e["applicant_type"] == "business" for e in received) <= 0.3


def test_dossier_lifecycles_are_consistent(dossiers: Sample) -> None:
    received = {e["dossier_id"]: e for e in dossiers.of("dossier.received")}
    assert len(received) == len(dossiers.of("dossier.received"))  # ids are unique
    for e in received.values():
        assert ts(e["due_at"]) > ts(e["occurred_at"])
        due = local(e["due_at"])
        assert due.weekday() < 5 and (due.hour, due.minute) == (17, 0)
        assert ts(e["due_at"]) - ts(e["occurred_at"]) <= timedelta(days=15)
        assert ("online_level" in e) == (e["channel"] == "online")
    hours = []
    for e in dossiers.of("dossier.completed"):
        start = received[e["dossier_id"]]
        assert e["agency_code"] == start["agency_code"]
        assert e["locality_code"] == start["locality_code"]
        hours.append((ts(e["occurred_at"]) - ts(start["occurred_at"])).total_seconds() / 3600)
        t = local(e["occurred_at"])
        assert t.weekday() < 5 and 7.5 <= t.hour + t.minute / 60 < 17
    assert min(hours) < 4 and statistics.median(hours) > 12 and max(hours) > 24 * 7
    for e in dossiers.of("dossier.rated"):
        assert e["dossier_id"] in received


def test_payments_follow_fee_bearing_dossiers(dossiers: Sample) -> None:
    received = {e["dossier_id"]: e for e in dossiers.of("dossier.received")}
    succeeded = dossiers.of("payment.succeeded")
    failed = dossiers.of("payment.failed")
    fee_bearing = [e for e in received.values() if e["fee_required"]]
    assert 0.4 <= len(succeeded) / len(fee_bearing) <= 0.8
    for e in succeeded + failed:
        dossier = received[e["dossier_id"]]
        assert dossier["fee_required"] is True
        assert 10_000 <= e["amount_vnd"] <= 500_000
        assert e["amount_vnd"] % 1000 == 0
        assert ts(e["occurred_at"]) > ts(dossier["occurred_at"])
    assert 0.02 <= len(failed) / (len(succeeded) + len(failed)) <= 0.07
    paid_after_failure = {e["dossier_id"] for e in succeeded} & {e["dossier_id"] for e in failed}
    assert len(paid_after_failure) >= 0.6 * len(failed)
    by_payment = {e["payment_id"]: e for e in succeeded}
    refunds = dossiers.of("payment.refunded")
    assert 0 < len(refunds) <= 0.05 * len(succeeded)
    for e in refunds:
        paid = by_payment[e["payment_id"]]
        assert e["amount_vnd"] == paid["amount_vnd"] and e["dossier_id"] == paid["dossier_id"]
        assert ts(e["occurred_at"]) > ts(paid["occurred_at"])
    assert {e["method"] for e in succeeded} == {"qr", "bank_transfer", "e_wallet", "card"}
    assert {e["gateway"] for e in succeeded} == {"national_portal", "local_gateway"}


# E-invoices ------------------------------------------------------------------------------------


def test_invoice_kinds_amounts_and_vat(national: Sample) -> None:
    issued = national.of("invoice.issued")
    kinds = Counter(e["invoice_kind"] for e in issued)
    n = len(issued)
    assert kinds["with_code"] / n == pytest.approx(0.30, abs=0.02)
    assert kinds["without_code"] / n == pytest.approx(0.65, abs=0.02)
    assert kinds["cash_register"] / n == pytest.approx(0.05, abs=0.01)
    rates = Counter()
    for e in issued:
        pre = e["amount_vnd"] - e["vat_vnd"]
        rate = next(r for r in (0, 5, 8, 10) if e["vat_vnd"] == pre * r // 100)
        rates[rate] += 1
        assert re.fullmatch(r"\d{10}(-\d{3})?", e["seller_tax_code"])
        assert e["invoice_id"].startswith(e["seller_tax_code"] + "/")
    assert set(rates) == {0, 5, 8, 10}
    amounts = sorted(e["amount_vnd"] for e in issued)
    median = amounts[n // 2]
    assert 200_000 <= median <= 800_000
    assert amounts[int(n * 0.99)] > 10 * median  # long tail
    assert amounts[0] >= 1_000


def test_some_invoices_are_cancelled_later(national: Sample) -> None:
    issued = {e["invoice_id"]: e for e in national.of("invoice.issued")}
    assert len(issued) == len(national.of("invoice.issued"))
    cancelled = national.of("invoice.cancelled")
    assert 0.004 <= len(cancelled) / len(issued) <= 0.012
    for e in cancelled:
        original = issued[e["invoice_id"]]
        assert e["amount_vnd"] == original["amount_vnd"]
        assert e["seller_tax_code"] == original["seller_tax_code"]
        assert ts(e["occurred_at"]) > ts(original["occurred_at"])


# Identifiers -----------------------------------------------------------------------------------


def test_identifiers_look_real_and_are_never_citizen_ids(dossiers: Sample) -> None:
    fields = [m.fields for m in dossiers.messages if m.fields]
    for f in fields:
        for name in ("dossier_id", "payment_id", "invoice_id", "procedure_code"):
            if name in f:
                assert not CITIZEN_ID.match(f[name]), f
        prefix, _, unit = f["agency_code"].partition(".")
        assert PREFIX_TO_CODE[prefix] == f["locality_code"]
        assert unit
    for e in dossiers.of("dossier.received"):
        assert re.fullmatch(r"\d{3}\.\d{2}\.\d{2}\.H\d{2}-\d{6}-\d{6}", e["dossier_id"]), e
        assert f".H{e['locality_code']}-" in e["dossier_id"]
        assert re.fullmatch(r"[12]\.\d{6}", e["procedure_code"])
        assert re.fullmatch(r"[0-9a-f]{64}", e["applicant_ref"])
    refs = [e["applicant_ref"] for e in dossiers.of("dossier.received")]
    assert len(set(refs)) > 0.99 * len(refs)
    agencies = {f["agency_code"].split(".")[1] for f in fields}
    assert {"MOTCUA", "THUE", "STP"} <= agencies
    assert any(a.startswith("XA") for a in agencies)
    event_ids = [f["event_id"] for f in fields]
    assert len(set(event_ids)) == len(event_ids)


def test_applicant_ref_uses_the_published_simulation_key() -> None:
    assert len(SIMULATOR_KEY.encode()) >= 16
    assert pseudonymize("001204012345", SIMULATOR_KEY) != pseudonymize("001204012345", "x" * 16)


# Faults and the contract -----------------------------------------------------------------------


def test_every_kind_of_fault_is_present(faulty: Sample) -> None:
    kinds = Counter(m.kind for m in faulty.messages)
    assert set(kinds) == set(MessageKind)
    n = len(faulty.messages)
    assert kinds[MessageKind.duplicate] / n == pytest.approx(0.03, abs=0.01)
    assert kinds[MessageKind.invalid] / n == pytest.approx(0.03, abs=0.01)


def test_valid_messages_pass_the_contract(faulty: Sample) -> None:
    for m in faulty.messages:
        if m.kind is MessageKind.invalid:
            continue
        event = validate_event(m.value, topic=m.topic)
        assert m.key == event.key.encode()
        assert event.event_type == m.event_type
        assert event.to_json() == m.value
        assert m.event == event


def test_invalid_messages_fail_the_contract_in_varied_ways(faulty: Sample) -> None:
    invalid = [m for m in faulty.messages if m.kind is MessageKind.invalid]
    assert len(invalid) > 300
    for m in invalid:
        with pytest.raises(EventValidationError):
            validate_event(m.value, topic=m.topic)
        with pytest.raises(EventValidationError):
            validate_event(m.value)
        assert m.event is None
    defects = Counter(m.defect for m in invalid)
    assert set(defects) == {
        "unknown_field",
        "bad_locality",
        "citizen_id",
        "negative_amount",
        "missing_field",
        "naive_timestamp",
        "bad_json",
    }
    for m in invalid:
        if m.defect == "bad_json":
            with pytest.raises(orjson.JSONDecodeError):
                orjson.loads(m.value)
        elif m.defect == "citizen_id":
            assert CITIZEN_ID.match(orjson.loads(m.value)["dossier_id"])
        elif m.defect == "bad_locality":
            assert orjson.loads(m.value)["locality_code"] == "99"
        elif m.defect == "negative_amount":
            assert orjson.loads(m.value)["amount_vnd"] < 0


def test_duplicates_repeat_earlier_bytes(faulty: Sample) -> None:
    first_seen: dict[bytes, int] = {}
    for i, m in enumerate(faulty.messages):
        if m.kind is MessageKind.duplicate:
            original = faulty.messages[first_seen[m.value]]
            assert (original.topic, original.key) == (m.topic, m.key)
            assert original.kind is not MessageKind.duplicate
            assert timedelta(0) < m.at - original.at <= timedelta(minutes=15)
        else:
            assert m.value not in first_seen
            first_seen[m.value] = i


def test_late_events_are_hours_behind(faulty: Sample) -> None:
    late = [m for m in faulty.messages if m.kind is MessageKind.late]
    assert len(late) > 100
    for m in late:
        behind = m.at - ts(m.fields["occurred_at"])
        assert timedelta(hours=1) <= behind <= timedelta(hours=6)
    on_time = [m for m in faulty.messages if m.kind is MessageKind.valid]
    assert all(m.at - ts(m.fields["occurred_at"]) < timedelta(seconds=1) for m in on_time)


def test_late_arrivals_show_up_in_a_short_window() -> None:
    start = WEEK_START + timedelta(days=1, hours=9)
    config = SimulationConfig(start=start, seed=2, rate=2.0, late_rate=0.2)
    messages = list(Simulator(config, now=start + timedelta(minutes=10)))
    late = [m for m in messages if m.kind is MessageKind.late]
    assert len(late) > 0.1 * len(messages)
    for m in late:
        assert m.event_type in ("dossier.received", "invoice.issued")
        behind = m.at - ts(m.fields["occurred_at"])
        assert timedelta(hours=1) <= behind <= timedelta(hours=6)
        validate_event(m.value, topic=m.topic)


def test_out_of_order_completions_precede_their_receipt(faulty: Sample) -> None:
    position = {
        m.fields["dossier_id"]: i
        for i, m in enumerate(faulty.messages)
        if m.event_type == "dossier.received" and m.kind is not MessageKind.duplicate
    }
    early = [
        (i, m)
        for i, m in enumerate(faulty.messages)
        if m.kind is MessageKind.out_of_order and m.event_type != "dossier.received"
    ]
    assert len(early) > 50
    for i, m in early:
        assert position[m.fields["dossier_id"]] > i


def test_legacy_codes_map_to_the_province(faulty: Sample) -> None:
    ref = load_localities()
    legacy = [m for m in faulty.messages if m.kind is MessageKind.legacy_code]
    assert len(legacy) > 500
    for m in legacy:
        fields = m.fields
        assert fields is not None
        code = fields["locality_code"]
        province = PREFIX_TO_CODE[fields["agency_code"].split(".")[0]]
        assert code in ref.former and code not in ref.current
        assert ref.successor(code) == province
    assert {m.topic for m in legacy} == {"dx.dossier.v1", "dx.invoice.v1", "dx.payment.v1"}
