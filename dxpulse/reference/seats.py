"""Provincial seats of the 34 current units: where each province sits on a map.

``province_seats.csv`` gives, per current 2-digit code, the seat (the provincial capital
or, for a centrally-run city, the city itself) and its coordinates (WGS 84, 4 decimals,
the city centre). After the 2025 merger (Resolution 202/2025/QH15) a merged unit's seat
is the capital it kept — the one whose code it kept: the new Lào Cai (code 15, old Yên
Bái) sits in Yên Bái, the new Gia Lai (52, old Bình Định) in Quy Nhơn, the new An Giang
(91, old Kiên Giang) in Rạch Giá. ``sql/0009_province_seats.sql`` loads the same rows
into ClickHouse for the dashboards' map.

Example::

    from dxpulse.reference.seats import load_province_seats

    seats = load_province_seats()
    seats["79"].seat                       # 'Thành phố Hồ Chí Minh'
    (seats["15"].latitude, seats["15"].longitude)  # (21.7229, 104.9113)
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

__all__ = ["ProvinceSeat", "load_province_seats"]


@dataclass(frozen=True)
class ProvinceSeat:
    """One current provincial unit's seat and its coordinates."""

    code: str
    seat: str
    latitude: float
    longitude: float


@cache
def load_province_seats() -> dict[str, ProvinceSeat]:
    """Read the packaged ``province_seats.csv`` (cached): seats by current code, in file order."""
    text = (files("dxpulse.reference") / "province_seats.csv").read_text("utf-8")
    return {
        row["code"]: ProvinceSeat(
            code=row["code"],
            seat=row["seat"],
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
        )
        for row in csv.DictReader(text.splitlines())
    }
