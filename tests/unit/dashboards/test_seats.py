"""Provincial seats: one per current unit, on Vietnamese soil, identical in the CSV and the SQL."""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from importlib.resources import files

from dxpulse.reference import load_localities
from dxpulse.reference.seats import load_province_seats
from dxpulse.sql import MIGRATIONS_DIR

SQL = MIGRATIONS_DIR / "0009_province_seats.sql"
_ROW = re.compile(r"^\s*\('(\d{2})', '([^']+)', (-?\d+\.\d+), (-?\d+\.\d+)\),?$")


def test_one_seat_per_current_unit() -> None:
    seats = load_province_seats()
    assert len(seats) == 34
    assert set(seats) == set(load_localities().current)


def test_coordinates_are_in_vietnam_with_four_decimals() -> None:
    text = (files("dxpulse.reference") / "province_seats.csv").read_text("utf-8")
    for row in csv.DictReader(text.splitlines()):
        for column, low, high in (("latitude", 8.4, 23.4), ("longitude", 102.1, 109.5)):
            value = Decimal(row[column])
            assert low <= value <= high, (row["code"], column, value)
            assert value.as_tuple().exponent == -4, (row["code"], column, row[column])


def test_merged_units_sit_in_the_capital_they_kept() -> None:
    seats = load_province_seats()
    kept = {"15": "Yên Bái", "24": "Bắc Giang", "44": "Đồng Hới", "52": "Quy Nhơn",
            "80": "Tân An", "82": "Mỹ Tho", "91": "Rạch Giá", "25": "Việt Trì"}  # fmt: skip
    assert {code: seats[code].seat for code in kept} == kept
    # distinct places: no two provinces share a seat or its coordinates
    assert len({s.seat for s in seats.values()}) == 34
    assert len({(s.latitude, s.longitude) for s in seats.values()}) == 34


def test_sql_rows_equal_the_csv() -> None:
    rows = [m.groups() for line in SQL.read_text("utf-8").splitlines() if (m := _ROW.match(line))]
    in_sql = {code: (seat, float(lat), float(lon)) for code, seat, lat, lon in rows}
    assert len(rows) == len(in_sql) == 34
    in_csv = {s.code: (s.seat, s.latitude, s.longitude) for s in load_province_seats().values()}
    assert in_sql == in_csv


def test_sql_follows_the_migration_conventions() -> None:
    text = SQL.read_text("utf-8")
    assert "CREATE TABLE IF NOT EXISTS {{database}}.province_seats" in text
    assert "WHERE code NOT IN (SELECT code FROM {{database}}.province_seats)" in text
    for column in ("latitude   Float64", "longitude  Float64"):
        assert column in text
