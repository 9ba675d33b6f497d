"""How well utilisation defaults predict training runs they were not fitted on.

Two evaluations, on the training-run evidence (counted, dataset count, recount):

* leave-one-system-out: for each system, everything about it (its training-run figure and its
  MFU) is removed, the model is refitted (settings re-chosen inside the fold), and the system is
  predicted through the same table lookup the harness uses;
* time split: fitted on evidence dated up to `SPLIT_YEAR`, tested on training runs after it.

Each is scored for the calibrated defaults, Epoch's fixed 0.3 / 0.4 rule (with its stated
0.25-0.5 / 0.25-0.62 range, and with a range measured inside the fold), and Epoch's 0.375 median:
median |log10 error| of method 2 against the independent compute, the share within 2x, and the
share of systems inside the 80% interval. `choose` ships the calibrated table only if it is at
least as good as the rule under both evaluations, else the rule with its measured interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from harness.estimate import calibrate as C
from harness.estimate.defaults import DefaultRow, SystemKeys, combine, group_keys, utilisation_default
from harness.estimate.evidence import Evidence
from harness.estimate.methods import Utilisation, fixed_rule

SPLIT_YEAR = 2022
EPOCH_MEDIAN = 0.375  # Epoch AI's median utilisation over the systems that report one
METHODS = ("calibrated defaults", "fixed 0.3/0.4 rule (Epoch's range)", "fixed rule, measured interval",
           "Epoch's 0.375 median")
Predictor = Callable[[SystemKeys], Utilisation | None]


@dataclass(frozen=True)
class Score:
    n: int
    median_abs_log10: float
    within_2x: float
    coverage: float | None  # share inside the 80% interval; None without an interval


@dataclass(frozen=True)
class Evaluation:
    """One evaluation (leave-one-system-out or time split): a score per method, and the errors."""

    name: str
    scores: dict[str, Score]
    errors: list[tuple[str, float, float]]  # system, calibrated |log10 error|, fixed-rule |log10 error|

    # the names older callers read
    @property
    def n(self) -> int:
        return self.scores[METHODS[0]].n if self.scores else 0

    @property
    def calibrated_median_abs_log10(self) -> float:
        return self.scores[METHODS[0]].median_abs_log10

    @property
    def calibrated_within_2x(self) -> float:
        return self.scores[METHODS[0]].within_2x

    @property
    def fixed_median_abs_log10(self) -> float:
        return self.scores[METHODS[1]].median_abs_log10

    @property
    def fixed_within_2x(self) -> float:
        return self.scores[METHODS[1]].within_2x


def _predictors(train: Sequence[Evidence]) -> dict[str, Predictor]:
    table = C.defaults_table(C.fit(train))
    rule = C.rule_table(train)
    return {
        METHODS[0]: lambda k: combine(group_keys(k), table),
        METHODS[1]: lambda k: fixed_rule(k.domain),
        METHODS[2]: lambda k: utilisation_default(k, rule),
        METHODS[3]: lambda k: Utilisation(EPOCH_MEDIAN, EPOCH_MEDIAN, EPOCH_MEDIAN, "Epoch median"),
    }


def _score(pairs: list[tuple[float, Utilisation]], interval: bool) -> Score:
    errors = [abs(math.log10(p.central / u)) for u, p in pairs]
    inside = [p.low <= u <= p.high for u, p in pairs]
    return Score(len(pairs), float(np.median(errors)), sum(e <= C.TWO_X for e in errors) / len(errors),
                 sum(inside) / len(inside) if interval else None)


def _evaluate(name: str, folds: list[tuple[list[Evidence], list[Evidence]]]) -> Evaluation:
    results: dict[str, list[tuple[float, Utilisation]]] = {m: [] for m in METHODS}
    errors = []
    for train, test in folds:
        if sum(e.evidence_class == "training run" for e in train) < C.FOLDS or not test:
            continue  # too little to fit on: this fold says nothing
        predict = _predictors(train)
        for e in test:
            got = {m: predict[m](e.keys) for m in METHODS}
            for m in METHODS:
                results[m].append((e.utilisation, got[m]))
            errors.append((e.system, abs(math.log10(got[METHODS[0]].central / e.utilisation)),
                           abs(math.log10(got[METHODS[1]].central / e.utilisation))))
    scores = {m: _score(results[m], m != METHODS[3]) for m in METHODS} if errors else {}
    return Evaluation(name, scores, errors)


def leave_one_system_out(items: Sequence[Evidence]) -> Evaluation:
    items = C.best_runs(items)
    runs = [e for e in items if e.evidence_class == "training run"]
    folds = [([x for x in items if x.system != e.system], [e]) for e in runs]
    return _evaluate("leave one system out", folds)


def time_split(items: Sequence[Evidence], year: int = SPLIT_YEAR) -> Evaluation:
    items = C.best_runs(items)
    train = [e for e in items if e.keys.year is not None and e.keys.year <= year]
    test = [e for e in items if e.evidence_class == "training run" and e.keys.year is not None and e.keys.year > year]
    return _evaluate(f"time split (fit <= {year}, test {year + 1}+)", [(train, test)])


def beats_rule(ev: Evaluation) -> bool:
    """The calibrated defaults at least as good as the fixed rule: median error and share within 2x."""
    if not ev.scores:
        return False  # an evaluation that could not run shows nothing
    cal, rule = ev.scores[METHODS[0]], ev.scores[METHODS[1]]
    return cal.median_abs_log10 <= rule.median_abs_log10 and cal.within_2x >= rule.within_2x


def choose(items: Sequence[Evidence], evaluations: Sequence[Evaluation]) -> tuple[list[DefaultRow], str]:
    """The table to ship and why: the calibrated one if it beat the rule in every evaluation."""
    if all(beats_rule(ev) for ev in evaluations):
        return C.defaults_table(C.fit(items)), "calibrated defaults (at least as good as the fixed rule in every evaluation)"
    lost = ", ".join(ev.name for ev in evaluations if not beats_rule(ev))
    return C.rule_table(items), f"fixed rule with measured intervals (the calibrated model lost to it: {lost})"


COVERAGE_TARGET = (0.7, 0.9)


def notes(ev: Evaluation) -> list[str]:
    """What an evaluation says in words: the verdict, ties, coverage off target, a better baseline."""
    if not ev.scores:
        return ["Not enough evidence on the fitting side to run it."]
    cal, rule, median = ev.scores[METHODS[0]], ev.scores[METHODS[1]], ev.scores[METHODS[3]]
    verdict = "at least as good as" if beats_rule(ev) else "worse than"
    said = (f"The calibrated defaults are {verdict} the fixed rule here "
            f"({cal.median_abs_log10:.3f} vs {rule.median_abs_log10:.3f}).")
    out = [said]
    if cal.within_2x == rule.within_2x:
        out.append(f"The two tie on the share within 2x ({cal.within_2x:.0%}).")
    if cal.coverage is not None and not COVERAGE_TARGET[0] <= cal.coverage <= COVERAGE_TARGET[1]:
        out.append(f"The 80% interval covers {cal.coverage:.0%} of the runs, outside the "
                   f"{COVERAGE_TARGET[0]:.0%}-{COVERAGE_TARGET[1]:.0%} it should.")
    if median.median_abs_log10 < cal.median_abs_log10:
        out.append(f"Epoch's {EPOCH_MEDIAN} median does better than both ({median.median_abs_log10:.3f}).")
    return out


def _cell(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "n/a"
    return f"{x:.0%}" if pct else f"{x:.3f}"


def report_markdown(items: Sequence[Evidence], evaluations: Sequence[Evaluation], shipped: str,
                    model: C.Model, machine: str, command: str) -> str:
    """The evaluation as a Markdown page: evidence per kind, the scores side by side, the choice."""
    from harness.estimate.evidence import counts

    n = counts(items)
    lines = ["# Utilisation defaults: evaluation", "", f"Produced by `{command}` on {machine}.", "",
             "## Evidence, each kind counted apart", "", "| kind | systems | used as |", "|---|---|---|"]
    used = {"counted": "training run (target)", "dataset count": "training run (target)",
            "recount": "training run (target)", "reported MFU": ("converted by the fitted wall-clock/MFU ratio "
                             "where a system has no training-run figure"),
            "benchmark": "own offset (weight chosen by cross-validation)",
            "single-device": "shown apart, not fitted"}
    lines += [f"| {k} | {v} | {used[k]} |" for k, v in n.items() if k in used]
    lines += [f"| all kinds | {n['distinct systems']} distinct systems | |", ""]
    if model.relation is not None:
        r = model.relation
        said = (f"Wall-clock utilisation / reported MFU on the {r.n} systems with both: median ratio "
                f"{r.ratio:.3f} (median absolute deviation {r.spread_log10:.3f} in log10).")
        lines += [said, ""]
    lines += [f"Model chosen by 5-fold cross-validation on all the evidence: {model.settings.describe()}.", ""]
    for ev in evaluations:
        if not ev.scores:
            lines += [f"## {ev.name}", "", "Not enough evidence on the fitting side to run it.", ""]
            continue
        lines += [f"## {ev.name}", "", f"{ev.n} training runs predicted.", "",
                  "| defaults | median abs log10 error | within 2x | 80% interval coverage |", "|---|---|---|---|"]
        for m, s in ev.scores.items():
            lines.append(f"| {m} | {_cell(s.median_abs_log10)} | {_cell(s.within_2x, True)} | "
                         f"{_cell(s.coverage, True)} |")
        lines += ["", *notes(ev), ""]
    lines += ["## Shipped", "", f"{shipped}.", ""]
    return "\n".join(lines)
