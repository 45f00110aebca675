"""Reference data dxpulse ships with and needs at run time.

``localities.csv`` lists the 34 provincial-level units valid since 2025-07-01
(Resolution 202/2025/QH15; codes from Decision 19/2025/QĐ-TTg) and the 63 former ones
(Decision 124/2004/QĐ-TTg) with the current unit that succeeded each.

Example::

    from dxpulse.reference import load_localities

    ref = load_localities()
    ref.successor("27")        # '24'  (old Bắc Ninh -> new Bắc Ninh)
    ref.name("24")             # 'Bắc Ninh'
    len(ref.current)           # 34
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.resources import files

__all__ = ["Locality", "LocalityReference", "load_localities"]


@dataclass(frozen=True)
class Locality:
    """One row of the reference: a provincial unit and its validity period."""

    code: str
    name: str
    kind: str
    valid_from: date | None
    valid_to: date | None
    successor_code: str

    @property
    def is_current(self) -> bool:
        return self.valid_to is None


class LocalityReference:
    """The current 34 units and every former code, with the successor mapping."""

    def __init__(self, rows: tuple[Locality, ...]) -> None:
        self.rows = rows
        #: Current units by code (34).
        self.current: dict[str, Locality] = {r.code: r for r in rows if r.is_current}
        #: Pre-2025 units by code (63).
        self.former: dict[str, Locality] = {r.code: r for r in rows if not r.is_current}
        #: Every code an event may carry: current or pre-2025.
        self.known_codes: frozenset[str] = frozenset(r.code for r in rows)

    def successor(self, code: str) -> str:
        """The current code for ``code``: itself if current, else its successor.

        Normalisation needs no date: a code used both before and after 2025-07-01 (15,
        24, 44, 52, 80, 82, 91) names a different province in each period, but the new
        unit is always the successor of the old one (old 24 Bắc Giang merged into new 24
        Bắc Ninh), so both readings normalise to the same current unit.
        """
        if code in self.current:
            return code
        try:
            return self.former[code].successor_code
        except KeyError:
            raise KeyError(f"unknown locality code {code!r}") from None

    def name(self, code: str) -> str:
        """Name of the current unit ``code`` (after normalisation)."""
        return self.current[self.successor(code)].name


def _parse_date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


@cache
def load_localities() -> LocalityReference:
    """Read the packaged ``localities.csv`` (cached)."""
    text = (files("dxpulse.reference") / "localities.csv").read_text("utf-8")
    rows = tuple(
        Locality(
            code=row["code"],
            name=row["name"],
            kind=row["kind"],
            valid_from=_parse_date(row["valid_from"]),
            valid_to=_parse_date(row["valid_to"]),
            successor_code=row["successor_code"],
        )
        for row in csv.DictReader(text.splitlines())
    )
    return LocalityReference(rows)
