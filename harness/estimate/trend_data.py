"""From dataset rows to the points a trend is fitted on: plausibility, MoE detection, eras, selection.

* **Plausibility**: the loader leaves a figure no real system can have (a publication year of 3024,
  a training compute of 1e308, 1e300 parameters: the ranges of `units.py` / `plausible.csv`) empty
  with an `implausible_value` finding. A row with such a finding on its date, compute or parameter
  count is kept out of every fit, and listed with the finding's message (`implausible`).
* **Mixture of experts** (`moe_reason`): a system is MoE when its name or its parameter / compute
  notes say so ("mixture of experts", "MoE", "sparsely gated", "N experts", "-A22B" or "8x7B" in the
  name, "17B active parameters" in the parameter notes), unless `moe.csv` decides otherwise
  (a dense model whose note cites an MoE paper, an "action expert"); the table also names MoE
  systems the text does not reveal. The reason quotes the text that decided.
* **Eras** (`eras()`): the windows of Sevilla et al. 2022 with the paper's figures, from `eras.csv`.
* **Domain**: a system's first listed domain (the loader's `SystemRow.domain`), so each system is
  counted in one domain; "unknown" when none is listed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Literal

from harness.estimate.dataset import COLUMNS, SystemRow, decimal_year

__all__ = [
    "METRICS",
    "Era",
    "Excluded",
    "Point",
    "Selection",
    "eras",
    "implausible",
    "moe_reason",
    "select",
]

Metric = Literal["compute", "parameters"]
METRICS: tuple[str, ...] = ("compute", "parameters")
UNKNOWN_DOMAIN = "unknown"


@dataclass(frozen=True)
class Point:
    """One system as a trend sees it: `value` is its compute (FLOP) or parameter count."""

    model: str
    date: float  # decimal year
    value: float
    domain: str
    parameters: float | None = None
    compute: float | None = None  # FLOP


@dataclass(frozen=True)
class Excluded:
    model: str
    reason: str


@dataclass(frozen=True)
class Selection:
    """The points a trend is fitted on, and every system left out with why."""

    metric: str
    points: tuple[Point, ...]
    implausible: tuple[Excluded, ...] = ()
    moe: tuple[Excluded, ...] = ()  # MoE systems left out (only when asked to exclude them)
    missing: int = 0  # systems without a date or without the metric (nothing to fit)
    outside: int = 0  # systems outside the domain or the date window asked for


@dataclass(frozen=True)
class Era:
    """A window of Sevilla et al. 2022 and the paper's figures for it (None where not given)."""

    name: str
    label: str
    start: float  # decimal year
    end: float | None  # None: to the last system of the data
    selection: str  # all | regular | large
    paper_n: int | None
    paper_slope_oom_per_year: float | None
    paper_doubling_months: float | None
    paper_doubling_low: float | None  # 2.5th percentile
    paper_doubling_median: float | None
    paper_doubling_high: float | None  # 97.5th percentile
    source: str


# ---------------------------------------------------------------------------------------- plausibility

_TREND_COLUMNS = tuple(COLUMNS[f] + ":" for f in ("date", "compute", "parameters"))


def implausible(row: SystemRow) -> str | None:
    """The loader's `implausible_value` finding on the row's date, compute or parameters, or None."""
    found = [f.message for f in row.problems if f.code == "implausible_value" and f.message.startswith(_TREND_COLUMNS)]
    return "; ".join(found) or None


# ---------------------------------------------------------------------------------------- MoE

_MOE_TEXT = re.compile(
    r"mixture[- ]of[- ]experts|\bMoEs?\b|sparsely[- ]gated|\b\d+\s+(?:routed\s+)?experts\b", re.IGNORECASE)
_MOE_NAME = re.compile(r"\bMoE|-A\d+(?:\.\d+)?B\b|\b\d+x\d+(?:\.\d+)?B\b", re.IGNORECASE)
# "17B active parameters", "21B active params", "94B active/398B total", "39B activated parameters"
_ACTIVE = re.compile(r"\d(?:[\d.]*)\s*(?:[BMT]|billion|million|trillion)?\s*(?:active|activated)"
                     r"(?:\s+param|\s*/)", re.IGNORECASE)


@cache
def _moe_table() -> dict[str, tuple[bool, str]]:
    text = resources.files("harness.estimate").joinpath("moe.csv").read_text(encoding="utf-8")
    table: dict[str, tuple[bool, str]] = {}
    for r in csv.DictReader(io.StringIO(text)):
        if r["model"] in table:
            raise ValueError(f"moe.csv names {r['model']!r} twice")
        if r["moe"] not in ("yes", "no"):
            raise ValueError(f"moe.csv: {r['model']!r} has moe={r['moe']!r}; write yes or no")
        table[r["model"]] = (r["moe"] == "yes", r["reason"])
    return table


def _quote(text: str, m: re.Match[str]) -> str:
    return " ".join(text[max(0, m.start() - 30):m.end() + 30].split())


def moe_reason(row: SystemRow) -> str | None:
    """Why the system is a mixture of experts (the text that says so), or None for a dense one."""
    decided = _moe_table().get(row.model.strip())
    if decided is not None:
        return f"moe.csv: {decided[1]}" if decided[0] else None
    if m := _MOE_NAME.search(row.model):
        return f"name {row.model.strip()!r}"
    for field, text in (("parameters notes", row.parameters_notes), ("compute notes", row.compute_notes)):
        if text and (m := _MOE_TEXT.search(text)):
            return f"{field}: ...{_quote(text, m)}..."
    if row.parameters_notes and (m := _ACTIVE.search(row.parameters_notes)):
        return f"parameters notes: ...{_quote(row.parameters_notes, m)}..."
    return None


# ---------------------------------------------------------------------------------------- eras


def _date_or_none(text: str) -> float | None:
    if not text.strip():
        return None
    d = date.fromisoformat(text)
    return decimal_year(d.year, d.month, d.day)


def _float_or_none(text: str) -> float | None:
    return float(text) if text.strip() else None


@cache
def eras() -> tuple[Era, ...]:
    """The windows of Sevilla et al. 2022 (and the same windows extended to the data's end)."""
    text = resources.files("harness.estimate").joinpath("eras.csv").read_text(encoding="utf-8")
    out = []
    for r in csv.DictReader(io.StringIO(text)):
        if r["selection"] not in ("all", "regular", "large"):
            raise ValueError(f"eras.csv: era {r['era']!r} has selection {r['selection']!r}")
        start = _date_or_none(r["start"])
        assert start is not None, f"eras.csv: era {r['era']!r} has no start"
        n = _float_or_none(r["paper_n"])
        out.append(Era(
            name=r["era"], label=r["label"], start=start, end=_date_or_none(r["end"]),
            selection=r["selection"], paper_n=None if n is None else int(n),
            paper_slope_oom_per_year=_float_or_none(r["paper_slope_oom_per_year"]),
            paper_doubling_months=_float_or_none(r["paper_doubling_months"]),
            paper_doubling_low=_float_or_none(r["paper_doubling_low"]),
            paper_doubling_median=_float_or_none(r["paper_doubling_median"]),
            paper_doubling_high=_float_or_none(r["paper_doubling_high"]), source=r["source"]))
    return tuple(out)


# ---------------------------------------------------------------------------------------- selection


def _domain(row: SystemRow) -> str:
    return (row.domain or UNKNOWN_DOMAIN).strip().lower() or UNKNOWN_DOMAIN


def select(rows: Iterable[SystemRow], metric: str = "compute", *, domains: Sequence[str] | None = None,
           since: float | None = None, until: float | None = None, exclude_moe: bool = False) -> Selection:
    """The points of one metric, after the domain and date filters, implausible rows and (if asked) MoE.

    `since` / `until` are decimal years, inclusive (`until=2021` keeps all of 2021's systems only
    when given as 2022; the CLI passes whole years that way). `domains` match the first listed
    domain, case-insensitively.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of: {', '.join(METRICS)}")
    wanted = None if not domains else {d.strip().lower() for d in domains}
    points: list[Point] = []
    bad: list[Excluded] = []
    moe: list[Excluded] = []
    missing = outside = 0
    for row in rows:
        value = row.compute if metric == "compute" else row.parameters
        if (why := implausible(row)) is not None:
            bad.append(Excluded(row.model, why))
            continue
        if row.date is None or value is None:
            missing += 1
            continue
        if (wanted is not None and _domain(row) not in wanted) or (since is not None and row.date < since) \
                or (until is not None and row.date >= until):
            outside += 1
            continue
        if exclude_moe and (why := moe_reason(row)) is not None:
            moe.append(Excluded(row.model, why))
            continue
        points.append(Point(row.model, row.date, value, _domain(row), row.parameters, row.compute))
    return Selection(metric, tuple(points), tuple(bad), tuple(moe), missing, outside)
