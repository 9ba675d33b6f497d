"""Growth trends of ML systems over time: log-space fits, bootstrap intervals, record-setters, large-scale.

Pure functions of (date, value) sequences; no torch, no file reading (`trend_data` turns dataset
rows into points, `trend_analysis` assembles a whole analysis).

Conventions, decided here:

* **Fits are made in log space**: ordinary least squares of log10(value) on the decimal publication
  year, so the slope is in orders of magnitude (OOM) per year. An exponential fitted to raw values
  would let the largest systems decide the whole line.
* **Doubling time** in months = 12 x log10(2) / slope; a slope <= 0 has no doubling time (None).
* **Intervals** are bootstrap percentiles over systems: resample the systems with replacement,
  refit, take the (1 - level) / 2 and (1 + level) / 2 quantiles of the slope (`LEVEL` = 0.90 by
  default; Sevilla et al. 2022 report 95%). The doubling interval is the slope interval mapped
  through 12 log10(2) / slope, so its low end comes from the slope's high end. Seeded: the same
  input and seed give the same interval.
* **Record-setters** (per domain): in order of date (same date: larger value first), a system whose
  value is strictly above every earlier one. Their growth is fitted with the bootstrap Sevilla and
  colleagues use for frontier trends: resample *all* the systems, pick the record-setters of the
  resample, fit them; one early outlier then moves the interval, not a single fixed line.
* **Large-scale** (Sevilla et al. 2022, App. on the large-scale era): a system is large-scale when
  its log10 value exceeds the mean log10 value of the other systems published within
  `WINDOW_YEARS` (2) of it by more than `threshold` (0.72) of their standard deviation (population
  form, ddof = 0). A system with fewer than `MIN_NEIGHBOURS` such neighbours, or neighbours of equal
  value, is never large-scale (its z-score is None).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BOOTS",
    "LARGE_SCALE_THRESHOLD",
    "LEVEL",
    "MIN_NEIGHBOURS",
    "SENSITIVITY_THRESHOLDS",
    "WINDOW_YEARS",
    "Trend",
    "TrendError",
    "doubling_months",
    "fit_trend",
    "large_scale",
    "large_scale_z",
    "record_setters",
    "record_trend",
    "step_line",
]

LEVEL = 0.90  # bootstrap interval
BOOTS = 1000
LARGE_SCALE_THRESHOLD = 0.72  # standard deviations above the 2-year neighbourhood (Sevilla et al. 2022)
WINDOW_YEARS = 2.0
MIN_NEIGHBOURS = 2  # a standard deviation needs two values
SENSITIVITY_THRESHOLDS: tuple[float, ...] = (0.5, 0.6, 0.7, 0.72, 0.8, 0.9, 1.0)
MONTHS_PER_YEAR = 12
LOG10_2 = math.log10(2)


class TrendError(ValueError):
    """Too few usable points for a fit; the message says how many there were."""


@dataclass(frozen=True)
class Trend:
    """log10(value) = intercept + slope x year, fitted by least squares, with bootstrap intervals."""

    n: int
    start: float  # first and last decimal year fitted
    end: float
    slope_oom_per_year: float
    slope_low: float
    slope_high: float
    intercept: float
    r2: float
    level: float
    boots: int  # bootstrap refits behind the interval
    value_start: float  # the fitted line at `start` and `end`, in the value's unit
    value_end: float

    @property
    def doubling_months(self) -> tuple[float | None, float | None, float | None]:
        """(central, low, high) doubling time in months; None where the slope is not positive."""
        return (doubling_months(self.slope_oom_per_year), doubling_months(self.slope_high),
                doubling_months(self.slope_low))

    @property
    def factor_per_year(self) -> float:
        return float(10 ** self.slope_oom_per_year)

    def predict(self, year: float) -> float:
        """The fitted value at a decimal year."""
        return float(10 ** (self.intercept + self.slope_oom_per_year * year))

    def to_dict(self) -> dict[str, object]:
        central, low, high = self.doubling_months
        return {
            "n": self.n, "start": round(self.start, 3), "end": round(self.end, 3),
            "slope_oom_per_year": {"central": self.slope_oom_per_year, "low": self.slope_low,
                                   "high": self.slope_high},
            "doubling_months": {"central": central, "low": low, "high": high},
            "factor_per_year": self.factor_per_year, "intercept": self.intercept, "r2": self.r2,
            "level": self.level, "boots": self.boots,
            "value_start": self.value_start, "value_end": self.value_end,
        }


def doubling_months(slope_oom_per_year: float | None) -> float | None:
    """12 x log10(2) / slope: months for the value to double; None for a slope <= 0."""
    if slope_oom_per_year is None or not math.isfinite(slope_oom_per_year) or slope_oom_per_year <= 0:
        return None
    return MONTHS_PER_YEAR * LOG10_2 / slope_oom_per_year


# ---------------------------------------------------------------------------------------- fitting


def _arrays(years: Sequence[float], values: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """(year, log10 value) for the finite pairs with a positive value."""
    t = np.asarray(years, dtype=float)
    v = np.asarray(values, dtype=float)
    if t.shape != v.shape:
        raise ValueError(f"years and values differ in length ({t.size} vs {v.size})")
    ok = np.isfinite(t) & np.isfinite(v) & (v > 0)
    return t[ok], np.log10(v[ok])


def _ols(t: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of y on t, centred for accuracy (years near 2000 squared lose digits)."""
    mt, my = t.mean(), y.mean()
    dt = t - mt
    slope = float(np.dot(dt, y - my) / np.dot(dt, dt))
    return slope, float(my - slope * mt)


def _r2(t: np.ndarray, y: np.ndarray, slope: float, intercept: float) -> float:
    total = float(np.sum((y - y.mean()) ** 2))
    if total == 0:
        return 1.0
    return 1.0 - float(np.sum((y - intercept - slope * t) ** 2)) / total


def _interval(slopes: Sequence[float], level: float, fallback: float) -> tuple[float, float]:
    if not len(slopes):
        return fallback, fallback
    tail = (1 - level) / 2
    lo, hi = np.quantile(np.asarray(slopes, dtype=float), [tail, 1 - tail])
    return float(lo), float(hi)


def _trend(t: np.ndarray, y: np.ndarray, slopes: Sequence[float], level: float) -> Trend:
    slope, intercept = _ols(t, y)
    lo, hi = _interval(slopes, level, slope)
    return Trend(n=int(t.size), start=float(t.min()), end=float(t.max()), slope_oom_per_year=slope,
                 slope_low=lo, slope_high=hi, intercept=intercept, r2=_r2(t, y, slope, intercept),
                 level=level, boots=len(slopes), value_start=float(10 ** (intercept + slope * t.min())),
                 value_end=float(10 ** (intercept + slope * t.max())))


def _check_fittable(t: np.ndarray, what: str) -> None:
    if t.size < 2 or np.ptp(t) == 0:
        raise TrendError(f"{what} needs at least two points at distinct dates with a positive value; "
                         f"got {t.size}")


def fit_trend(years: Sequence[float], values: Sequence[float], *, boots: int = BOOTS, seed: int = 0,
              level: float = LEVEL) -> Trend:
    """Least squares of log10(value) on the decimal year, with a bootstrap interval over systems.

    Pairs with a non-positive or non-finite value have no logarithm and are left out. A resample
    whose dates are all equal cannot be fitted and is skipped (`Trend.boots` counts the refits kept).
    """
    t, y = _arrays(years, values)
    _check_fittable(t, "a trend")
    rng = np.random.default_rng(seed)
    slopes = []
    for _ in range(boots):
        i = rng.integers(0, t.size, t.size)
        if np.ptp(t[i]) > 0:
            slopes.append(_ols(t[i], y[i])[0])
    return _trend(t, y, slopes, level)


# ---------------------------------------------------------------------------------------- record-setters


def _records_mask(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """True for each point strictly above every earlier one (same date: the larger one counts first)."""
    order = np.lexsort((-y, t))
    ys = y[order]
    before = np.concatenate(([-np.inf], np.maximum.accumulate(ys)[:-1]))  # best of the earlier points
    mask = np.zeros(t.size, dtype=bool)
    mask[order] = ys > before
    return mask


def record_setters(years: Sequence[float], values: Sequence[float]) -> list[int]:
    """Indices (into the inputs) of the record-setters, in date order.

    A record-setter beats every earlier system; points without a positive finite value or a date
    never set a record (and are not counted as earlier systems).
    """
    t = np.asarray(years, dtype=float)
    v = np.asarray(values, dtype=float)
    if t.shape != v.shape:
        raise ValueError(f"years and values differ in length ({t.size} vs {v.size})")
    ok = np.flatnonzero(np.isfinite(t) & np.isfinite(v) & (v > 0))
    mask = _records_mask(t[ok], np.log10(v[ok]))
    picked = ok[mask]
    return [int(i) for i in picked[np.argsort(t[picked], kind="stable")]]


def record_trend(years: Sequence[float], values: Sequence[float], *, boots: int = BOOTS, seed: int = 0,
                 level: float = LEVEL) -> Trend:
    """The fit through the record-setters, with the interval from resampling all the systems.

    Each bootstrap draw resamples every system (with replacement), selects the record-setters of
    the draw and fits them; a draw with fewer than two records at distinct dates is skipped.
    """
    t, y = _arrays(years, values)
    mask = _records_mask(t, y)
    _check_fittable(t[mask], "a record-setter trend")
    rng = np.random.default_rng(seed)
    slopes = []
    for _ in range(boots):
        i = rng.integers(0, t.size, t.size)
        m = _records_mask(t[i], y[i])
        tr = t[i][m]
        if tr.size >= 2 and np.ptp(tr) > 0:
            slopes.append(_ols(tr, y[i][m])[0])
    return _trend(t[mask], y[mask], slopes, level)


def step_line(years: Sequence[float], values: Sequence[float],
              until: float | None = None) -> list[tuple[float, float]]:
    """The record as a step function: (year, value) vertices, each record held until the next.

    From the record-setters of the inputs: [(t0, v0), (t1, v0), (t1, v1), ...], extended flat to
    `until` (default: the last record's date).
    """
    idx = record_setters(years, values)
    points: list[tuple[float, float]] = []
    for k, i in enumerate(idx):
        t, v = float(years[i]), float(values[i])
        if k:
            points.append((t, points[-1][1]))
        points.append((t, v))
    if points and until is not None and until > points[-1][0]:
        points.append((float(until), points[-1][1]))
    return points


# ---------------------------------------------------------------------------------------- large-scale


def large_scale_z(years: Sequence[float], values: Sequence[float],
                  window_years: float = WINDOW_YEARS) -> list[float | None]:
    """For each point: (log10 v - mean) / std over the OTHER points dated within `window_years`.

    None where the point has no positive value, fewer than `MIN_NEIGHBOURS` neighbours, or
    neighbours that all have the same value (no spread to measure against).
    """
    t = np.asarray(years, dtype=float)
    v = np.asarray(values, dtype=float)
    if t.shape != v.shape:
        raise ValueError(f"years and values differ in length ({t.size} vs {v.size})")
    ok = np.isfinite(t) & np.isfinite(v) & (v > 0)
    y = np.full(t.size, np.nan)
    y[ok] = np.log10(v[ok])
    out: list[float | None] = []
    for i in range(t.size):
        if not ok[i]:
            out.append(None)
            continue
        near = ok & (np.abs(t - t[i]) <= window_years)
        near[i] = False
        if near.sum() < MIN_NEIGHBOURS:
            out.append(None)
            continue
        sd = float(np.std(y[near]))
        out.append(None if sd == 0 else float((y[i] - y[near].mean()) / sd))
    return out


def large_scale(years: Sequence[float], values: Sequence[float],
                threshold: float = LARGE_SCALE_THRESHOLD, window_years: float = WINDOW_YEARS) -> list[bool]:
    """True for each point whose z-score (`large_scale_z`) exceeds `threshold`."""
    return [z is not None and z > threshold for z in large_scale_z(years, values, window_years)]
