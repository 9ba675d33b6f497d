"""Presentation of `harness trends`: rich tables for the terminal, one long CSV of every fit.

JSON is `Analysis.to_dict()`, printed by the command as it is.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from typing import IO

from harness.estimate import trends as T
from harness.estimate.trend_analysis import Analysis
from harness.estimate.trends import Trend

__all__ = ["CSV_COLUMNS", "fit_rows", "print_tables", "write_csv"]

CSV_COLUMNS = ("part", "name", "n", "start", "end", "slope_oom_per_year", "slope_low", "slope_high",
               "doubling_months", "doubling_low", "doubling_high", "r2", "paper_n", "paper_doubling_months",
               "paper_doubling_low", "paper_doubling_high", "note")


def _g(value: float | None, fmt: str = ".3g") -> str:
    return "-" if value is None else format(value, fmt)


def _interval(central: float | None, low: float | None, high: float | None, fmt: str = ".2f") -> str:
    if central is None:
        return "-"
    return f"{central:{fmt}} [{_g(low, fmt)}, {_g(high, fmt)}]"


def _slope(t: Trend | None) -> str:
    return "-" if t is None else _interval(t.slope_oom_per_year, t.slope_low, t.slope_high)


def _doubling(t: Trend | None) -> str:
    return "-" if t is None else _interval(*t.doubling_months, fmt=".1f")


def _trend_cells(t: Trend | None) -> dict[str, object]:
    if t is None:
        return {}
    central, low, high = t.doubling_months
    return {"n": t.n, "start": round(t.start, 3), "end": round(t.end, 3), "slope_oom_per_year": t.slope_oom_per_year,
            "slope_low": t.slope_low, "slope_high": t.slope_high, "doubling_months": central,
            "doubling_low": low, "doubling_high": high, "r2": t.r2}


def fit_rows(a: Analysis) -> Iterator[dict[str, object]]:
    """One row per fit: overall, each era (with the paper's figures), domain, record fit, threshold."""
    yield {"part": "overall", "name": a.selection.metric, **_trend_cells(a.overall)}
    for e in a.eras:
        yield {"part": "era", "name": e.era.name, "n": e.n, **_trend_cells(e.trend), "paper_n": e.era.paper_n,
               "paper_doubling_months": e.era.paper_doubling_months, "paper_doubling_low": e.era.paper_doubling_low,
               "paper_doubling_high": e.era.paper_doubling_high, "note": e.note}
    for d in a.domains:
        yield {"part": "domain", "name": d.domain, "n": d.n, **_trend_cells(d.trend), "note": d.note}
        if d.records:
            yield {"part": "record-setters", "name": d.domain, "n": len(d.records), **_trend_cells(d.record_trend)}
    for r in a.sensitivity:
        yield {"part": "large-scale", "name": f"threshold {r.threshold:g}, paper window",
               **_trend_cells(r.paper_window)}
        yield {"part": "large-scale", "name": f"threshold {r.threshold:g}, to date", **_trend_cells(r.to_date)}


def write_csv(a: Analysis, stream: IO[str]) -> None:
    w = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(fit_rows(a))


def print_tables(a: Analysis, stream: IO[str] | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(file=stream or sys.stdout, width=160)
    s = a.selection
    unit = "FLOP" if s.metric == "compute" else "parameters"
    con.print(f"{len(s.points)} systems with a date and a {s.metric}; {len(s.implausible)} implausible, "
              f"{len(s.moe)} MoE excluded, {s.missing} without date or {s.metric}, {s.outside} outside the filters. "
              f"Intervals: {T.LEVEL:.0%} bootstrap over systems, {a.boots} refits, seed {a.seed}.")
    for e in s.implausible:
        con.print(f"  implausible, not fitted: {e.model}: {e.reason}")
    for e in s.moe:
        con.print(f"  MoE, excluded: {e.model}: {e.reason}")

    t = Table(title=f"Eras (Sevilla et al. 2022 windows) - log10 {unit} on the year")
    for c in ("era", "systems", "n", "OOM/year", "doubling months", "paper n", "paper doubling (95%)"):
        t.add_column(c)
    for e in a.eras:
        paper = _interval(e.era.paper_doubling_months, e.era.paper_doubling_low, e.era.paper_doubling_high, ".1f")
        t.add_row(e.era.label, e.era.selection, str(e.n), _slope(e.trend), _doubling(e.trend),
                  _g(e.era.paper_n, "d"), paper)
    con.print(t)

    t = Table(title="By domain (first listed domain)")
    cols = ["domain", "n", "OOM/year", "doubling months", "r2"]
    if any(d.records for d in a.domains):
        cols += ["records", "records OOM/year", "records doubling months"]
    for c in cols:
        t.add_column(c)
    for d in a.domains:
        row = [d.domain, str(d.n), _slope(d.trend), _doubling(d.trend), _g(d.trend and d.trend.r2, ".2f")]
        if len(cols) > 5:
            row += [str(len(d.records)), _slope(d.record_trend), _doubling(d.record_trend)]
        t.add_row(*row)
    con.print(t)

    for d in a.domains:
        if d.records:
            con.print(f"record-setters, {d.domain}: " + "; ".join(
                f"{p.model} ({p.date:.1f}, {p.value:.3g})" for p in d.records))

    t = Table(title=f"Large-scale systems: log {s.metric} above the mean of those within 2 years by more than "
                    "the threshold (in standard deviations)")
    for c in ("threshold", "large-scale", "n in paper window", "doubling months (paper window)", "n to date",
              "doubling months (to date)", "regular, doubling to date"):
        t.add_column(c)
    for r in a.sensitivity:
        mark = " (used)" if abs(r.threshold - a.threshold) < 1e-9 else ""
        t.add_row(f"{r.threshold:g}{mark}", str(r.n_large), _g(r.paper_window and r.paper_window.n, "d"),
                  _doubling(r.paper_window), _g(r.to_date and r.to_date.n, "d"), _doubling(r.to_date),
                  _doubling(r.regular_to_date))
    con.print(t)

    if a.per_parameter:
        t = Table(title="Training compute per parameter (FLOP), by domain")
        for c in ("domain", "n", "median", "25%", "75%"):
            t.add_column(c)
        for r in a.per_parameter:
            t.add_row(r.domain, str(r.n), _g(r.median), _g(r.p25), _g(r.p75))
        con.print(t)
    if a.zoo_per_parameter:
        t = Table(title="Zoo systems: compute per parameter = counted forward FLOP per parameter x example-forwards")
        for c in ("system", "domain", "compute / parameter", "forward FLOP / parameter (counted)", "one example",
                  "example-forwards", "figures from"):
            t.add_column(c)
        for r in a.zoo_per_parameter:
            t.add_row(r.model, r.domain or "-", _g(r.compute_per_parameter), _g(r.forward_flop_per_parameter),
                      r.example, _g(r.forwards), r.source)
        con.print(t)
