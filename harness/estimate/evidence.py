"""Evidence of utilisation, each kind under its own label.

Every item is one system (a training run, a benchmark configuration, a harness run) with the
utilisation it shows and the keys the defaults are looked up by (`defaults.SystemKeys`). The kinds:

* `counted`: zoo systems whose dataset figure came from the hardware method, with the compute
  the harness counted for them (`counted_evidence`, fed by the zoo-vs-dataset reconciliation);
* `dataset count`: dataset rows whose published compute was counted (operation counting or
  reported), implied utilisation = compute / (chips x seconds x dense peak);
* `recount`: dataset rows whose compute was made with, or blended with, the hardware method (or
  came from elsewhere): method 1 recomputed here, 6 x N x D x epochs, for language and
  multimodal rows (where the dataset's datapoints are tokens; 6ND undercounts convnets), skipped
  for mixtures of experts (the dataset's parameters are the total, not the active ones);
* `reported MFU`: the dataset's MFU column. MFU leaves out downtime, restarts and evaluation, so
  it is not a wall-clock utilisation: `mfu_relation` fits the ratio on systems that have both;
* `benchmark`: tuned public benchmark runs (benchmarks.csv, package data, one source per row),
  an upper reference with an offset of its own in the model;
* `single-device`: the harness's own measured runs (results database), shown apart.

"Clearly broken" rows are dropped with the reason: implied utilisation above 1 or below
`findings.DATA_ERROR_UTILISATION`, GPU-hours read as hours, hours x chips against the chip-hours column,
a fine-tune whose compute includes its base model, hardware that resolves to nothing.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from harness.estimate import dataset as D
from harness.estimate.defaults import SystemKeys, domain_key
from harness.estimate.findings import DATA_ERROR_UTILISATION
from harness.estimate.trend_data import moe_reason
from harness.hardware.table import UnknownHardware, generation, resolve

KINDS = ("counted", "dataset count", "recount", "reported MFU", "benchmark", "single-device")
# the quantity each kind measures: the model's evidence classes (training run = the target)
CLASS_OF_KIND = {"counted": "training run", "dataset count": "training run", "recount": "training run",
                 "reported MFU": "reported MFU", "benchmark": "benchmark", "single-device": "single-device"}
RECOUNT_DOMAINS = ("language", "multimodal")
BROKEN = frozenset({"chip_hours_as_hours", "chip_hours_mismatch", "compute_includes_base_model",
                    "hardware_unknown", "mfu_percentage_as_fraction"})
HOUR = 3600.0


@dataclass(frozen=True)
class Evidence:
    """One system's utilisation, what kind of figure it is, and its lookup keys."""

    system: str
    utilisation: float
    kind: str  # one of KINDS
    keys: SystemKeys
    source: str = ""

    @property
    def evidence_class(self) -> str:
        return CLASS_OF_KIND[self.kind]

    @property
    def domain(self) -> str | None:  # older callers
        return self.keys.domain


@dataclass(frozen=True)
class Dropped:
    system: str
    kind: str
    reason: str


def _row_keys(row: D.SystemRow) -> SystemKeys:
    gens = {generation(a) for a in row.accelerators}
    gen = gens.pop() if len(gens) == 1 else ("mixed" if gens else None)
    return SystemKeys(generation=gen, precision=row.precision, domain=row.domain, chips=row.quantity,
                      parameters=row.parameters, year=row.year)


def _utilisation(compute: float, row: D.SystemRow) -> float | None:
    peak, _ = D.peak_flop_per_s(row)
    if not (peak and row.quantity and row.hours):
        return None
    return compute / (row.quantity * row.hours * HOUR * peak)


def _plausible(u: float) -> str | None:
    if u > 1:
        return f"implied utilisation {u:.3g} > 1"
    if u < DATA_ERROR_UTILISATION:
        return f"implied utilisation {u:.3g} < {DATA_ERROR_UTILISATION}"
    return None


def from_dataset(systems: D.Systems) -> tuple[list[Evidence], list[Dropped]]:
    """Training-run evidence (`dataset count`, `recount`) and `reported MFU` items from a dataset."""
    kept: list[Evidence] = []
    dropped: list[Dropped] = []
    for row in systems.rows:
        if not (row.accelerators and row.quantity and row.hours):
            continue
        keys = _row_keys(row)
        codes = {f.code for f in D.flags(row)}
        broken = sorted(codes & BROKEN)
        if row.mfu is not None and not broken:
            kept.append(Evidence(row.model, row.mfu, "reported MFU", keys, "dataset: Hardware utilization (MFU)"))
        item, why = _training_run(row, keys, broken)
        if item is not None:
            kept.append(item)
        elif why:
            dropped.append(Dropped(row.model, "training run", why))
    return kept, dropped


def _training_run(row: D.SystemRow, keys: SystemKeys, broken: list[str]) -> tuple[Evidence | None, str]:
    methods = set(row.estimation_methods)
    counted = bool(methods) and methods <= {"operation counting", "reported"}
    if broken:
        return None, ", ".join(broken)
    if counted and row.compute:
        u = _utilisation(row.compute, row)
        if u is None:
            return None, "no peak for the hardware"
        bad = _plausible(u)
        return (None, bad) if bad else (Evidence(row.model, u, "dataset count", keys, "dataset: operation counting"), "")
    if domain_key(row.domain) not in RECOUNT_DOMAINS or not (row.parameters and row.dataset_size):
        why = "compute from or blended with the hardware method, and no 6ND recount for this domain or row"
        return None, why if "hardware" in methods else "compute neither counted nor recountable"
    if (moe := moe_reason(row)) is not None:
        return None, f"mixture of experts ({moe}): the dataset's parameters are the total, 6ND needs the active ones"
    u = _utilisation(6 * row.parameters * row.dataset_size * (row.epochs or 1.0), row)
    if u is None:
        return None, "no peak for the hardware"
    bad = _plausible(u)
    if bad:
        return None, f"6ND recount: {bad}"
    return Evidence(row.model, u, "recount", keys, "6 x N x D x epochs recomputed from the dataset row"), ""


def counted_evidence(items: Iterable[Mapping[str, Any]]) -> list[Evidence]:
    """`counted` evidence from the harness's own count of zoo systems.

    Each item: `system`, `utilisation` (the counted compute / (chips x seconds x dense peak)), and
    where known `hardware` (a peak-table name) or `generation`, `precision`, `domain`, `chips`,
    `parameters`, `year`. Items without a utilisation in (0, 1] are skipped.
    """
    out = []
    for it in items:
        u = it.get("utilisation")
        if u is None or not 0 < float(u) <= 1:
            continue
        gen = it.get("generation")
        if gen is None and it.get("hardware"):
            try:
                gen = generation(resolve(str(it["hardware"])))
            except UnknownHardware:
                gen = None
        keys = SystemKeys(gen, it.get("precision"), it.get("domain"), it.get("chips"), it.get("parameters"),
                          it.get("year"))
        out.append(Evidence(str(it["system"]), float(u), "counted", keys, "harness count of the zoo system"))
    return out


def counted_from_csv(text: str) -> list[Evidence]:
    """`counted` evidence from a zoo-vs-dataset table (CSV with `dataset_model`,
    `implied_utilisation`, `hardware`, `precision`, `domain`, `chips`, `parameters`, `year`)."""
    def num(v: str | None) -> float | None:
        return float(v) if v not in (None, "") else None

    items = [{"system": r["dataset_model"], "utilisation": num(r.get("implied_utilisation")),
              "hardware": r.get("hardware") or None, "precision": r.get("precision") or None,
              "domain": r.get("domain") or None, "chips": num(r.get("chips")),
              "parameters": num(r.get("parameters")),
              "year": int(float(r["year"])) if r.get("year") else None}
             for r in csv.DictReader(io.StringIO(text))]
    return counted_evidence(items)


def benchmark_evidence(text: str | None = None,
                       flop_per_token: Mapping[str, float] | None = None) -> list[Evidence]:
    """`benchmark` evidence from benchmarks.csv (package data) or the CSV `text` given.

    `tokens_per_second_per_chip` rows are turned into utilisation here: training FLOP per token x
    throughput / dense peak of the precision. The FLOP per token is the harness's count where the
    row names a zoo entry found in `flop_per_token` (e.g. {"gpt3-175b": counted train FLOP per
    token}), else 6 x N (the convention of the `recount` kind). `mfu` rows are used as published.
    MLPerf LLM rows are read at the chip's 8-bit peak (fp8, TPU int8): their closed-division
    submissions train in it, and at the bf16 peak several would exceed 0.85 (one 1.01).
    """
    counted = flop_per_token or {}
    if text is None:
        text = resources.files("harness.estimate").joinpath("benchmarks.csv").read_text(encoding="utf-8")
    out = []
    for r in csv.DictReader(io.StringIO(text)):
        acc = resolve(r["hardware"])
        value = float(r["value"])
        if r["metric"] == "mfu":
            u = value
        elif r["metric"] == "tokens_per_second_per_chip":
            per_token = counted.get(r.get("zoo") or "", 6 * float(r["parameters"]))
            u = per_token * value / acc.peak(r["precision"])
        else:
            raise ValueError(f"benchmarks.csv: unknown metric {r['metric']!r} for {r['system']}")
        keys = SystemKeys(generation(acc), r["precision"], "language", float(r["chips"]), float(r["parameters"]),
                          int(r["year"]))
        how = "; FLOP per token counted by the harness" if r.get("zoo") in counted else ""
        out.append(Evidence(r["system"], u, "benchmark", keys, r["source"] + how))
    return out


def benchmark_zoo_names(text: str | None = None) -> set[str]:
    """The zoo entries benchmarks.csv refers to."""
    if text is None:
        text = resources.files("harness.estimate").joinpath("benchmarks.csv").read_text(encoding="utf-8")
    return {r.get("zoo") or "" for r in csv.DictReader(io.StringIO(text))} - {""}


def single_device_evidence(store_rows: Iterable[Mapping[str, Any]]) -> list[Evidence]:
    """The harness's own ok training runs (one device, synthetic data): `single-device` evidence."""
    out = []
    for r in store_rows:
        if r.get("status") != "ok" or r.get("phase") != "train" or not r.get("utilisation"):
            continue
        try:
            gen = generation(resolve(r["device_name"]))
        except UnknownHardware:
            continue
        keys = SystemKeys(gen, r.get("precision"), None, 1.0, None, None)
        out.append(Evidence(f"{r.get('model')} on {r['device_name']}", float(r["utilisation"]), "single-device",
                            keys, "harness run, single device"))
    return out


@dataclass(frozen=True)
class MfuRelation:
    """log10(wall-clock utilisation / MFU) on the systems that report both."""

    n: int
    offset_log10: float  # median
    spread_log10: float  # median absolute deviation
    systems: tuple[str, ...]

    @property
    def ratio(self) -> float:
        return 10 ** self.offset_log10


def mfu_relation(items: Iterable[Evidence]) -> MfuRelation | None:
    """The wall-clock / MFU ratio fitted on systems with both; None with fewer than 3 such systems."""
    runs = {e.system: e.utilisation for e in items if e.evidence_class == "training run"}
    pairs = [(e.system, math.log10(runs[e.system] / e.utilisation)) for e in items
             if e.kind == "reported MFU" and e.system in runs]
    if len(pairs) < 3:
        return None
    logs = [p for _, p in pairs]
    mid = statistics.median(logs)
    return MfuRelation(len(pairs), mid, statistics.median(abs(v - mid) for v in logs), tuple(s for s, _ in pairs))


def counts(items: Iterable[Evidence]) -> dict[str, int]:
    """Systems per kind, and the distinct systems over all kinds."""
    items = list(items)
    out = {k: sum(e.kind == k for e in items) for k in KINDS}
    out["distinct systems"] = len({e.system for e in items})
    return out
