"""Calibrated utilisation defaults for the hardware method, with uncertainty and an honest test.

The quantity calibrated is the utilisation that method 2 needs: compute / (chips x wall-clock
seconds x dense peak), implied by systems whose compute was counted (operation counting) or
whose MFU was reported, never by systems whose compute came from the hardware method with an
assumed utilisation, alone or blended with a count (Epoch often takes the geometric mean of the
two): that would learn the assumption back, and pull every default toward 0.3 / 0.4.

Model: log utilisation = overall median + one effect per group key (hardware generation by
default), each effect the median of its group's residuals shrunk toward zero by
n / (n + k): a group of n systems moves its default away from its parent ("all") only as far
as its evidence allows (partial pooling, robust to the outliers wall-clock figures carry).
Effects are fitted by backfitting; the pooling strength k is chosen by leave-one-out error.
Each default carries an 80% predictive interval from a bootstrap over systems (the refitted
group value plus a resampled residual): what a new system's utilisation spreads over, not
only the uncertainty of the median.

Evaluation: leave-one-system-out (k re-chosen inside each fold), reporting the median absolute
log10 error of method 2 against the counted compute and the share of systems within 2x, for
these defaults and for the fixed 0.3 / 0.4 rule side by side.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from harness.estimate.defaults import DefaultRow, domain_key, scale_key, size_key  # noqa: F401 (re-exported)
from harness.estimate.methods import FIXED_RULE

# The group keys the defaults are fitted on. Hardware generation alone: on the 2025-06 snapshot,
# adding model size, domain, era or run scale raised the leave-one-out error (they add noise
# faster than signal at ~70 systems); the keys stay in the observations for later fits.
KEYS = ("generation",)
POOLING = (1.0, 2.0, 4.0, 8.0)  # candidate k: prior weight of the parent, in systems
TWO_X = math.log10(2)
BACKFIT_ROUNDS = 4


@dataclass(frozen=True)
class Observation:
    """One system's implied utilisation and its group keys."""

    system: str
    utilisation: float
    keys: dict[str, str]
    source: str  # "dataset: operation counting" | "dataset: reported MFU"
    domain: str | None = None


@dataclass(frozen=True)
class Fit:
    """Overall median and shrunk per-group effects, all in log10 utilisation."""

    median: float
    effects: dict[tuple[str, str], float]
    counts: dict[tuple[str, str], int]
    k: float
    residuals: np.ndarray

    def predict_log10(self, keys: dict[str, str]) -> float:
        return self.median + sum(self.effects.get((k, v), 0.0) for k, v in keys.items() if k in KEYS)

    def predict(self, keys: dict[str, str]) -> float:
        return min(10 ** self.predict_log10(keys), 1.0)


def _backfit(obs: Sequence[Observation], k: float) -> Fit:
    y = np.log10([o.utilisation for o in obs])
    keys = [{kk: v for kk, v in o.keys.items() if kk in KEYS} for o in obs]
    effects: dict[tuple[str, str], float] = {}
    counts: dict[tuple[str, str], int] = {}
    median = float(np.median(y))
    for _ in range(BACKFIT_ROUNDS):
        for key in KEYS:
            groups: dict[str, list[float]] = {}
            for yi, ki in zip(y, keys):
                if key in ki:
                    others = sum(effects.get((kk, v), 0.0) for kk, v in ki.items() if kk != key)
                    groups.setdefault(ki[key], []).append(yi - median - others)
            for value, res in groups.items():
                n = len(res)
                effects[(key, value)] = n / (n + k) * float(np.median(res))
                counts[(key, value)] = n
        median = float(np.median([yi - sum(effects.get(kv, 0.0) for kv in ki.items()) for yi, ki in zip(y, keys)]))
    fitted = np.array([median + sum(effects.get(kv, 0.0) for kv in ki.items()) for ki in keys])
    return Fit(median, effects, counts, k, y - fitted)


def _loo_median_error(obs: Sequence[Observation], k: float) -> float:
    errors = []
    for i, o in enumerate(obs):
        f = _backfit([p for j, p in enumerate(obs) if j != i], k)
        errors.append(abs(f.predict_log10(o.keys) - math.log10(o.utilisation)))
    return float(np.median(errors))


def fit(obs: Sequence[Observation], k: float | None = None) -> Fit:
    """Fit the pooled-median model; k by leave-one-out median error when not given."""
    if not obs:
        raise ValueError("no systems to calibrate on: the dataset has no usable rows")
    if k is None:
        k = min(POOLING, key=lambda c: _loo_median_error(obs, c)) if len(obs) > 5 else max(POOLING)
    return _backfit(obs, k)


def defaults_table(obs: Sequence[Observation], boots: int = 200, seed: int = 0) -> list[DefaultRow]:
    """'all' plus one row per key value: the fitted default and its 80% predictive interval."""
    base = fit(obs)
    groups = [("all", {})] + [(f"{k}={v}", {k: v}) for k, v in sorted(base.effects)]
    rng = np.random.default_rng(seed)
    draws = np.empty((boots, len(groups)))
    for b in range(boots):
        f = _backfit([obs[i] for i in rng.integers(0, len(obs), len(obs))], base.k)
        noise = rng.choice(f.residuals, size=len(groups))
        draws[b] = [f.predict_log10(g) for _, g in groups] + noise
    rows = []
    for j, (name, keys) in enumerate(groups):
        n = len(obs) if name == "all" else base.counts[next(iter(keys.items()))]
        central = base.predict(keys)
        low, high = 10 ** np.percentile(draws[:, j], [10, 90])
        rows.append(DefaultRow(name, central, min(float(low), central), min(max(float(high), central), 1.0), n,
                               f"pooled medians, k={base.k:g}; 80% bootstrap predictive interval"))
    return rows


@dataclass(frozen=True)
class Evaluation:
    n: int
    calibrated_median_abs_log10: float
    calibrated_within_2x: float
    fixed_median_abs_log10: float
    fixed_within_2x: float
    errors: list[tuple[str, float, float]]  # system, calibrated error, fixed-rule error (log10)


def evaluate(obs: Sequence[Observation]) -> Evaluation:
    """Leave-one-system-out: fit without the system (pooling re-chosen), predict it."""
    errors = []
    for i, o in enumerate(obs):
        predicted = fit([p for j, p in enumerate(obs) if j != i]).predict(o.keys)
        rule = FIXED_RULE["language" if o.domain and "language" in o.domain.lower() else "other"]
        errors.append((o.system, abs(math.log10(predicted / o.utilisation)), abs(math.log10(rule / o.utilisation))))
    cal = [e[1] for e in errors]
    fix = [e[2] for e in errors]
    return Evaluation(
        len(obs),
        float(np.median(cal)),
        sum(e <= TWO_X for e in cal) / len(cal),
        float(np.median(fix)),
        sum(e <= TWO_X for e in fix) / len(fix),
        errors,
    )


# ---------------------------------------------------------------- where observations come from

EXCLUDE = {
    "hardware_method_circular",  # the compute is itself chips x time x peak x an assumed utilisation
    "utilisation_above_1",
    "utilisation_below_0.01",
    "chip_hours_as_hours",
    "sparse_peak_suspected",
    "board_peak_suspected",
    "precision_peak_mismatch",
    "hardware_unknown",
    "implied_above_reported_mfu",
    "mfu_percentage_as_fraction",
    "chip_hours_mismatch",
    "compute_includes_base_model",
    "hardware_method_suspected",
}


def observations_from_systems(systems: object) -> tuple[list[Observation], list[tuple[str, str]]]:
    """Dataset rows usable for calibration, and (model, why) for those left out."""
    from harness.estimate import dataset as D

    kept: list[Observation] = []
    dropped: list[tuple[str, str]] = []
    for row in systems.rows:  # type: ignore[attr-defined]
        u = D.implied_utilisation(row)
        if u is None:
            continue
        codes = {f.code for f in D.flags(row)}
        methods = set(row.estimation_methods)
        counted = bool(methods) and methods <= {"operation counting", "reported"}
        if row.mfu is not None:
            codes.discard("hardware_method_circular")  # a reported MFU is a measurement
        elif "hardware" in methods:
            # the hardware method alone, or blended with counting (often a geometric mean):
            # either way the compute carries the utilisation someone assumed
            dropped.append((row.model, "compute from or blended with the hardware method (circular)"))
            continue
        elif not counted:
            dropped.append((row.model, "compute neither counted nor measured (third-party or unstated)"))
            continue
        bad = sorted(codes & EXCLUDE)
        if bad:
            dropped.append((row.model, ", ".join(bad)))
            continue
        acc = row.accelerators[0] if row.accelerators else None
        keys = {
            "generation": D.generation(acc) if acc is not None else None,
            "size": size_key(row.parameters),
            "domain": domain_key(row.domain),
        }
        source = "dataset: reported MFU" if row.mfu is not None and not counted else "dataset: operation counting"
        kept.append(Observation(row.model, u, {k: v for k, v in keys.items() if v}, source, row.domain))
    return kept, dropped


def measured_rows(store_rows: Iterable[dict], boots: int = 300, seed: int = 0) -> list[DefaultRow]:
    """The harness's own ok training runs: median MFU per (generation, precision), shown apart.

    Single-device steps on synthetic data have no data loading, no communication and no
    downtime, so they bound a training run's utilisation from above; they are not pooled with
    the wall-clock utilisation of whole training runs.
    """
    from harness.estimate.dataset import generation
    from harness.hardware.table import UnknownHardware, resolve

    groups: dict[tuple[str, str], list[float]] = {}
    for r in store_rows:
        if r.get("status") != "ok" or r.get("phase") != "train" or not r.get("utilisation"):
            continue
        try:
            gen = generation(resolve(r["device_name"]))
        except UnknownHardware:
            continue
        groups.setdefault((gen, r["precision"]), []).append(float(r["utilisation"]))
    rng = np.random.default_rng(seed)
    rows = []
    for (gen, prec), values in sorted(groups.items()):
        v = np.array(values)
        medians = [np.median(rng.choice(v, len(v))) for _ in range(boots)]
        low, high = np.percentile(medians, [10, 90])
        rows.append(DefaultRow(f"measured/generation={gen}/precision={prec}", float(np.median(v)), float(low),
                               float(high), len(v), "harness runs, single device; median MFU, 80% bootstrap interval"))
    return rows
