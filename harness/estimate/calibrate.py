"""Calibrated utilisation defaults: a partially pooled model of log utilisation, with intervals.

The target is the wall-clock utilisation of a training run, what the hardware method needs:
compute / (chips x wall-clock seconds x dense peak). Evidence (`harness.estimate.evidence`) comes
in classes that measure different things, and the model keeps them apart:

* training runs (`counted`, `dataset count`, `recount`): the target itself, weight 1;
* `reported MFU`: turned into wall-clock terms by the ratio fitted on the systems that report both
  (`evidence.mfu_relation`), used only for systems with no training-run figure;
* `benchmark`: tuned runs, an upper reference: their own offset (unpenalised), weight w_b.

Model: log10 u = intercept + [benchmark offset] + sum of one effect per known key value (chip
family, generation, precision, domain, scale, size, era), fitted by weighted ridge regression (a
group of n systems moves its effect by about n / (n + ridge) of its mean residual: partial
pooling, so a group of two moves the estimate little), with a redescending (Welsch) loss:
wall-clock figures have a long low tail (stalls, restarts, misreported hours), and the loss
fits the bulk of the runs rather than the tail, as the median |log10 error| rewards. The predictors, the ridge strength and w_b are chosen by
5-fold cross-validation on the training runs. The 80% predictive interval is the 10th-90th
percentile of the out-of-fold residuals. `defaults_table` writes the model as the rows
`defaults.combine` reads back, so what is evaluated is what the lookup returns.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from harness.estimate.defaults import (  # noqa: F401 (re-exported for older callers)
    DefaultRow,
    SystemKeys,
    domain_key,
    group_keys,
    scale_key,
    size_key,
)
from harness.estimate.evidence import Evidence, MfuRelation, mfu_relation
from harness.estimate.methods import FIXED_RULE

PREDICTOR_SETS: tuple[tuple[str, ...], ...] = (
    (),
    ("family", "generation"),
    ("family", "generation", "domain", "size", "scale"),
    ("family", "generation", "precision", "domain", "size", "scale", "era"),
)
RIDGES = (8.0, 32.0, 128.0)
BENCHMARK_WEIGHTS = (0.0, 0.3)
SPREADS = (0.1, 0.2)
FOLDS = 5
IRLS_ROUNDS = 8
INTERVAL = (10.0, 90.0)
TWO_X = math.log10(2)
LANGUAGE_ANCHOR = math.log10(FIXED_RULE["language"] / FIXED_RULE["other"])


@dataclass(frozen=True)
class Settings:
    predictors: tuple[str, ...]
    ridge: float
    benchmark_weight: float
    spread_log10: float = 0.2  # Welsch loss scale: residuals well beyond it carry almost no weight

    def describe(self) -> str:
        return (f"predictors {'+'.join(self.predictors) or 'none'}, ridge {self.ridge:g}, benchmark weight "
                f"{self.benchmark_weight:g}, loss scale {self.spread_log10:g} in log10")


@dataclass(frozen=True)
class Target:
    """One fitted item: log10 utilisation in wall-clock terms, its class and group keys."""

    system: str
    y: float
    evidence_class: str  # "training run" | "reported MFU" | "benchmark"
    keys: dict[str, str]
    year: int | None


@dataclass(frozen=True)
class Model:
    settings: Settings
    intercept: float
    effects: dict[tuple[str, str], float]
    counts: dict[tuple[str, str], int]
    benchmark_offset: float | None
    relation: MfuRelation | None
    interval_log10: tuple[float, float] = (0.0, 0.0)
    n_by_class: dict[str, int] = field(default_factory=dict)

    def predict_log10(self, keys: SystemKeys | dict[str, str]) -> float:
        k = group_keys(keys) if isinstance(keys, SystemKeys) else keys
        return self.intercept + sum(self.effects.get((p, k[p]), 0.0) for p in self.settings.predictors
                                    if p in k) + (LANGUAGE_ANCHOR if k.get("domain") == "language" else 0.0)


def anchor_log10(keys: dict[str, str]) -> float:
    """The prior every estimate is pooled toward: Epoch's fixed rule (0.4, and 0.3 for language)."""
    return math.log10(FIXED_RULE["other"]) + (LANGUAGE_ANCHOR if keys.get("domain") == "language" else 0.0)


RUN_PRIORITY = ("counted", "dataset count", "recount")  # one training-run figure per system: the best


def best_runs(items: Iterable[Evidence]) -> list[Evidence]:
    """Items with one training-run figure per system (the harness's count over the dataset's count
    over a 6ND recount); other classes untouched."""
    items = list(items)
    best: dict[str, Evidence] = {}
    for e in items:
        if e.evidence_class == "training run":
            old = best.get(e.system)
            if old is None or RUN_PRIORITY.index(e.kind) < RUN_PRIORITY.index(old.kind):
                best[e.system] = e
    return [e for e in items if e.evidence_class != "training run" or best[e.system] is e]


def targets(items: Iterable[Evidence]) -> tuple[list[Target], MfuRelation | None]:
    """The items the model fits: training runs, benchmarks, and MFU-only systems converted."""
    items = [e for e in items if e.evidence_class in ("training run", "reported MFU", "benchmark")]
    items = best_runs(items)
    relation = mfu_relation(items)
    runs = {e.system for e in items if e.evidence_class == "training run"}
    out = []
    for e in items:
        y = math.log10(e.utilisation)
        if e.kind == "reported MFU":
            if relation is None or e.system in runs:
                continue
            y += relation.offset_log10
        keys = group_keys(e.keys)
        out.append(Target(e.system, y - anchor_log10(keys), e.evidence_class, keys, e.keys.year))
    return out, relation


def _solve(ts: Sequence[Target], s: Settings) -> tuple[float, dict, dict, float | None, np.ndarray]:
    ts = [t for t in ts if t.evidence_class != "benchmark" or s.benchmark_weight > 0]
    levels = sorted({(p, t.keys[p]) for t in ts for p in s.predictors if p in t.keys})
    col = {kv: i + 2 for i, kv in enumerate(levels)}
    X = np.zeros((len(ts), len(levels) + 2))
    X[:, 0] = 1.0
    for i, t in enumerate(ts):
        X[i, 1] = t.evidence_class == "benchmark"
        for p in s.predictors:
            if p in t.keys:
                X[i, col[(p, t.keys[p])]] = 1.0
    y = np.array([t.y for t in ts])
    base = np.array([s.benchmark_weight if t.evidence_class == "benchmark" else 1.0 for t in ts])
    penalty = np.full(X.shape[1], s.ridge)
    penalty[1] = 0.0  # the benchmark offset is free; the intercept is pooled toward the rule like the effects
    has_bench = bool(X[:, 1].any())
    if not has_bench:
        penalty[1] = 1.0  # no benchmark rows: pin the unused offset at 0
    r = y.copy()  # start at the rule (every coefficient 0) and walk to the nearest mode
    beta = np.zeros(X.shape[1])
    for _ in range(IRLS_ROUNDS):
        w = base * np.exp(-((r / s.spread_log10) ** 2) / 2)  # Welsch: the long low tail weighs ~nothing
        A = X.T @ (w[:, None] * X) + np.diag(penalty)
        beta = np.linalg.solve(A, X.T @ (w * y))
        r = y - X @ beta
    effects = {kv: float(beta[i]) for kv, i in col.items()}
    counts = {kv: int(X[:, i].sum()) for kv, i in col.items()}
    return float(beta[0]), effects, counts, float(beta[1]) if has_bench else None, r


def _fit_settings(ts: Sequence[Target], relation: MfuRelation | None, s: Settings) -> Model:
    intercept, effects, counts, offset, _ = _solve(ts, s)
    intercept += math.log10(FIXED_RULE["other"])
    counts.setdefault(("domain", "language"), sum(t.keys.get("domain") == "language" for t in ts))
    n = {c: sum(t.evidence_class == c for t in ts) for c in ("training run", "reported MFU", "benchmark")}
    return Model(s, intercept, effects, counts, offset, relation, (0.0, 0.0), n)


def _folds(ts: Sequence[Target]) -> list[list[str]]:
    """Training-run systems split into FOLDS groups, deterministic (by sorted name, dealt round-robin)."""
    systems = sorted({t.system for t in ts if t.evidence_class == "training run"})
    return [systems[i::FOLDS] for i in range(FOLDS)]


def _era_folds(ts: Sequence[Target]) -> list[list[str]]:
    """Training-run systems grouped by era: each era predicted from the others (drift included)."""
    eras: dict[str, set[str]] = {}
    for t in ts:
        if t.evidence_class == "training run":
            eras.setdefault(t.keys.get("era", "unknown"), set()).add(t.system)
    return [sorted(v) for _, v in sorted(eras.items())]


def cv_residuals(ts: Sequence[Target], relation: MfuRelation | None, s: Settings,
                 folds: list[list[str]] | None = None) -> np.ndarray:
    """Out-of-fold residuals (observed - predicted, log10) of the training runs."""
    res = []
    for held in _folds(ts) if folds is None else folds:
        out = set(held)
        m = _fit_settings([t for t in ts if t.system not in out], relation, s)
        res += [t.y + anchor_log10(t.keys) - m.predict_log10(t.keys) for t in ts if t.system in out and t.evidence_class == "training run"]
    return np.array(res)


def fit(items: Iterable[Evidence], settings: Settings | None = None) -> Model:
    """Choose the settings by cross-validation (unless given), fit, and attach the 80% interval."""
    ts, relation = targets(items)
    if sum(t.evidence_class == "training run" for t in ts) < FOLDS:
        raise ValueError("fewer than 5 training runs to calibrate on: the evidence has no usable rows")
    grid = [settings] if settings else [Settings(p, r, b, c) for p in PREDICTOR_SETS for r in RIDGES
                                        for b in BENCHMARK_WEIGHTS for c in SPREADS]
    scored = [(float(np.median(np.abs(res := cv_residuals(ts, relation, s)))), i, s, res) for i, s in enumerate(grid)]
    _, _, best, res = min(scored, key=lambda x: (x[0], x[1]))
    # the interval also holds each era out: a default is used on systems newer than its evidence
    res = np.concatenate([res, cv_residuals(ts, relation, best, _era_folds(ts))])
    low, high = np.percentile(res, INTERVAL)
    m = _fit_settings(ts, relation, best)
    return Model(m.settings, m.intercept, m.effects, m.counts, m.benchmark_offset, relation,
                 (float(low), float(high)), m.n_by_class)


def _row(group: str, log_u: float, interval: tuple[float, float], n: int, source: str) -> DefaultRow:
    central = min(10 ** log_u, 1.0)
    return DefaultRow(group, central, central * 10 ** interval[0], min(max(central * 10 ** interval[1], central), 1.0),
                      n, source)


def defaults_table(model: Model) -> list[DefaultRow]:
    """The model as table rows: 'all', one per key value, and the evidence-class offsets (shown)."""
    why = f"ridge-pooled log model ({model.settings.describe()}); 80% interval from cross-validated residuals"
    rows = [_row("all", model.intercept, model.interval_log10, sum(model.n_by_class.values()), why)]
    effects = dict(model.effects)
    effects[("domain", "language")] = effects.get(("domain", "language"), 0.0) + LANGUAGE_ANCHOR
    for (k, v), effect in sorted(effects.items()):
        rows.append(_row(f"{k}={v}", model.intercept + effect, model.interval_log10, model.counts.get((k, v), 0), why))
    if model.benchmark_offset is not None:
        rows.append(_row("offset/evidence=benchmark", model.intercept + model.benchmark_offset, model.interval_log10,
                         model.n_by_class["benchmark"], "what a tuned benchmark run shows for the 'all' system"))
    if model.relation is not None:
        r = model.relation
        rows.append(_row("offset/evidence=reported-mfu", model.intercept - r.offset_log10, model.interval_log10, r.n,
                         f"the MFU the 'all' system would report: wall-clock = MFU x {r.ratio:.3f} "
                         f"(median over {r.n} systems with both)"))
    return rows


def rule_table(items: Iterable[Evidence]) -> list[DefaultRow]:
    """The fixed 0.3 / 0.4 rule with intervals measured on the training runs (the fallback table)."""
    runs = [e for e in items if e.evidence_class == "training run"]
    rows = []
    for which, u in FIXED_RULE.items():
        mine = [e for e in runs if (domain_key(e.domain) == "language") == (which == "language")]
        used = mine if len(mine) >= 5 else runs
        logs = [math.log10(e.utilisation / u) for e in used]
        low, high = np.percentile(logs, INTERVAL) if logs else (math.log10(0.25 / u), math.log10(0.62 / u))
        rows.append(_row(f"rule/domain={which}", math.log10(u), (float(min(low, 0)), float(max(high, 0))), len(used),
                         "Epoch's fixed rule; 80% interval from its errors on the training runs"))
    return rows


def measured_rows(store_rows: Iterable[dict], boots: int = 300, seed: int = 0) -> list[DefaultRow]:
    """The harness's own ok training runs: median MFU per (generation, precision), shown apart.

    Single-device steps on synthetic data have no data loading, no communication and no
    downtime, so they bound a training run's utilisation from above; they are not pooled with
    the wall-clock utilisation of whole training runs.
    """
    from harness.estimate.evidence import single_device_evidence

    groups: dict[tuple[str, str], list[float]] = {}
    for e in single_device_evidence(store_rows):
        groups.setdefault((str(e.keys.generation), str(e.keys.precision)), []).append(e.utilisation)
    rng = np.random.default_rng(seed)
    rows = []
    for (gen, prec), values in sorted(groups.items()):
        v = np.array(values)
        medians = [np.median(rng.choice(v, len(v))) for _ in range(boots)]
        low, high = np.percentile(medians, [10, 90])
        rows.append(DefaultRow(f"measured/generation={gen}/precision={prec}", float(np.median(v)), float(low),
                               float(high), len(v), "harness runs, single device; median MFU, 80% bootstrap interval"))
    return rows


# ------------------------------------------------------------------ the report's entry points


def observations_from_systems(systems: object) -> tuple[list[Evidence], list[tuple[str, str]]]:
    """Dataset evidence (training runs and reported MFU) and (model, why) for rows left out."""
    from harness.estimate.evidence import from_dataset

    kept, dropped = from_dataset(systems)  # type: ignore[arg-type]
    return kept, [(d.system, d.reason) for d in dropped]


@dataclass(frozen=True)
class Evaluation:
    """Leave-one-system-out summary: calibrated defaults vs the fixed rule (what the report shows)."""

    n: int
    calibrated_median_abs_log10: float
    calibrated_within_2x: float
    fixed_median_abs_log10: float
    fixed_within_2x: float
    errors: list[tuple[str, float, float]]  # system, calibrated error, fixed-rule error (log10)


def evaluate(items: Sequence[Evidence]) -> Evaluation:
    """`evaluation.leave_one_system_out`, summarised."""
    from harness.estimate.evaluation import leave_one_system_out

    ev = leave_one_system_out(items)
    return Evaluation(ev.n, ev.calibrated_median_abs_log10, ev.calibrated_within_2x, ev.fixed_median_abs_log10,
                      ev.fixed_within_2x, ev.errors)
