"""Calibrated utilisation defaults for the hardware method, with uncertainty and an honest test.

The quantity calibrated is the utilisation that method 2 needs: compute / (chips x wall-clock
seconds x dense peak), implied by systems whose compute was counted (operation counting) or
whose MFU was reported, never by systems whose compute itself came from the hardware method
with an assumed utilisation (that would learn the assumption back).

Model: log utilisation = mean + one effect per group key (hardware generation, domain, scale
of the run, era), fitted by ridge regression on one-hot keys: each group's effect is shrunk
toward zero, i.e. its default toward its parent ("all"), the more the fewer systems it has
(partial pooling; the ridge penalty is the ratio of within- to between-group variance). The
penalty is chosen by leave-one-out error. Each default carries an 80% predictive interval from
a bootstrap over systems (the refitted group value times a resampled residual), which is what
a new system's utilisation spreads over, not just the uncertainty of the mean.

Evaluation: leave-one-system-out (the penalty re-chosen inside each fold), reporting the median
absolute log10 error of method 2 against the counted compute and the share of systems within
2x, for these defaults and for the fixed 0.3 / 0.4 rule side by side.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from harness.estimate.defaults import DefaultRow
from harness.estimate.methods import FIXED_RULE

KEYS = ("generation", "domain", "scale", "era")
LAMBDAS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
TWO_X = math.log10(2)


@dataclass(frozen=True)
class Observation:
    """One system's implied utilisation and its group keys."""

    system: str
    utilisation: float
    keys: dict[str, str]
    source: str  # "dataset: operation counting" | "dataset: reported MFU" | "measured"
    domain: str | None = None


def scale_key(chips: float | None) -> str | None:
    if not chips:
        return None
    for limit, name in ((64, "1-63"), (512, "64-511"), (4096, "512-4095")):
        if chips < limit:
            return name
    return "4096+"


def era_key(year: int | None) -> str | None:
    if not year:
        return None
    if year <= 2019:
        return "-2019"
    if year <= 2021:
        return "2020-2021"
    if year <= 2023:
        return "2022-2023"
    return "2024-"


def domain_key(domain: str | None) -> str | None:
    if not domain:
        return None
    d = domain.lower()
    for name in ("language", "vision", "biology", "multimodal", "speech", "games", "image generation"):
        if name in d:
            return name.replace(" ", "-")
    return "other"


@dataclass
class Design:
    """One-hot design over the keys seen in training; unseen values get no effect."""

    columns: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def of(cls, obs: Sequence[Observation]) -> Design:
        cols = sorted({(k, v) for o in obs for k, v in o.keys.items() if k in KEYS})
        return cls(cols)

    def matrix(self, keys: Sequence[dict[str, str]]) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.columns)}
        x = np.zeros((len(keys), len(self.columns)))
        for r, k in enumerate(keys):
            for kv in k.items():
                if kv in index:
                    x[r, index[kv]] = 1.0
        return x


@dataclass(frozen=True)
class Fit:
    design: Design
    mean: float  # intercept: mean log utilisation
    effects: np.ndarray  # one per design column, log scale
    lam: float
    residuals: np.ndarray

    def predict_log(self, keys: Sequence[dict[str, str]]) -> np.ndarray:
        return self.mean + self.design.matrix(keys) @ self.effects

    def predict(self, keys: dict[str, str]) -> float:
        return float(np.exp(self.predict_log([keys])[0]))


def _ridge(x: np.ndarray, y: np.ndarray, lam: float) -> tuple[float, np.ndarray]:
    mean = float(y.mean())
    yc = y - mean
    xc = x - x.mean(axis=0) if len(x) else x
    beta = np.linalg.solve(xc.T @ xc + lam * np.eye(x.shape[1]), xc.T @ yc)
    # intercept so that predictions at the data mean are the mean log utilisation
    return mean - float(x.mean(axis=0) @ beta), beta


def _loo_error(x: np.ndarray, y: np.ndarray, lam: float) -> float:
    """Exact leave-one-out mean squared error of ridge with an unpenalised intercept."""
    n = len(y)
    xa = np.hstack([np.ones((n, 1)), x])
    penalty = lam * np.eye(xa.shape[1])
    penalty[0, 0] = 0.0
    hat = xa @ np.linalg.solve(xa.T @ xa + penalty, xa.T)
    resid = y - hat @ y
    return float(np.mean((resid / np.clip(1 - np.diag(hat), 1e-9, None)) ** 2))


def fit(obs: Sequence[Observation], lam: float | None = None) -> Fit:
    """Fit the additive log-utilisation model; the penalty by leave-one-out when not given."""
    design = Design.of(obs)
    x = design.matrix([o.keys for o in obs])
    y = np.log([o.utilisation for o in obs])
    if lam is None:
        lam = min(LAMBDAS, key=lambda a: _loo_error(x, y, a)) if len(obs) > 3 else LAMBDAS[-1]
    mean, beta = _ridge(x, y, lam)
    return Fit(design, mean, beta, lam, y - (mean + x @ beta))


def defaults_table(obs: Sequence[Observation], boots: int = 300, seed: int = 0) -> list[DefaultRow]:
    """'all' plus one row per key value: the fitted default and its 80% predictive interval."""
    base = fit(obs)
    groups = [("all", {})] + [(f"{k}={v}", {k: v}) for k, v in base.design.columns]
    rng = np.random.default_rng(seed)
    draws = np.empty((boots, len(groups)))
    for b in range(boots):
        sample = [obs[i] for i in rng.integers(0, len(obs), len(obs))]
        f = fit(sample, base.lam)
        noise = rng.choice(f.residuals, size=len(groups))
        draws[b] = f.predict_log([g for _, g in groups]) + noise
    rows = []
    for j, (name, keys) in enumerate(groups):
        n = sum(1 for o in obs if all(o.keys.get(k) == v for k, v in keys.items()))
        central = base.predict(keys)
        low, high = np.exp(np.percentile(draws[:, j], [10, 90]))
        rows.append(DefaultRow(name, central, min(float(low), central), min(max(float(high), central), 1.0), n,
                               f"ridge partial pooling, lambda {base.lam:g}; 80% bootstrap predictive interval"))
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
    """Leave-one-system-out: fit without the system (penalty re-chosen), predict it."""
    errors = []
    for i, o in enumerate(obs):
        rest = [p for j, p in enumerate(obs) if j != i]
        predicted = fit(rest).predict(o.keys)
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
        counted = bool(row.estimation_methods & {"operation counting", "reported"})
        if row.mfu is not None:
            codes.discard("hardware_method_circular")  # a reported MFU is a measurement
        if not counted and row.mfu is None:
            dropped.append((row.model, "compute from the hardware method only (circular)"))
            continue
        bad = sorted(codes & EXCLUDE)
        if bad:
            dropped.append((row.model, ", ".join(bad)))
            continue
        acc = row.accelerators[0] if row.accelerators else None
        keys = {
            "generation": D.generation(acc) if acc is not None else None,
            "domain": domain_key(row.domain),
            "scale": scale_key(row.quantity),
            "era": era_key(row.year),
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
