"""The zoo's counted training compute reconciled against the dataset's figure, one row per system.

`reconcile(counted, names, systems)` takes numbers in (the counted estimates, computed by
`harness.zoo_compute`, which runs the models; this module never does) and returns one
`ZooDatasetRow` per zoo system that has a dataset figure: the counted compute and its parts,
the dataset's figure and estimation method, their ratio and, for a ratio outside
`AGREEMENT` ([0.5, 2]), the reason in words: the run table's own `dataset_note` (the
arithmetic that shows where the dataset or the harness is wrong), else what the dataset's
method explains (a hardware estimate at an assumed utilisation, 6ND on the total parameters of
a mixture of experts, self-play left out).

Calibration evidence: where the dataset's figure came from the hardware method, the row
carries `implied_utilisation` = counted FLOP / (chips x seconds x dense peak of the precision
used), computed from the dataset's own chips, hours and peak rule. That utilisation rests on
the counted model FLOP, not on an assumed 0.3 / 0.4; `utilisation_evidence(rows)` returns
just those (system, accelerator, utilisation) triples for the calibration to consume.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from harness.estimate import dataset as D
from harness.estimate.counted import CountedEstimate
from harness.estimate.runs import TrainingRun

__all__ = ["AGREEMENT", "COLUMNS", "ZooDatasetRow", "reconcile", "summary_markdown", "utilisation_evidence"]

AGREEMENT = (0.5, 2.0)  # counted / dataset inside this range: the two agree
HOUR = 3600.0


@dataclass(frozen=True)
class ZooDatasetRow:
    """One zoo system against its dataset row. FLOP in FLOP; `ratio` = counted / dataset."""

    zoo_name: str
    dataset_model: str
    counted_flop: float
    gradient_steps_flop: float | None
    self_play_flop: float | None
    rollouts_flop: float | None
    search_flop: float | None
    closed_form_flop: float | None
    closed_form: str
    counted_per_unit_flop: float
    per_unit: str
    dataset_flop: float
    dataset_method: str
    ratio: float
    agrees: bool
    reason: str  # empty when the two agree
    implied_utilisation: float | None  # counted / (chips x seconds x peak), hardware-method rows
    utilisation_basis: str  # the chips, hours and peak behind it
    operation_counting: bool  # the dataset's figure came (at least partly) from operation counting
    notes: str
    # the dataset row's keys, for calibration evidence (`utilisation_evidence`)
    hardware: str | None = None  # peak-table name of the row's (first) accelerator
    precision: str | None = None
    domain: str | None = None
    chips: float | None = None
    parameters: float | None = None
    year: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


COLUMNS: tuple[str, ...] = tuple(ZooDatasetRow.__dataclass_fields__)


def _hardware_method(methods: frozenset[str]) -> bool:
    return "hardware" in methods


def _implied(counted: float, row: D.SystemRow, run: TrainingRun) -> tuple[float | None, str]:
    """Counted / (chips x seconds x peak): the dataset row's chips and hours, the run's where the row
    has none (said in the basis); the peak from the row's hardware and precision (its peak rule)."""
    peak, rule = D.peak_flop_per_s(row)
    chips, chips_from = (row.quantity, "dataset") if row.quantity else (run.chip_count, "paper")
    hours, hours_from = (row.hours, "dataset") if row.hours else (run.hours, "paper")
    if not (chips and hours and peak):
        missing = [w for w, v in (("chips", chips), ("hours", hours), ("peak", peak)) if not v]
        return None, f"no implied utilisation: neither the dataset row nor the paper gives {', '.join(missing)}"
    u = counted / (chips * hours * HOUR * peak)
    return u, (f"{chips:g} chips ({chips_from}) x {hours:g} h ({hours_from}) x {peak / 1e12:g} TFLOP/s ({rule})")


def _auto_reason(c: CountedEstimate, run: TrainingRun, row: D.SystemRow, ratio: float,
                 implied: float | None) -> str:
    """What the dataset's own method explains, when the run table holds no note."""
    methods = row.estimation_methods
    words = []
    if _hardware_method(methods):
        u = f"; the counted compute implies a utilisation of {implied:.3f}" if implied is not None else ""
        words.append(f"the dataset used the hardware method (chips x time x peak x an assumed utilisation){u}")
    if run.moe is not None and row.parameters and row.dataset_size:
        words.append(f"6ND on the total {row.parameters:.3g} parameters overstates a mixture of experts routed "
                     f"top-{run.moe.top_k} of {run.moe.experts}")
    if c.part("self-play") is not None and ratio > 2:
        words.append("the dataset's figure leaves out self-play")
    return "; ".join(words)


def _join(note: str, auto: str) -> str:
    """The run table's note, then what the dataset's method explains, as sentences."""
    auto = f"{auto[0].upper()}{auto[1:]}." if auto else ""
    return " ".join(t for t in (note, auto) if t)


def reconcile(counted: Mapping[str, CountedEstimate], runs: Mapping[str, TrainingRun],
              names: Mapping[str, str], systems: D.Systems | Sequence[D.SystemRow]) -> list[ZooDatasetRow]:
    """One row per zoo system in `counted` whose dataset name (`names`) has a compute figure."""
    rows = systems.rows if isinstance(systems, D.Systems) else list(systems)
    by_model = {r.model: r for r in rows}
    out = []
    for zoo, c in counted.items():
        row = by_model.get(names.get(zoo, ""))
        if row is None or not row.compute:
            continue
        run = runs[zoo]
        ratio = c.flop / row.compute
        agrees = AGREEMENT[0] <= ratio <= AGREEMENT[1]
        implied, basis = _implied(c.flop, row, run) if _hardware_method(row.estimation_methods) else (None, "")
        reason = "" if agrees else (_join(run.dataset_note, _auto_reason(c, run, row, ratio, implied))
                                    or "no reason found")
        part = lambda name: (p.flop if (p := c.part(name)) is not None else None)  # noqa: E731
        out.append(ZooDatasetRow(
            zoo_name=zoo, dataset_model=row.model, counted_flop=c.flop,
            gradient_steps_flop=part("gradient steps"), self_play_flop=part("self-play"),
            rollouts_flop=part("rollouts"), search_flop=part("architecture search"),
            closed_form_flop=c.closed_form_flop, closed_form=c.closed_form,
            counted_per_unit_flop=c.per_unit_flop, per_unit=c.per_unit,
            dataset_flop=row.compute, dataset_method=row.estimation_method or "",
            ratio=ratio, agrees=agrees, reason=reason, implied_utilisation=implied, utilisation_basis=basis,
            operation_counting="operation counting" in row.estimation_methods,
            notes=" ".join(c.notes),
            hardware=row.accelerators[0].name if row.accelerators else None, precision=row.precision,
            domain=row.domain, chips=row.quantity or run.chip_count, parameters=row.parameters, year=row.year,
        ))
    return out


def utilisation_evidence(rows: Iterable[ZooDatasetRow]) -> list[dict[str, Any]]:
    """The items `harness.estimate.evidence.counted_evidence` takes, one per hardware-method row
    with an implied utilisation: `system`, `utilisation` (counted model FLOP / (chips x seconds x
    dense peak), free of an assumed 0.3 / 0.4), `hardware`, `precision`, `domain`, `chips`,
    `parameters`, `year`, and `basis` (the chips, hours and peak behind it)."""
    return [{"system": r.dataset_model, "utilisation": r.implied_utilisation, "hardware": r.hardware,
             "precision": r.precision, "domain": r.domain, "chips": r.chips, "parameters": r.parameters,
             "year": r.year, "basis": r.utilisation_basis}
            for r in rows if r.implied_utilisation is not None and math.isfinite(r.implied_utilisation)]


def _g(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"


def summary_markdown(rows: Sequence[ZooDatasetRow], provenance: str) -> str:
    """The table in words: agreement overall and for operation-counting rows, every disagreement's reason."""
    op = [r for r in rows if r.operation_counting]
    lines = [
        "# Zoo systems: counted training compute against the dataset",
        "",
        provenance,
        "",
        f"- {len(rows)} zoo systems with a dataset figure; {sum(r.agrees for r in rows)} within "
        f"[{AGREEMENT[0]:g}, {AGREEMENT[1]:g}] of it.",
        f"- Of the {len(op)} whose dataset figure came (at least partly) from operation counting, "
        f"{sum(r.agrees for r in op)} are within [{AGREEMENT[0]:g}, {AGREEMENT[1]:g}].",
        f"- Every ratio outside the range carries a reason: "
        f"{'yes' if all(r.reason and r.reason != 'no reason found' for r in rows if not r.agrees) else 'no'}.",
        "",
        "| zoo system | counted FLOP | parts | dataset FLOP | dataset method | counted / dataset | counted / closed form | implied utilisation |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        parts = ", ".join(f"{n} {_g(v)}" for n, v in (("steps", r.gradient_steps_flop), ("self-play", r.self_play_flop),
                                                      ("rollouts", r.rollouts_flop), ("search", r.search_flop)) if v)
        cf = _g(r.gradient_steps_flop / r.closed_form_flop) if r.closed_form_flop and r.gradient_steps_flop else "-"
        lines.append(f"| {r.zoo_name} | {_g(r.counted_flop)} | {parts} | {_g(r.dataset_flop)} | {r.dataset_method or '-'} "
                     f"| {r.ratio:.3g} | {cf} | {_g(r.implied_utilisation)} |")
    out = [r for r in rows if not r.agrees]
    if out:
        lines += ["", "## Outside [0.5, 2], and why", ""]
        lines += [f"- **{r.zoo_name}** ({r.ratio:.3g}x): {r.reason}" for r in out]
    return "\n".join(lines) + "\n"
