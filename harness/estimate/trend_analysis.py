"""A whole trends analysis of one metric: eras, domains, record-setters, large-scale split, per-parameter.

`analyse(selection, ...)` takes the points `trend_data.select` chose and returns a frozen
`Analysis`; `Analysis.to_dict()` is the JSON the command prints. Counted FLOP come in as numbers
(`ZooForward`, counted elsewhere: this layer never builds a model).

What each part is:

* `overall`: one fit over every selected system.
* `eras`: the windows of Sevilla et al. 2022 (`trend_data.eras()`), each fitted on the systems the
  paper used there (all, regular-scale or large-scale), beside the paper's figures (of training
  compute: for the parameters metric the windows are kept and the paper's figures left out).
* `domains`: one fit per domain with at least `MIN_POINTS` systems; with `record_setters=True`, the
  record-setters of each domain, their bootstrap fit (`trends.record_trend`) and the step line.
* `large_scale`: the systems above the 2-year neighbourhood at `threshold`, and `sensitivity`: the
  large-scale fit at each threshold of `trends.SENSITIVITY_THRESHOLDS`.
* `per_parameter`: training compute per parameter by domain (median and quartiles) and, for the
  zoo's systems, the counted forward FLOP per parameter per example and the number of
  example-forwards the training compute amounts to: compute / (parameters x that ratio).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from harness.estimate import trends as T
from harness.estimate.trend_data import Era, Point, Selection, eras

__all__ = ["MIN_POINTS", "Analysis", "DomainFit", "EraFit", "PerParameter", "SensitivityRow", "ZooForward",
           "ZooPerParameter", "analyse"]

MIN_POINTS = 5  # a domain with fewer systems gets no fit of its own


@dataclass(frozen=True)
class ZooForward:
    """One zoo system's counted forward pass, keyed to its dataset row by `dataset_name`."""

    zoo_name: str
    dataset_name: str
    forward_flop: float  # one example's forward pass, counted
    parameters: float  # the built model's parameter count
    example: str  # what one example is ("a 224x224 image", "a 2048-token sequence")
    published_compute: float | None = None  # the zoo's recorded training compute (FLOP), with its source there
    published_parameters: float | None = None
    domain: str = ""  # the zoo entry's domain, used where the dataset has no row for the system

    @property
    def flop_per_parameter(self) -> float:
        return self.forward_flop / self.parameters


@dataclass(frozen=True)
class EraFit:
    era: Era
    n: int
    trend: T.Trend | None
    note: str = ""  # why there is no trend


@dataclass(frozen=True)
class DomainFit:
    domain: str
    n: int
    trend: T.Trend | None
    records: tuple[Point, ...] = ()
    record_trend: T.Trend | None = None
    step: tuple[tuple[float, float], ...] = ()
    note: str = ""


@dataclass(frozen=True)
class SensitivityRow:
    threshold: float
    n_large: int  # large-scale systems in the selection
    paper_window: T.Trend | None  # large-scale systems in the paper's large-scale window
    to_date: T.Trend | None  # large-scale systems from the window's start to the data's end
    regular_to_date: T.Trend | None  # the other systems over the same span


@dataclass(frozen=True)
class PerParameter:
    domain: str
    n: int
    median: float  # FLOP of training compute per parameter
    p25: float
    p75: float


@dataclass(frozen=True)
class ZooPerParameter:
    model: str  # dataset name
    zoo_name: str
    domain: str
    compute: float
    parameters: float  # the dataset's
    compute_per_parameter: float
    forward_flop_per_parameter: float  # counted, one example
    example: str
    forwards: float  # compute / (parameters x forward FLOP per parameter): example-forwards
    source: str  # "dataset" (its row's compute and parameters) or "zoo facts" (the row is not in the data)


@dataclass(frozen=True)
class Analysis:
    selection: Selection
    threshold: float
    boots: int
    seed: int
    overall: T.Trend | None
    eras: tuple[EraFit, ...]
    domains: tuple[DomainFit, ...]
    large_scale: tuple[Point, ...]
    sensitivity: tuple[SensitivityRow, ...]
    per_parameter: tuple[PerParameter, ...]
    zoo_per_parameter: tuple[ZooPerParameter, ...]
    z_scores: Mapping[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        s = self.selection
        return {
            "metric": s.metric, "systems": len(s.points), "large_scale_threshold": self.threshold,
            "boots": self.boots, "seed": self.seed, "level": T.LEVEL,
            "overall": _trend_dict(self.overall),
            "eras": [_era_dict(e) for e in self.eras],
            "domains": [_domain_dict(d) for d in self.domains],
            "large_scale": [{"model": p.model, "date": round(p.date, 3), "value": p.value,
                             "z": self.z_scores.get(p.model)} for p in self.large_scale],
            "sensitivity": [{"threshold": r.threshold, "n_large": r.n_large,
                             "paper_window": _trend_dict(r.paper_window), "to_date": _trend_dict(r.to_date),
                             "regular_to_date": _trend_dict(r.regular_to_date)} for r in self.sensitivity],
            "compute_per_parameter": [vars(r) for r in self.per_parameter],
            "zoo_compute_per_parameter": [vars(r) for r in self.zoo_per_parameter],
            "excluded_moe": [vars(e) for e in s.moe],
            "implausible": [vars(e) for e in s.implausible],
            "missing": s.missing, "outside_filters": s.outside,
        }


def _trend_dict(t: T.Trend | None) -> dict[str, object] | None:
    return None if t is None else t.to_dict()


def _era_dict(e: EraFit) -> dict[str, object]:
    era = e.era
    return {"era": era.name, "label": era.label, "start": round(era.start, 3),
            "end": None if era.end is None else round(era.end, 3), "selection": era.selection, "n": e.n,
            "fit": _trend_dict(e.trend), "note": e.note or None,
            "paper": None if era.paper_doubling_months is None else {
                "n": era.paper_n, "slope_oom_per_year": era.paper_slope_oom_per_year,
                "doubling_months": {"central": era.paper_doubling_months, "low": era.paper_doubling_low,
                                    "median": era.paper_doubling_median, "high": era.paper_doubling_high},
                "level": 0.95, "source": era.source}}


def _domain_dict(d: DomainFit) -> dict[str, object]:
    out: dict[str, object] = {"domain": d.domain, "n": d.n, "fit": _trend_dict(d.trend), "note": d.note or None}
    if d.records:
        out["record_setters"] = [{"model": p.model, "date": round(p.date, 3), "value": p.value}
                                 for p in d.records]
        out["record_fit"] = _trend_dict(d.record_trend)
        out["step_line"] = [[round(t, 3), v] for t, v in d.step]
    return out


# ---------------------------------------------------------------------------------------- parts


def _fit(points: Sequence[Point], boots: int, seed: int) -> tuple[T.Trend | None, str]:
    try:
        return T.fit_trend([p.date for p in points], [p.value for p in points], boots=boots, seed=seed), ""
    except T.TrendError as e:
        return None, str(e)


def _without_paper(era: Era) -> Era:
    """The era's window alone: the paper's figures are of training compute, not of another metric."""
    return replace(era, paper_n=None, paper_slope_oom_per_year=None, paper_doubling_months=None,
                   paper_doubling_low=None, paper_doubling_median=None, paper_doubling_high=None,
                   source=f"the window of: {era.source}")


def _era_fits(points: Sequence[Point], large: Sequence[bool], boots: int, seed: int,
              metric: str) -> tuple[EraFit, ...]:
    last = max((p.date for p in points), default=math.inf)
    out = []
    for era in (eras() if metric == "compute" else tuple(_without_paper(e) for e in eras())):
        end = last if era.end is None else era.end
        inside = [p for p, big in zip(points, large) if era.start <= p.date <= end and
                  (era.selection == "all" or big == (era.selection == "large"))]
        trend, note = _fit(inside, boots, seed)
        out.append(EraFit(era, len(inside), trend, note))
    return tuple(out)


def _domain_fits(points: Sequence[Point], records: bool, boots: int, seed: int) -> tuple[DomainFit, ...]:
    by: dict[str, list[Point]] = {}
    for p in points:
        by.setdefault(p.domain, []).append(p)
    out = []
    for domain, ps in sorted(by.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if len(ps) < MIN_POINTS:
            out.append(DomainFit(domain, len(ps), None, note=f"fewer than {MIN_POINTS} systems"))
            continue
        trend, note = _fit(ps, boots, seed)
        if not records:
            out.append(DomainFit(domain, len(ps), trend, note=note))
            continue
        t, v = [p.date for p in ps], [p.value for p in ps]
        idx = T.record_setters(t, v)
        try:
            rtrend = T.record_trend(t, v, boots=boots, seed=seed)
        except T.TrendError as e:
            rtrend, note = None, note or str(e)
        out.append(DomainFit(domain, len(ps), trend, tuple(ps[i] for i in idx), rtrend,
                             tuple(T.step_line(t, v, until=max(t))), note))
    return tuple(out)


def _large_era() -> Era:
    return next(e for e in eras() if e.name == "large-scale")


def _sensitivity(points: Sequence[Point], z: Sequence[float | None], boots: int, seed: int,
                 thresholds: Sequence[float]) -> tuple[SensitivityRow, ...]:
    era = _large_era()
    out = []
    for th in thresholds:
        large = [p for p, zi in zip(points, z) if zi is not None and zi > th]
        regular = [p for p, zi in zip(points, z) if not (zi is not None and zi > th)]
        window = [p for p in large if era.start <= p.date <= (era.end or math.inf)]
        to_date = [p for p in large if p.date >= era.start]
        out.append(SensitivityRow(th, len(large), _fit(window, boots, seed)[0], _fit(to_date, boots, seed)[0],
                                  _fit([p for p in regular if p.date >= era.start], boots, seed)[0]))
    return tuple(out)


def _per_parameter(points: Sequence[Point]) -> tuple[PerParameter, ...]:
    by: dict[str, list[float]] = {}
    for p in points:
        if p.compute and p.parameters:
            by.setdefault(p.domain, []).append(p.compute / p.parameters)
    out = []
    for domain, r in sorted(by.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        # quartiles of the logarithm: the ratios span orders of magnitude
        q = 10 ** np.quantile(np.log10(r), [0.25, 0.5, 0.75])
        out.append(PerParameter(domain, len(r), float(q[1]), float(q[0]), float(q[2])))
    return tuple(out)


def _zoo_per_parameter(points: Sequence[Point], zoo: Sequence[ZooForward]) -> tuple[ZooPerParameter, ...]:
    """Each zoo system's compute per parameter: from its dataset row, else from the zoo's own facts."""
    by_name = {p.model: p for p in points}
    out = []
    for z in zoo:
        p = by_name.get(z.dataset_name)
        if p is not None and p.compute and p.parameters:
            compute, params, domain, source = p.compute, p.parameters, p.domain, "dataset"
        elif z.published_compute and z.published_parameters:
            compute, params, domain, source = z.published_compute, z.published_parameters, z.domain, "zoo facts"
        else:
            continue
        if z.forward_flop <= 0 or z.parameters <= 0:
            continue
        cpp = compute / params
        out.append(ZooPerParameter(z.dataset_name, z.zoo_name, domain, compute, params, cpp,
                                   z.flop_per_parameter, z.example, cpp / z.flop_per_parameter, source))
    return tuple(sorted(out, key=lambda r: r.compute_per_parameter))


def analyse(selection: Selection, *, threshold: float = T.LARGE_SCALE_THRESHOLD, record_setters: bool = False,
            zoo: Sequence[ZooForward] = (), boots: int = T.BOOTS, seed: int = 0,
            thresholds: Sequence[float] = T.SENSITIVITY_THRESHOLDS) -> Analysis:
    """Every part of the analysis (see the module docstring) for the selected points."""
    if not math.isfinite(threshold):
        raise ValueError(f"the large-scale threshold must be a finite number of standard deviations, "
                         f"not {threshold}")
    points = selection.points
    z = T.large_scale_z([p.date for p in points], [p.value for p in points])
    is_large = [zi is not None and zi > threshold for zi in z]
    overall, _ = _fit(points, boots, seed)
    return Analysis(
        selection=selection, threshold=threshold, boots=boots, seed=seed, overall=overall,
        eras=_era_fits(points, is_large, boots, seed, selection.metric),
        domains=_domain_fits(points, record_setters, boots, seed),
        large_scale=tuple(sorted((p for p, big in zip(points, is_large) if big), key=lambda p: p.date)),
        sensitivity=_sensitivity(points, z, boots, seed, thresholds),
        per_parameter=_per_parameter(points),
        zoo_per_parameter=_zoo_per_parameter(points, zoo),
        z_scores={p.model: zi for p, zi in zip(points, z)},
    )
