"""Reading numbers from text cells, and the plausible range of each quantity: decided once, here.

`parse_number(cell)` is the one reader of a figure, for dataset cells and claim fields alike:

* empty (None, "", spaces) is None: nothing given;
* a bare number, Python's syntax ("1e21", "6.4e+3", "1_000"), or with thousands separators in
  groups of three ("1,000,000"); "1,5" is refused, not guessed (a decimal comma or two values?);
* anything else raises `NumberError` (a ValueError) whose `reason` says why: not a number, a number
  with a unit word ("3 days", "512 GPUs", "40%"; `unit` holds the word), not finite, or not positive.
  Every figure these parsers read is positive.

`implausible(field, value)` checks a parsed value against `plausible.csv` (package data: one row
per quantity, its low and high ends and why). A value outside is a typing error (a lost or doubled
exponent, a year 3024), never a figure to fit: the caller refuses it (claims) or flags it and leaves
the field empty (the dataset). The year's upper end is next year, computed.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

__all__ = ["Limit", "NumberError", "implausible", "is_whole", "limits", "parse_number"]


class NumberError(ValueError):
    """A cell that is not a positive number; `reason` is a phrase ("is not a number")."""

    def __init__(self, text: str, reason: str, unit: str | None = None):
        super().__init__(f"{text!r} {reason}")
        self.text = text
        self.reason = reason
        self.unit = unit


# a number followed by a word ("3 days", "512 GPUs", "40%"); a lone "e" is a broken exponent, not a unit
_NUMBER_WITH_WORD = re.compile(
    r"^[-+]?[\d.,]+(?:e[-+]?\d+)?\s*(%|[A-Za-z]{2,}[\w-]*|[A-DF-Za-df-z]\b)", re.IGNORECASE
)
_GROUPED = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d*)?(?:e[-+]?\d+)?$", re.IGNORECASE)


def parse_number(cell: object) -> float | None:
    """A finite positive float, None for an empty cell; `NumberError` otherwise (module docstring)."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        raise NumberError(str(cell), "is not a number")
    if isinstance(cell, (int, float)):
        text = repr(cell) if len(str(cell)) <= 24 else f"{str(cell)[:20]}... ({len(str(cell))} digits)"
        try:
            value = float(cell)
        except OverflowError:  # an int beyond any float
            raise NumberError(text, "is not a finite number") from None
    else:
        text = str(cell).strip()
        if not text:
            return None
        plain = text.replace(",", "") if _GROUPED.match(text) else text
        try:
            value = float(plain)
        except (ValueError, OverflowError):
            m = _NUMBER_WITH_WORD.match(text)
            if m is not None:
                raise NumberError(text, f"holds a unit ({m.group(1)!r})", m.group(1)) from None
            raise NumberError(text, "is not a number") from None
    if not math.isfinite(value):
        raise NumberError(text, "is not a finite number")
    if value <= 0:
        raise NumberError(text, "must be positive")
    return value


def is_whole(value: float) -> bool:
    return float(value).is_integer()


@dataclass(frozen=True)
class Limit:
    """The plausible range of one quantity, in its unit; `high` None means next year (the year)."""

    field: str
    low: float
    high: float | None
    unit: str
    why: str


@functools.lru_cache(maxsize=1)
def limits() -> dict[str, Limit]:
    """field -> `Limit`, from the packaged plausible.csv."""
    text = resources.files("harness.estimate").joinpath("plausible.csv").read_text(encoding="utf-8")
    out: dict[str, Limit] = {}
    for r in csv.DictReader(io.StringIO(text)):
        high = r["high"].strip()
        out[r["field"]] = Limit(r["field"], float(r["low"]), float(high) if high else None, r["unit"], r["why"])
    return out


def _high(limit: Limit) -> float:
    return limit.high if limit.high is not None else datetime.now(UTC).year + 1


def implausible(field: str, value: float) -> str | None:
    """None when `value` is inside the field's plausible range, else a phrase saying how it is not.

    A field with no row in plausible.csv is always plausible.
    """
    limit = limits().get(field)
    if limit is None:
        return None
    high = _high(limit)
    if limit.unit == "year":
        if value > high:
            return f"is after {high:g}: a publication cannot be dated in the future"
        if value < limit.low:
            return f"is before {limit.low:g}, before the first trained systems"
        return None
    if value > high:
        return f"is above {high:g} {limit.unit}, beyond any real system ({limit.why})"
    if value < limit.low:
        return f"is below {limit.low:g} {limit.unit}, the least any real system has"
    return None
