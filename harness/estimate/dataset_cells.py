"""Reading one cell of an Epoch-schema dataset: numbers, MFU, dates, numerical formats, hardware names.

Each reader returns the value and, for a cell it cannot read, a `Finding` quoting the cell (the
reading policy is in `harness.estimate.dataset`'s docstring). Numbers go through
`harness.estimate.units` (one parser, one table of plausible ranges).
"""

from __future__ import annotations

import re
from datetime import date

from harness.estimate.findings import Finding
from harness.estimate.units import NumberError, implausible, parse_number
from harness.hardware.table import Accelerator, UnknownHardware, resolve

__all__ = ["decimal_year", "read_hardware", "read_mfu", "read_number", "read_precision", "read_text", "read_year"]


# the fastest listed numerical format is the matmul format; int8 after fp8 (training in int8 is rare)
_PRECISION_SPEED = ("fp8", "int8", "bf16", "fp16", "tf32", "fp32")

_UNIT_HINT = {
    "hours": "a bare number of wall-clock hours",
    "quantity": "a bare count of chips",
    "chip_hours": "a bare number of chip-hours",
    "compute": "a bare number of FLOP",
}



def read_text(cell: str | None) -> str | None:
    cell = (cell or "").strip()
    return cell or None


def read_number(cell: str | None, name: str, column: str) -> tuple[float | None, Finding | None]:
    """(value, None) for a plausible positive number, (None, None) for an empty cell, else a flag:
    `unreadable_value` for a cell that is not a number, `implausible_value` for one outside the
    field's plausible range (`harness.estimate.units`); either way the field is left empty."""
    text = read_text(cell)
    if text is None:
        return None, None
    try:
        value = parse_number(text)
    except NumberError as e:
        why = e.reason
        if e.unit is not None:
            why += f"; the column wants {_UNIT_HINT.get(name, 'a bare number')}, not converted"
        return None, Finding("unreadable_value", f"{column}: {text!r} {why}; field left empty")
    assert value is not None
    far = implausible(name, value)
    if far is not None:
        return None, Finding("implausible_value", f"{column}: {text!r} {far}; field left empty, kept out of fits")
    return value, None


def read_mfu(cell: str | None, column: str) -> tuple[float | None, list[Finding]]:
    text = read_text(cell)
    if text is None:
        return None, []
    percent = text.endswith("%")
    value, bad = read_number(text.rstrip("%").strip() if percent else text, "mfu", column)
    if bad is not None:
        return None, [Finding("unreadable_value", f"{column}: {text!r} is not a utilisation; field left empty")]
    assert value is not None
    if percent or 1 < value <= 100:
        said = f"{column} holds {text!r}, a percentage in a fraction column; read as {value / 100:g}"
        return value / 100, [Finding("mfu_percentage_as_fraction", said)]
    if value > 100:
        return None, [Finding("unreadable_value", f"{column}: {text!r} is above 100%; field left empty")]
    return value, []


def decimal_year(year: int, month: int | None = None, day: int | None = None) -> float | None:
    """year + (day of the year - 1) / days in the year; a missing month or day is the 1st."""
    try:
        start = date(year, 1, 1)
        days = (date(year + 1, 1, 1) - start).days if year < 9999 else 365
        return year + (date(year, month or 1, day or 1) - start).days / days
    except ValueError:  # month 13, 30 February: the year still reads
        return None


def read_year(cell: str | None, column: str) -> tuple[int | None, float | None, Finding | None]:
    """(year, decimal year, flag) of a "YYYY[-MM[-DD]]" cell."""
    text = read_text(cell)
    if text is None:
        return None, None, None
    m = re.match(r"^(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?(?:[ T].*)?$", text)
    if m is None:
        return None, None, Finding("unreadable_value",
                                   f"{column}: {text!r} is not a date (YYYY-MM-DD); year left empty")
    year = int(m.group(1))
    far = implausible("year", year)
    if far is not None:
        return None, None, Finding("implausible_value",
                                   f"{column}: {text!r}: the year {far}; year left empty, kept out of fits")
    return year, decimal_year(year, *(int(g) if g else None for g in m.groups()[1:])), None


def read_precision(cell: str | None) -> str | None:
    words = {w.strip().lower() for w in (cell or "").split(",")}
    return next((p for p in _PRECISION_SPEED if p in words), None)


def read_hardware(cell: str | None) -> tuple[tuple[Accelerator, ...], tuple[str, ...]]:
    found: list[Accelerator] = []
    unresolved: list[str] = []
    for part in (cell or "").split(","):
        if not part.strip():
            continue
        try:
            found.append(resolve(part.strip()))
        except UnknownHardware as e:
            unresolved.append(str(e))
    return tuple(found), tuple(unresolved)
