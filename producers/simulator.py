"""Deterministic generator of realistic national dxpulse traffic (``dxpulse simulate``).

The simulator plays the 34 provinces: administrative-procedure dossiers received,
completed and rated, online payments for fee-bearing dossiers, and e-invoices issued
and cancelled, on a simulated clock in Asia/Ho_Chi_Minh local time. It yields the
messages in the order they would be published, each with its topic, key and the exact
bytes of the value, and can mix in the faults a real feed has (duplicates, late and
out-of-order events, pre-2025 locality codes, contract violations).

Example::

    from datetime import UTC, datetime, timedelta
    from dxpulse.contracts import validate_event
    from dxpulse.producers.simulator import SimulationConfig, Simulator

    now = datetime.now(UTC)
    config = SimulationConfig(seed=1, start=now - timedelta(hours=2), rate=200.0)
    for message in Simulator(config, now=now):
        if message.kind != "invalid":
            assert validate_event(message.value, topic=message.topic).key == message.key.decode()
        ...  # producer.send(message.topic, key=message.key, value=message.value)

    # Or aim at a message count: the rate that puts ~10,000 messages in the window.
    config = calibrate(SimulationConfig(seed=1, start=now - timedelta(hours=1)), 10_000, now)

Model
-----
* **Volume.** ``rate`` is the mean number of events per *simulated* second, averaged
  over a typical week (faults excluded). ``rate=200`` is about the real national volume
  (≈ 1.9 dossiers and ≈ 190 e-invoices a second on average, against ≈ 1.4 and ≈ 185
  in the 2025-2026 national figures). At any moment the intensity follows the
  traffic profile below, so an office-hour minute on a Tuesday carries several times
  the traffic of a minute at 3 a.m. :func:`calibrate` picks the rate that puts a wanted
  number of messages in a given window.
* **Provinces.** Traffic is shared between the 34 current provinces in proportion to
  :data:`PROVINCE_TABLE` (population in millions; e-invoices also weighted by an
  economic-activity factor). Hà Nội (01) and TP Hồ Chí Minh (79) are the largest.
  Per-province behaviour is drawn from the seed (:class:`ProvinceProfile`): online
  share of dossiers 43-60 %, end-to-end online (``online_level=full``) 17-42 % of all
  dossiers, on-time completion 90-98 %, fee-bearing 36-44 %, digitised 60-85 %, rated
  20-30 % of completed with 2-5 % dissatisfied.
* **Time.** Local time is Asia/Ho_Chi_Minh (UTC+7, no daylight saving since 1975).
  Dossiers arrive mostly in office hours, 07:30-17:00 Monday-Friday (≈ 87 % of them),
  with a lunch dip, a little in the evening, on Saturday mornings and on Sundays.
  E-invoices spread over 06:00-22:00 every day, lower at weekends, with month-end
  peaks (last three days of the month). Public holidays are not modelled.
* **Lifecycles.** A dossier is due at 17:00 a few working days after receipt; it is
  completed within office hours, on time with the province's on-time probability,
  otherwise hours to days after its due date; then possibly rated. Fee-bearing
  dossiers (fees 10,000-500,000 VND) are often paid online: ``payment.succeeded``
  carrying the ``dossier_id``; about 4 % of attempts fail first and are mostly retried
  under a new ``payment_id``; rejected dossiers are sometimes refunded. E-invoices
  (with tax-authority code 30 %, without 65 %, cash register 5 %) have log-normal
  pre-tax amounts (median ≈ 450,000 VND, long tail), VAT at 0, 5, 8 or 10 %, and about
  0.8 % are cancelled later. Events never pass ``now``: lifecycle steps that would
  happen after it are not emitted (the dossier simply stays open).
* **Identifiers** look like the real ones and are never 9 or 12 bare digits: dossier
  ids ``000.00.01.H01-261120-000123``, agencies ``HN.MOTCUA``, ``HCM.STP``,
  ``DNG.XA017``, ``HN.THUE``, tax codes of 10 digits (sometimes ``-NNN`` for a branch),
  invoice ids ``0101234567/1C26TAB/00012345``. ``applicant_ref`` is
  :func:`dxpulse.contracts.pseudonymize` of a made-up CCCD number with
  :data:`SIMULATOR_KEY`, a published simulation key, **not** a secret.

Faults (each a probability, 0 by default):

=====================  ==========================================================
``duplicate_rate``     per message: the exact same bytes (same ``event_id``) are
                       published again 1 s-15 min later (kind ``duplicate``)
``late_rate``          per event: published 1-6 hours after it happened (``late``;
                       receipts and issued invoices are back-dated instead, so
                       they appear even in windows shorter than the delay)
``out_of_order_rate``  per completed dossier: ``dossier.completed`` (and
                       ``dossier.rated``) are published before the
                       ``dossier.received``, which follows minutes later
                       (kind ``out_of_order`` on all of them)
``legacy_code_rate``   per event: ``locality_code`` is a pre-2025 code whose
                       successor is the event's province (``legacy_code``);
                       provinces that kept their only code (Hà Nội, Huế, ...)
                       have none, so the effective rate is lower
``invalid_rate``       per event: an extra message that breaks the contract
                       (``invalid``): unknown field, locality ``99``, a raw
                       citizen id as ``dossier_id``, a negative amount, a missing
                       field, a timestamp without offset, or truncated JSON
=====================  ==========================================================

Determinism: everything is drawn from :class:`random.Random` instances seeded from
``seed`` (province traits, sellers) and from ``seed`` plus ``start`` (the traffic), so
the same configuration and ``now`` give byte-identical output, and consecutive windows
(a later ``start``) get fresh identifiers. The wall clock is never read, except that
``now`` defaults to the current time.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import orjson

from dxpulse.contracts import (
    DossierCompleted,
    DossierRated,
    DossierReceived,
    EventBase,
    InvoiceCancelled,
    InvoiceIssued,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
    pseudonymize,
)
from dxpulse.reference import load_localities

__all__ = [
    "PROVINCE_TABLE",
    "SIMULATOR_KEY",
    "VN_TZ",
    "MessageKind",
    "ProvinceProfile",
    "SimulatedMessage",
    "SimulationConfig",
    "Simulator",
    "calibrate",
    "dossier_profile",
    "invoice_profile",
    "province_profiles",
]

#: Local time of every simulated event.
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_OFFSET = int(datetime(2026, 1, 1, tzinfo=VN_TZ).utcoffset().total_seconds())  # type: ignore[union-attr]

#: Key of the simulator's pseudonyms. Published on purpose: simulated applicants are
#: made up, so this is a simulation key, NOT a secret. Real agencies load their own.
SIMULATOR_KEY = "dxpulse-simulator: public simulation key, not a secret"

#: (code, agency prefix, population in millions, e-invoice activity factor) of the 34
#: current provinces. Population: rounded 2024 figures of the units merged into each
#: (Resolution 202/2025/QH15); only the relative sizes matter. The activity factor
#: scales e-invoices per inhabitant (business hubs issue more).
PROVINCE_TABLE: tuple[tuple[str, str, float, float], ...] = (
    ("01", "HN", 8.72, 2.0),  # Hà Nội
    ("04", "CBG", 0.57, 0.5),  # Cao Bằng
    ("08", "TQG", 1.87, 0.5),  # Tuyên Quang + Hà Giang
    ("11", "DBN", 0.64, 0.5),  # Điện Biên
    ("12", "LCU", 0.49, 0.5),  # Lai Châu
    ("14", "SLA", 1.30, 0.5),  # Sơn La
    ("15", "LCI", 1.78, 0.7),  # Lào Cai + Yên Bái
    ("19", "TNN", 1.80, 0.9),  # Thái Nguyên + Bắc Kạn
    ("20", "LSN", 0.81, 0.7),  # Lạng Sơn
    ("22", "QNH", 1.36, 1.2),  # Quảng Ninh
    ("24", "BNH", 3.62, 1.3),  # Bắc Ninh + Bắc Giang
    ("25", "PTO", 4.02, 0.9),  # Phú Thọ + Vĩnh Phúc + Hòa Bình
    ("31", "HPG", 4.66, 1.3),  # Hải Phòng + Hải Dương
    ("33", "HYN", 3.57, 0.9),  # Hưng Yên + Thái Bình
    ("37", "NBH", 4.41, 0.8),  # Ninh Bình + Hà Nam + Nam Định
    ("38", "THA", 3.76, 0.8),  # Thanh Hóa
    ("40", "NAN", 3.47, 0.8),  # Nghệ An
    ("42", "HTH", 1.32, 0.7),  # Hà Tĩnh
    ("44", "QTI", 1.87, 0.7),  # Quảng Trị + Quảng Bình
    ("46", "HUE", 1.43, 0.9),  # Huế
    ("48", "DNG", 3.07, 1.3),  # Đà Nẵng + Quảng Nam
    ("51", "QNI", 2.16, 0.8),  # Quảng Ngãi + Kon Tum
    ("52", "GLI", 3.58, 0.8),  # Gia Lai + Bình Định
    ("56", "KHA", 2.24, 1.0),  # Khánh Hòa + Ninh Thuận
    ("66", "DLK", 3.35, 0.8),  # Đắk Lắk + Phú Yên
    ("68", "LDG", 3.87, 0.8),  # Lâm Đồng + Đắk Nông + Bình Thuận
    ("75", "DNI", 4.49, 1.2),  # Đồng Nai + Bình Phước
    ("79", "HCM", 14.00, 2.2),  # TP Hồ Chí Minh + Bình Dương + Bà Rịa-Vũng Tàu
    ("80", "TNH", 3.25, 1.0),  # Tây Ninh + Long An
    ("82", "DTP", 4.37, 0.8),  # Đồng Tháp + Tiền Giang
    ("86", "VLG", 4.26, 0.7),  # Vĩnh Long + Bến Tre + Trà Vinh
    ("91", "AGG", 4.95, 0.8),  # An Giang + Kiên Giang
    ("92", "CTO", 4.20, 0.9),  # Cần Thơ + Hậu Giang + Sóc Trăng
    ("96", "CMU", 2.61, 0.7),  # Cà Mau + Bạc Liêu
)

# Time of day ------------------------------------------------------------------------------

_SLOT = 1800  # the traffic profile is constant over half-hour slots (local time)
_SLOTS_PER_DAY = 48
_DAY = 86400
_OPEN = 7 * 3600 + 1800  # 07:30
_CLOSE = 17 * 3600  # 17:00
_DUE_TIME = 17 * 3600


def _slots(spans: Sequence[tuple[float, float, float]]) -> tuple[float, ...]:
    """48 half-hour weights from (from_hour, to_hour, weight) spans covering the day."""
    out = [0.0] * _SLOTS_PER_DAY
    for start, end, weight in spans:
        for i in range(round(start * 2), round(end * 2)):
            out[i] = weight
    return tuple(out)


# Relative dossier intake per half hour (Mon-Fri, Saturday, Sunday).
_DOSSIER_WEEKDAY = _slots(
    [
        (0, 6, 0.15),
        (6, 7.5, 0.6),
        (7.5, 8, 6.0),
        (8, 11, 12.0),
        (11, 11.5, 8.0),
        (11.5, 13.5, 3.0),  # lunch: online submissions continue
        (13.5, 16.5, 10.0),
        (16.5, 17, 6.0),
        (17, 19, 1.2),
        (19, 22, 0.8),
        (22, 24, 0.3),
    ]
)
_DOSSIER_SATURDAY = _slots(
    [(0, 7, 0.15), (7, 8, 0.6), (8, 11.5, 2.0), (11.5, 22, 0.6), (22, 24, 0.15)]
)
_DOSSIER_SUNDAY = _slots([(0, 7, 0.15), (7, 22, 0.5), (22, 24, 0.15)])
# E-invoices: trade hours, every day, evening retail.
_INVOICE_DAY = _slots(
    [
        (0, 5, 0.2),
        (5, 7, 0.6),
        (7, 8, 1.2),
        (8, 12, 2.0),
        (12, 14, 1.4),
        (14, 18, 1.9),
        (18, 21, 1.5),
        (21, 23, 0.8),
        (23, 24, 0.35),
    ]
)
_INVOICE_WEEKDAY_FACTOR = (1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.55)
#: Multiplier of e-invoice traffic on the last three days of a month (last day first).
_MONTH_END = (1.8, 1.5, 1.25)


def _normalised(week: list[tuple[float, ...]]) -> tuple[tuple[float, ...], ...]:
    mean = sum(sum(day) for day in week) / (7 * _SLOTS_PER_DAY)
    return tuple(tuple(w / mean for w in day) for day in week)


_DOSSIER_WEEK = _normalised([_DOSSIER_WEEKDAY] * 5 + [_DOSSIER_SATURDAY, _DOSSIER_SUNDAY])
_INVOICE_WEEK = _normalised([tuple(w * f for w in _INVOICE_DAY) for f in _INVOICE_WEEKDAY_FACTOR])
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _local_day(ts: float) -> int:
    """Days since 1970-01-01 in local time."""
    return int((ts + _OFFSET) // _DAY)


def _weekday(day: int) -> int:
    return (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0


def _month_end_factor(day: int) -> float:
    d = date.fromordinal(_EPOCH_ORDINAL + day)
    days_left = ((d.replace(day=28) + timedelta(days=4)).replace(day=1) - d).days - 1
    return _MONTH_END[days_left] if days_left < len(_MONTH_END) else 1.0


def dossier_profile(at: datetime) -> float:
    """Relative dossier intake at ``at`` (mean 1 over a week)."""
    slot = int((at.timestamp() + _OFFSET) // _SLOT)
    return _DOSSIER_WEEK[_weekday(slot // _SLOTS_PER_DAY)][slot % _SLOTS_PER_DAY]


def invoice_profile(at: datetime) -> float:
    """Relative e-invoice issuance at ``at`` (mean 1 over a week without month end)."""
    slot = int((at.timestamp() + _OFFSET) // _SLOT)
    day = slot // _SLOTS_PER_DAY
    return _INVOICE_WEEK[_weekday(day)][slot % _SLOTS_PER_DAY] * _month_end_factor(day)


# Configuration ----------------------------------------------------------------------------


class MessageKind(StrEnum):
    """Why a message is in the stream."""

    valid = "valid"
    duplicate = "duplicate"
    late = "late"
    out_of_order = "out_of_order"
    legacy_code = "legacy_code"
    invalid = "invalid"


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate. ``start`` must be timezone-aware.

    ``rate`` is events per simulated second averaged over a typical week (faults not
    counted); ``speed`` (simulated seconds per wall second) only matters to a caller
    that paces publishing, such as the CLI. ``invoices_per_dossier`` is the weekly ratio
    of ``invoice.issued`` to ``dossier.received`` (about 100 nationally); lower it to get
    more dossiers out of a sample.
    """

    start: datetime
    seed: int = 1
    rate: float = 200.0
    speed: float = 1.0
    invoices_per_dossier: float = 100.0
    duplicate_rate: float = 0.0
    late_rate: float = 0.0
    out_of_order_rate: float = 0.0
    legacy_code_rate: float = 0.0
    invalid_rate: float = 0.0
    #: Validate every event with the contract models while generating (about 2x slower).
    validate: bool = False

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise ValueError("start must be timezone-aware")
        if not self.rate > 0 or not math.isfinite(self.rate):
            raise ValueError(f"rate must be a positive number, got {self.rate}")
        if not self.speed > 0:
            raise ValueError(f"speed must be positive, got {self.speed}")
        if not self.invoices_per_dossier >= 0:
            raise ValueError("invoices_per_dossier must be >= 0")
        for name in (
            "duplicate_rate",
            "late_rate",
            "out_of_order_rate",
            "legacy_code_rate",
            "invalid_rate",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within 0..1, got {value}")
        if self.late_rate + self.legacy_code_rate > 1.0:
            raise ValueError("late_rate + legacy_code_rate must not exceed 1")


def _rng(label: str) -> random.Random:
    """A reproducible generator for ``label`` (string seeds hash the same in every process).

    Simulation, not cryptography: nothing secret comes from it.
    """
    return random.Random(f"dxpulse-simulator:{label}")  # noqa: S311


# Provinces --------------------------------------------------------------------------------

_DEPARTMENTS = ("STP", "STC", "SXD", "SYT", "SGDDT", "SNNMT", "SCT", "SNV", "SKHCN", "CAT")


@dataclass(frozen=True)
class ProvinceProfile:
    """One province's size and behaviour, drawn deterministically from the seed."""

    code: str
    name: str
    prefix: str
    population_m: float
    dossier_weight: float
    invoice_weight: float
    online_share: float
    full_online_share: float
    on_time: float
    fee_share: float
    digitised: float
    rated_share: float
    dissatisfied: float
    neutral: float
    national_gateway: float
    communes: int
    legacy_codes: tuple[str, ...]

    @property
    def full_given_online(self) -> float:
        return self.full_online_share / self.online_share


@cache
def province_profiles(seed: int) -> tuple[ProvinceProfile, ...]:
    """The 34 provinces with traits drawn from ``seed`` (same seed, same traits)."""
    ref = load_localities()
    rng = _rng(f"{seed}:provinces")
    out = []
    for code, prefix, population, activity in PROVINCE_TABLE:
        online = rng.uniform(0.43, 0.60)
        out.append(
            ProvinceProfile(
                code=code,
                name=ref.current[code].name,
                prefix=prefix,
                population_m=population,
                dossier_weight=population,
                invoice_weight=population * activity,
                online_share=online,
                full_online_share=rng.uniform(0.17, min(0.42, online - 0.01)),
                on_time=rng.uniform(0.90, 0.98),
                fee_share=rng.uniform(0.36, 0.44),
                digitised=rng.uniform(0.60, 0.85),
                rated_share=rng.uniform(0.20, 0.30),
                dissatisfied=rng.uniform(0.02, 0.05),
                neutral=rng.uniform(0.05, 0.12),
                national_gateway=rng.uniform(0.45, 0.85),
                communes=30 + round(10 * population),
                legacy_codes=tuple(
                    sorted(
                        row.code
                        for row in ref.former.values()
                        if row.successor_code == code and row.code != code
                    )
                ),
            )
        )
    if sorted(p.code for p in out) != sorted(ref.current):  # pragma: no cover - data drift
        raise RuntimeError("PROVINCE_TABLE does not match the 34 current localities")
    return tuple(out)


# Procedures, payments, invoices -------------------------------------------------------------

_FEES = (
    10_000,
    15_000,
    20_000,
    25_000,
    30_000,
    50_000,
    70_000,
    100_000,
    150_000,
    200_000,
    300_000,
    500_000,
)
_DUE_DAYS = (1, 1, 2, 3, 3, 3, 5, 5, 7, 10)


@dataclass(frozen=True)
class _Procedure:
    code: str
    due_days: int
    fee: int


def _procedures() -> tuple[tuple[_Procedure, ...], tuple[_Procedure, ...]]:
    """A fixed catalogue (free, fee-bearing) with codes shaped like 1.004227."""
    rng = _rng("procedures")
    codes = sorted({f"{rng.choice('12')}.{rng.randrange(100, 13000):06d}" for _ in range(60)})
    rng.shuffle(codes)
    free = tuple(_Procedure(c, rng.choice(_DUE_DAYS), 0) for c in codes[:32])
    paid = tuple(_Procedure(c, rng.choice(_DUE_DAYS), rng.choice(_FEES)) for c in codes[32:])
    return free, paid


_FREE_PROCEDURES, _FEE_PROCEDURES = _procedures()


def _zipf_cum(n: int, s: float = 1.0) -> list[float]:
    return list(itertools.accumulate(1.0 / (i + 1) ** s for i in range(n)))


_FREE_CUM = _zipf_cum(len(_FREE_PROCEDURES), 0.8)
_FEE_CUM = _zipf_cum(len(_FEE_PROCEDURES), 0.8)

#: P(paid online | fee-bearing, channel).
_PAY_ONLINE = {"online": 0.85, "in_person": 0.30, "postal": 0.50}
_POSTAL_SHARE = 0.05  # of offline dossiers
_BUSINESS_SHARE = 0.18
_REJECTED = 0.04
_PAY_FAIL = 0.04
_PAY_RETRY = 0.8
_REFUND_REJECTED = 0.6
_REFUND_OTHER = 0.002
_METHODS = ("qr", "bank_transfer", "e_wallet", "card")
_METHOD_CUM = tuple(itertools.accumulate((0.38, 0.28, 0.22, 0.12)))

_INVOICE_KINDS = ("with_code", "without_code", "cash_register")
_INVOICE_KIND_CUM = (0.30, 0.95, 1.0)
_VAT_RATES = (0, 5, 8, 10)
_VAT_CUM = tuple(itertools.accumulate((0.08, 0.12, 0.45, 0.35)))
_INVOICE_CANCEL = 0.008
#: Log-normal pre-tax amounts: ln of the median (VND); sigma 1.4 (0.9 at cash registers).
_LOG_INVOICE_MEDIAN = math.log(450_000)
_LOG_CASH_MEDIAN = math.log(120_000)
_LETTERS = "ABCDEGHKLMNPQRSTUVXY"


@dataclass(frozen=True)
class _Seller:
    tax_code: str
    series: str  # the two letters ending the invoice symbol


@cache
def _sellers(seed: int, code: str, n: int) -> tuple[tuple[_Seller, ...], list[float]]:
    """Businesses of one province (Zipf-sized), stable for a seed across windows."""
    rng = _rng(f"{seed}:sellers:{code}")
    sellers = []
    for _ in range(n):
        tax = f"{code}{rng.randrange(10**8):08d}"
        if rng.random() < 0.1:
            tax += f"-{rng.randrange(1, 40):03d}"
        sellers.append(_Seller(tax, rng.choice(_LETTERS) + rng.choice(_LETTERS)))
    return tuple(sellers), _zipf_cum(n, 0.9)


def _expected_events_per_dossier(provinces: Sequence[ProvinceProfile]) -> float:
    total = sum(p.dossier_weight for p in provinces)
    mean = 0.0
    for p in provinces:
        offline = 1 - p.online_share
        pay_online = (
            p.online_share * _PAY_ONLINE["online"]
            + offline * (1 - _POSTAL_SHARE) * _PAY_ONLINE["in_person"]
            + offline * _POSTAL_SHARE * _PAY_ONLINE["postal"]
        )
        payments = p.fee_share * pay_online
        per_payment = 1 + _PAY_FAIL * _PAY_RETRY + _REJECTED * _REFUND_REJECTED + _REFUND_OTHER
        events = 2 + p.rated_share + payments * per_payment
        mean += events * p.dossier_weight / total
    return mean


# Messages ---------------------------------------------------------------------------------


class SimulatedMessage(NamedTuple):
    """One message to publish: ``value`` goes to ``topic`` with ``key``.

    ``at`` is the simulated time of publication (``occurred_at`` of late and
    out-of-order events is earlier). ``fields`` are the event's wire fields and
    ``model`` its contract class (both None when ``kind`` is ``invalid``, and then
    ``defect`` names what the message breaks).
    """

    topic: str
    key: bytes | None
    value: bytes
    kind: MessageKind
    at: datetime
    event_type: str | None
    defect: str | None = None
    model: type[EventBase] | None = None
    fields: Mapping[str, Any] | None = None

    @property
    def event(self) -> EventBase | None:
        """The event as its contract model (validated on each access), or None."""
        if self.model is None or self.fields is None:
            return None
        return self.model.model_validate(self.fields)


@dataclass(slots=True)
class _Planned:
    """An event waiting in the schedule."""

    model: type[EventBase]
    fields: dict[str, Any]
    kind: MessageKind


# Version 4 and RFC 4122 variant bits of a random 128-bit integer.
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)


@cache
def _ymd(day: int) -> str:
    """yymmdd of a local day number."""
    d = date.fromordinal(_EPOCH_ORDINAL + day)
    return f"{d.year % 100:02d}{d.month:02d}{d.day:02d}"


@cache
def _iso_day(day: int) -> str:
    return date.fromordinal(_EPOCH_ORDINAL + day).isoformat()


_OFFSET_TEXT = f"+{_OFFSET // 3600:02d}:{_OFFSET % 3600 // 60:02d}"


def _iso(ts: float) -> str:
    """RFC 3339 local time, whole seconds: what ``datetime.isoformat()`` gives, faster."""
    day, sec = divmod(int(ts) + _OFFSET, _DAY)
    return f"{_iso_day(day)}T{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}{_OFFSET_TEXT}"


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(int(ts), VN_TZ)


def _dump(fields: Mapping[str, Any]) -> bytes:
    """The wire bytes: fields are kept in model order and never hold None.

    Copied to an exact-size object: orjson hands back a 4 KiB buffer, which adds up
    when a caller keeps many messages.
    """
    return memoryview(orjson.dumps(fields)).tobytes()


# Calibration ------------------------------------------------------------------------------


def _root_rates(config: SimulationConfig) -> tuple[float, float, float, float]:
    """(dossiers/s, invoices/s) at profile 1, and events per dossier and per invoice."""
    per_dossier = _expected_events_per_dossier(province_profiles(config.seed))
    per_invoice = 1 + _INVOICE_CANCEL
    k = config.invoices_per_dossier
    dossiers = config.rate / (per_dossier + k * per_invoice)
    return dossiers, k * dossiers, per_dossier, per_invoice


def _expected_messages(config: SimulationConfig, end: datetime) -> float:
    """Expected messages in [config.start, end) (every dossier step counted)."""
    d_rate, i_rate, per_d, per_i = _root_rates(config)
    a, b = config.start.timestamp(), end.timestamp()
    if b <= a:
        return 0.0
    total = 0.0
    slot = int((a + _OFFSET) // _SLOT)
    while True:
        lo = slot * _SLOT - _OFFSET
        hi = lo + _SLOT
        overlap = min(hi, b) - max(lo, a)
        if overlap > 0:
            day = slot // _SLOTS_PER_DAY
            wd, i = _weekday(day), slot % _SLOTS_PER_DAY
            lam = d_rate * per_d * _DOSSIER_WEEK[wd][i]
            lam += i_rate * per_i * _INVOICE_WEEK[wd][i] * _month_end_factor(day)
            total += lam * overlap
        if hi >= b:
            break
        slot += 1
    return total * (1 + config.duplicate_rate + config.invalid_rate)


def calibrate(config: SimulationConfig, messages: float, end: datetime) -> SimulationConfig:
    """``config`` with the rate that puts about ``messages`` messages in [start, end).

    Follows the traffic profile of that window (a window at night needs a higher
    ``rate`` than one on a weekday morning for the same count) and counts injected
    duplicates and invalid messages. Dossier steps that would fall after ``end`` are
    counted too, so short windows come out a little lower.
    """
    expected = _expected_messages(replace(config, rate=1.0), end)
    if expected <= 0:
        raise ValueError("the window is empty: end must be after start")
    return replace(config, rate=messages / expected)


# The generator ----------------------------------------------------------------------------


class Simulator:
    """Iterate to get :class:`SimulatedMessage` records in publish order, until ``now``.

    ``now`` (default: the current time) bounds the simulated clock: no event happens or
    is published after it. Iterating twice gives the same messages.
    """

    def __init__(self, config: SimulationConfig, *, now: datetime | None = None) -> None:
        now = now if now is not None else datetime.now(UTC)
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be timezone-aware")
        if config.start > now:
            raise ValueError(
                f"start {config.start.isoformat()} is after now {now.isoformat()}: "
                "simulated events may not be in the future"
            )
        self.config = config
        self.now = now
        self.provinces = province_profiles(config.seed)
        self.province = {p.code: p for p in self.provinces}
        self._dossier_cum = list(itertools.accumulate(p.dossier_weight for p in self.provinces))
        self._invoice_cum = list(itertools.accumulate(p.invoice_weight for p in self.provinces))
        d_rate, i_rate, _, _ = _root_rates(config)
        self._dossier_rate = d_rate
        self._invoice_rate = i_rate

    def __iter__(self) -> Iterator[SimulatedMessage]:
        return _Run(self).messages()


class _Run:
    """The state of one pass over the simulation."""

    def __init__(self, sim: Simulator) -> None:
        c = sim.config
        self.sim = sim
        self.c = c
        self.rng = _rng(f"{c.seed}:{c.start.timestamp()!r}")
        self.start = c.start.timestamp()
        self.end = sim.now.timestamp()
        self.heap: list[tuple[float, int, _Planned | SimulatedMessage]] = []
        self.seq = itertools.count()
        self.slot_rates: dict[int, tuple[float, float]] = {}
        self.dossier_day = -1
        self.dossier_numbers: dict[str, int] = {}  # unit -> next number, for dossier_day
        self.invoice_numbers: dict[tuple[str, int, str], int] = {}
        self.injects = c.late_rate + c.legacy_code_rate > 0
        self.sellers = {
            p.code: _sellers(c.seed, p.code, 30 + round(60 * p.invoice_weight))
            for p in sim.provinces
        }

    # Scheduling -------------------------------------------------------------------------

    def push(self, ts: float, item: _Planned | SimulatedMessage) -> None:
        if ts <= self.end:
            heapq.heappush(self.heap, (ts, next(self.seq), item))

    def plan(
        self,
        ts: float,
        model: type[EventBase],
        fields: dict[str, Any],
        *,
        kind: MessageKind = MessageKind.valid,
        publish_at: float | None = None,
        root: bool = False,
    ) -> None:
        """Schedule an event happening at ``ts``, maybe late or with a legacy code.

        A late event is published 1-6 hours after it happened. For the first event of a
        lifecycle (``root``: a receipt, an issued invoice) the occurrence moves back
        instead and publication stays at ``ts``, so late arrivals show up in windows
        shorter than the delay and never overtake their own follow-ups.
        """
        if ts > self.end:
            return
        fields["occurred_at"] = _iso(ts)
        publish = ts if publish_at is None else publish_at
        if kind is MessageKind.valid and self.injects:
            u = self.rng.random()
            if u < self.c.late_rate:
                kind = MessageKind.late
                delay = self.rng.uniform(3600, 6 * 3600)
                if root:
                    fields["occurred_at"] = _iso(ts - delay)
                else:
                    publish = ts + delay
            elif u < self.c.late_rate + self.c.legacy_code_rate:
                legacy = self.sim.province[fields["locality_code"]].legacy_codes
                if legacy:
                    kind = MessageKind.legacy_code
                    fields["locality_code"] = self.rng.choice(legacy)
        self.push(publish, _Planned(model, fields, kind))

    def event_id(self) -> str:
        """Same text as ``str(uuid.UUID(int=rng.getrandbits(128), version=4))``, faster."""
        h = f"{self.rng.getrandbits(128) & _UUID_CLEAR | _UUID_SET:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def base(self, event_type: str, agency: str, locality: str) -> dict[str, Any]:
        return {
            "event_id": self.event_id(),
            "event_type": event_type,
            "occurred_at": None,  # set by plan()
            "agency_code": agency,
            "locality_code": locality,
            "schema_version": 1,
        }

    # The arrival process ----------------------------------------------------------------

    def rates(self, slot: int) -> tuple[float, float]:
        cached = self.slot_rates.get(slot)
        if cached is None:
            day = slot // _SLOTS_PER_DAY
            wd, i = _weekday(day), slot % _SLOTS_PER_DAY
            d = self.sim._dossier_rate * _DOSSIER_WEEK[wd][i]
            inv = self.sim._invoice_rate * _INVOICE_WEEK[wd][i] * _month_end_factor(day)
            cached = (d, d + inv)
            if len(self.slot_rates) > 4096:
                self.slot_rates.clear()
            self.slot_rates[slot] = cached
        return cached

    def next_arrival(self, ts: float) -> tuple[float, bool]:
        """Next dossier or invoice after ``ts``: (time, is_dossier). Piecewise Poisson."""
        rng = self.rng
        while True:
            slot = int((ts + _OFFSET) // _SLOT)
            d, total = self.rates(slot)
            slot_end = (slot + 1) * _SLOT - _OFFSET
            if total > 0:
                nxt = ts + rng.expovariate(total)
                if nxt < slot_end:
                    return nxt, rng.random() * total < d
            ts = slot_end
            if ts > self.end:
                return ts, False

    def messages(self) -> Iterator[SimulatedMessage]:
        """Merge the arrival process with the schedule; emit in publish order."""
        heap, end, rng = self.heap, self.end, self.rng
        duplicate_rate, invalid_rate = self.c.duplicate_rate, self.c.invalid_rate
        validate = self.c.validate
        arrival, is_dossier = self.next_arrival(self.start)
        while True:
            if not heap or heap[0][0] > arrival:
                if arrival > end:
                    return
                if is_dossier:
                    self.dossier(arrival)
                else:
                    self.invoice(arrival)
                arrival, is_dossier = self.next_arrival(arrival)
                continue
            ts, _, item = heapq.heappop(heap)
            if isinstance(item, SimulatedMessage):  # a scheduled duplicate
                yield item._replace(at=_dt(ts), kind=MessageKind.duplicate)
                continue
            fields, model = item.fields, item.model
            if validate:
                model.model_validate(fields)
            message = SimulatedMessage(
                model.topic,
                fields[model.key_field].encode(),
                _dump(fields),
                item.kind,
                _dt(ts),
                fields["event_type"],
                None,
                model,
                fields,
            )
            yield message
            if duplicate_rate and rng.random() < duplicate_rate:
                self.push(ts + rng.uniform(1, 900), message)
            if invalid_rate and rng.random() < invalid_rate:
                yield self.invalid(message)

    # Faults -----------------------------------------------------------------------------

    def invalid(self, message: SimulatedMessage) -> SimulatedMessage:
        """A broken copy of an event (new event_id), in one of several ways."""
        rng = self.rng
        data = orjson.loads(message.value)
        data["event_id"] = self.event_id()
        key = message.key
        defects = ["unknown_field", "bad_locality", "missing_field", "naive_timestamp", "bad_json"]
        if "dossier_id" in data:
            defects.append("citizen_id")
        if "amount_vnd" in data:
            defects.append("negative_amount")
        defect = rng.choice(defects)
        if defect == "unknown_field":
            data[rng.choice(("applicant_name", "citizen_phone", "note", "ma_ho_so_cu"))] = (
                "Nguyễn Văn A"
            )
        elif defect == "bad_locality":
            data["locality_code"] = "99"
        elif defect == "missing_field":
            required = ["occurred_at", "agency_code", "locality_code", "event_id"]
            required += {
                "dossier.received": ["channel", "due_at", "fee_required", "procedure_code"],
                "dossier.completed": ["result", "digitized"],
                "dossier.rated": ["satisfaction"],
                "invoice.issued": ["invoice_kind", "vat_vnd", "seller_tax_code"],
                "invoice.cancelled": ["seller_tax_code", "amount_vnd"],
            }.get(data["event_type"], ["method", "amount_vnd", "gateway"])
            del data[rng.choice(required)]
        elif defect == "naive_timestamp":
            data["occurred_at"] = data["occurred_at"][:19]  # drops the +07:00 offset
        elif defect == "citizen_id":
            digits = rng.choice((9, 12))
            data["dossier_id"] = f"{rng.randrange(10**digits):0{digits}d}"
            if message.topic == DossierReceived.topic:
                key = data["dossier_id"].encode()
        elif defect == "negative_amount":
            data["amount_vnd"] = -abs(int(data["amount_vnd"]))
        value = _dump(data)
        if defect == "bad_json":
            text = value.decode()
            value = text[: rng.randrange(50, len(text) - 1)].encode()  # keeps the event_id
        return SimulatedMessage(
            topic=message.topic,
            key=key,
            value=value,
            kind=MessageKind.invalid,
            at=message.at,
            event_type=None,
            defect=defect,
        )

    # Dossiers ---------------------------------------------------------------------------

    def snap_office(self, ts: float) -> float:
        """``ts`` if within office hours, else a little after the next opening."""
        day = _local_day(ts)
        sec = ts + _OFFSET - day * _DAY
        if _weekday(day) < 5 and _OPEN <= sec < _CLOSE:
            return ts
        if not (_weekday(day) < 5 and sec < _OPEN):
            day += 1
            while _weekday(day) >= 5:
                day += 1
        return day * _DAY + _OPEN + self.rng.uniform(0, 5400) - _OFFSET

    def dossier(self, ts: float) -> None:
        rng = self.rng
        p = self.sim.provinces[
            bisect.bisect(self.sim._dossier_cum, rng.random() * self.sim._dossier_cum[-1])
        ]
        # Agency: the provincial public-service centre, a department, or a commune.
        u = rng.random()
        if u < 0.35:
            agency, unit = f"{p.prefix}.MOTCUA", "000.00.01"
        elif u < 0.5:
            j = rng.randrange(len(_DEPARTMENTS))
            agency, unit = f"{p.prefix}.{_DEPARTMENTS[j]}", f"000.00.{10 + j:02d}"
        else:
            n = rng.randrange(1, p.communes + 1)
            agency, unit = f"{p.prefix}.XA{n:03d}", f"{n:03d}.00.00"
        day = _local_day(ts)
        ymd = _ymd(day)
        if day != self.dossier_day:  # arrivals come in time order: older days are done
            self.dossier_day = day
            self.dossier_numbers.clear()
        seq = self.dossier_numbers.get(counter := f"{unit}.H{p.code}")
        if seq is None:  # a random start keeps consecutive runs from reusing ids
            seq = rng.randrange(1, 400_000)
        self.dossier_numbers[counter] = seq + 1
        dossier_id = f"{unit}.H{p.code}-{ymd}-{seq:06d}"

        fee = rng.random() < p.fee_share
        procs, cum = (_FEE_PROCEDURES, _FEE_CUM) if fee else (_FREE_PROCEDURES, _FREE_CUM)
        proc = procs[bisect.bisect(cum, rng.random() * cum[-1])]
        u = rng.random()
        if u < p.online_share:
            channel = "online"
            level: str | None = "full" if rng.random() < p.full_given_online else "partial"
        else:
            channel = "postal" if rng.random() < _POSTAL_SHARE else "in_person"
            level = None
        business = rng.random() < _BUSINESS_SHARE
        if business:
            raw_id = f"{p.code}{rng.randrange(10**8):08d}"
        else:  # CCCD-shaped: birth province, century/sex, year, serial
            raw_id = (
                f"0{p.code}{rng.choice('0123')}{rng.randrange(100):02d}{rng.randrange(10**6):06d}"
            )
        due_day = day
        for _ in range(proc.due_days):
            due_day += 1
            while _weekday(due_day) >= 5:
                due_day += 1
        due = due_day * _DAY + _DUE_TIME - _OFFSET

        received = self.base("dossier.received", agency, p.code)
        received["dossier_id"] = dossier_id
        received["procedure_code"] = proc.code
        received["channel"] = channel
        if level is not None:
            received["online_level"] = level
        received.update(
            due_at=_iso(due),
            fee_required=fee,
            applicant_type="business" if business else "citizen",
            applicant_ref=pseudonymize(raw_id, SIMULATOR_KEY),
        )

        # Completion, in office hours; on time with the province's probability.
        if rng.random() < p.on_time:
            low = ts + 1200
            done = min(self.snap_office(low + (due - low) * rng.random() ** 1.5), due)
        else:
            done = self.snap_office(due + 60 + rng.expovariate(1 / (1.5 * _DAY)))
        rejected = rng.random() < _REJECTED
        completed = self.base("dossier.completed", agency, p.code)
        completed.update(
            dossier_id=dossier_id,
            result="rejected" if rejected else "approved",
            digitized=rng.random() < p.digitised,
        )
        rated: dict[str, Any] | None = None
        rated_at = done
        if rng.random() < p.rated_share:
            rated_at = done + 60 + rng.expovariate(1 / (6 * 3600))
            r = rng.random()
            if r < p.dissatisfied:
                mood = "dissatisfied"
            elif r < p.dissatisfied + p.neutral:
                mood = "neutral"
            else:
                mood = "satisfied"
            rated = self.base("dossier.rated", agency, p.code)
            rated.update(dossier_id=dossier_id, satisfaction=mood)

        # Out of order: completion (and rating) published before the receipt.
        kind = MessageKind.valid
        publish: float | None = None
        if (
            self.c.out_of_order_rate
            and done <= self.end
            and rng.random() < self.c.out_of_order_rate
        ):
            kind = MessageKind.out_of_order
            last = rated_at if rated is not None and rated_at <= self.end else done
            publish = min(self.end, last + rng.uniform(60, 1800))
        self.plan(done, DossierCompleted, completed, kind=kind)
        if rated is not None:
            self.plan(rated_at, DossierRated, rated, kind=kind)
        self.plan(ts, DossierReceived, received, kind=kind, publish_at=publish, root=True)

        if fee and rng.random() < _PAY_ONLINE[channel]:
            self.payment(ts, channel, p, agency, dossier_id, proc.fee, done, rejected)

    def payment(
        self,
        ts: float,
        channel: str,
        p: ProvinceProfile,
        agency: str,
        dossier_id: str,
        amount: int,
        done: float,
        rejected: bool,
    ) -> None:
        rng = self.rng
        if channel == "online":
            paid = ts + 30 + rng.expovariate(1 / 900)
        elif channel == "in_person":
            paid = ts + rng.uniform(60, 900)
        else:
            paid = ts + 600 + rng.expovariate(1 / _DAY)
        method = _METHODS[bisect.bisect(_METHOD_CUM, rng.random() * _METHOD_CUM[-1])]
        gateway = "national_portal" if rng.random() < p.national_gateway else "local_gateway"

        def pay(event_type: str) -> dict[str, Any]:
            fields = self.base(event_type, agency, p.code)
            ymd = _ymd(_local_day(paid))
            fields.update(
                payment_id=f"TT-{p.prefix}-{ymd}-{rng.getrandbits(40):010X}",
                dossier_id=dossier_id,
                amount_vnd=amount,
                method=method,
                gateway=gateway,
            )
            return fields

        if rng.random() < _PAY_FAIL:
            self.plan(paid, PaymentFailed, pay("payment.failed"))
            if rng.random() >= _PAY_RETRY:
                return
            paid += rng.uniform(60, 1800)
        succeeded = pay("payment.succeeded")
        self.plan(paid, PaymentSucceeded, succeeded)
        refund_at: float | None = None
        if rejected and rng.random() < _REFUND_REJECTED:
            refund_at = max(done, paid) + rng.uniform(3600, 3 * _DAY)
        elif rng.random() < _REFUND_OTHER:
            refund_at = paid + rng.uniform(_DAY, 10 * _DAY)
        if refund_at is not None:
            refund = self.base("payment.refunded", agency, p.code)
            refund.update(
                {
                    k: succeeded[k]
                    for k in ("payment_id", "dossier_id", "amount_vnd", "method", "gateway")
                }
            )
            self.plan(refund_at, PaymentRefunded, refund)

    # E-invoices -------------------------------------------------------------------------

    def invoice(self, ts: float) -> None:
        rng = self.rng
        sim = self.sim
        p = sim.provinces[bisect.bisect(sim._invoice_cum, rng.random() * sim._invoice_cum[-1])]
        sellers, cum = self.sellers[p.code]
        index = bisect.bisect(cum, rng.random() * cum[-1])
        seller = sellers[index]
        u = rng.random()
        kind = _INVOICE_KINDS[0 if u < 0.30 else 1 if u < 0.95 else 2]
        if kind == "cash_register":
            pre_tax = math.exp(rng.gauss(_LOG_CASH_MEDIAN, 0.9))
        else:
            pre_tax = math.exp(rng.gauss(_LOG_INVOICE_MEDIAN, 1.4))
        pre = max(1_000, min(int(round(pre_tax, -3)), 20_000_000_000))
        vat_rate = _VAT_RATES[bisect.bisect(_VAT_CUM, rng.random() * _VAT_CUM[-1])]
        vat = pre * vat_rate // 100
        yy = _ymd(_local_day(ts))[:2]
        symbol = f"1{'K' if kind == 'without_code' else 'C'}{yy}{'M' if kind == 'cash_register' else 'T'}{seller.series}"
        number = self.invoice_numbers.get(counter_key := (p.code, index, symbol))
        if number is None:
            number = rng.randrange(1, 5_000_000)
        self.invoice_numbers[counter_key] = number + 1
        invoice_id = f"{seller.tax_code}/{symbol}/{number:08d}"
        agency = f"{p.prefix}.THUE"
        issued = self.base("invoice.issued", agency, p.code)
        issued.update(
            invoice_id=invoice_id,
            seller_tax_code=seller.tax_code,
            amount_vnd=pre + vat,
            invoice_kind=kind,
            vat_vnd=vat,
        )
        self.plan(ts, InvoiceIssued, issued, root=True)
        if rng.random() < _INVOICE_CANCEL:
            cancelled = self.base("invoice.cancelled", agency, p.code)
            cancelled.update(
                invoice_id=invoice_id, seller_tax_code=seller.tax_code, amount_vnd=pre + vat
            )
            self.plan(ts + 600 + rng.expovariate(1 / (8 * 3600)), InvoiceCancelled, cancelled)
