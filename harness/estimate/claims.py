"""Cross-checking a paper's training-compute claim against both estimation methods.

A `Claim` holds what a paper (or model card) says: parameters, tokens or examples and epochs,
hardware (a peak-table name), chip count, training time, precision, the utilisation (MFU) it
reports, the peak it used, and the FLOP it claims. Any subset may be given.

`check(claim)` computes

* method 1 (operation counting): 6 N D from tokens (Kaplan et al. 2020), 2 x 3 x connections x
  examples x epochs with parameters as connections (Epoch AI 2022), or a counted FLOP per example
  x examples x epochs; the estimate says which;
* method 2 (hardware): chips x seconds x dense peak x utilisation, with the claim's own
  utilisation if it gives one, else the calibrated default for the chip's generation, precision
  and domain (`defaults.lookup`, which falls back to Epoch's 0.3 / 0.4 rule), with its interval;
* the implied utilisation: claimed FLOP / (chips x seconds x dense peak of the precision used);
  without a claimed figure, that of method 1 (`implied_from` says which);

and a verdict. Consistent means every available comparison passes: the claimed figure within 2x
of method 1 and inside method 2's range (widened by `RANGE_SLACK` for rounding), or, with no
claimed figure, method 1 inside method 2's range; and nothing is impossible on its face: the
implied utilisation at most 1 and at least `LOW_UTILISATION`, a claimed utilisation at most 1, a
training time shorter than `MAX_WALL_CLOCK_HOURS`. With fewer than two figures to compare and
nothing impossible the verdict is "unverifiable". `factor` = claimed / geometric mean of the estimates (or method 1 /
method 2).

Likely reasons come from small pure detectors (`DETECTORS`, each `_Context -> Reason | None`):
the peak the claim used is a board, per-core or 2:4-sparse figure, or another chip's; the
precision's peak differs from the one assumed; hours that are chip-hours; an impossible or
implausible utilisation; a per-epoch token count; parameters that include inactive experts or
embeddings; weight sharing (convolutions); downtime behind a wall-clock time. A reason is a
hypothesis with its numbers, never a correction.

Peak used when the claim names no precision: Epoch's order, Tensor-FP16/BF16, then TF32, then
FP32 (FP16 on TPUs), as `harness.estimate.dataset` does.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.estimate import defaults as _defaults
from harness.estimate.calibrate import domain_key, scale_key
from harness.estimate.dataset import generation
from harness.estimate.methods import (
    Estimate,
    Utilisation,
    method1_counted,
    method1_examples,
    method1_tokens,
    method2_hardware,
)
from harness.hardware.table import Accelerator, canonical_precision, load_table, resolve

if TYPE_CHECKING:  # pragma: no cover
    from rich.table import Table

    from models import Entry

__all__ = [
    "CATALOGUE_PATH",
    "DETECTORS",
    "Claim",
    "CheckResult",
    "Reason",
    "check",
    "check_all",
    "check_catalogue",
    "claim_for_model",
    "load_claims",
    "results_json",
    "results_rows",
    "results_table",
]

CATALOGUE_PATH = Path(__file__).with_name("claims.csv")

WITHIN_METHOD1 = 2.0  # the claimed figure agrees with method 1 within this factor either way
RANGE_SLACK = 1.1  # method 2's range widened by 10% each side (published figures are rounded)
LOW_UTILISATION = 0.05  # below this an implied utilisation is implausibly low (brief; dataset.PLAUSIBLE)
HIGH_UTILISATION = 0.75  # above this, implausibly high: the best reported MFUs are ~0.6 (ANCHORS.md)
PLAUSIBLE = (LOW_UTILISATION, HIGH_UTILISATION)
USUAL = (0.3, 0.5)  # the utilisation most large runs report (ANCHORS.md: Epoch IQR 0.30-0.50)
PEAK_MATCH = 0.05  # a quoted peak "is" a table figure within 5% (Patterson's TPU v2 46 vs 45)
FACTOR_MATCH = 0.15  # a ratio "is" an integer factor (epochs, chips) within 15%
# a claimed MFU is a rate while computing; wall-clock hours include downtime and restarts, so the
# utilisation over the whole run may be well below it (PaLM: MFU 0.462, over the run 0.30)
CLAIMED_LOW, CLAIMED_HIGH = 0.5, 1.25
MAX_WALL_CLOCK_HOURS = 3 * 8766.0  # three years: longer is not a training run's wall-clock time
# TensorCores per chip, for chips whose papers often count cores: Jouppi et al. 2020 (CACM) Table 3
_CORES_PER_CHIP = {"TPU v2": 2, "TPU v3": 2}
_FLOAT_PRECISIONS = ("fp8", "bf16", "fp16", "tf32", "fp32")  # training precisions (fp64 is not one)

_NUMBER_FIELDS = ("params", "active_params", "tokens", "examples", "epochs", "flop_per_example", "count",
                  "seconds", "chip_hours", "utilisation", "peak", "claimed")
_TIME_UNITS = {"seconds": 1.0, "hours": 3600.0, "days": 86400.0}
_TEXT_FIELDS = ("name", "hardware", "precision", "domain", "sources", "notes")


# ---------------------------------------------------------------------------------------- the claim


@dataclass(frozen=True)
class Claim:
    """What a paper says about one training run; None where it says nothing.

    `tokens` are all tokens seen (every epoch); `examples` are per epoch. `active_params` is the
    per-token parameter count of a sparse (mixture-of-experts) model. `chip_hours` replaces
    count x time where a source gives only GPU-hours (then `count`, if given, is informational).
    `peak` is the per-chip FLOP/s the claim itself used; `utilisation` the MFU it reports.
    """

    name: str = "claim"
    params: float | None = None
    tokens: float | None = None
    examples: float | None = None
    epochs: float | None = None
    hardware: str | None = None
    count: float | None = None
    seconds: float | None = None
    precision: str | None = None
    utilisation: float | None = None
    peak: float | None = None
    claimed: float | None = None
    domain: str | None = None
    sources: str = ""
    notes: str = ""
    active_params: float | None = None
    chip_hours: float | None = None
    flop_per_example: float | None = None

    def __post_init__(self) -> None:
        for name in _NUMBER_FIELDS:
            v = getattr(self, name)
            if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"{self.name}: {name} must be a positive number, not {v!r}")
        if self.precision is not None:
            object.__setattr__(self, "precision", canonical_precision(self.precision))
        if self.seconds is not None and self.chip_hours is not None:
            raise ValueError(f"{self.name}: give a training time or chip-hours, not both")
        if self.active_params is not None and self.params is not None and self.active_params > self.params:
            raise ValueError(f"{self.name}: active_params {self.active_params:g} exceeds params {self.params:g}")

    @property
    def hours(self) -> float | None:
        return None if self.seconds is None else self.seconds / 3600

    @classmethod
    def from_fields(cls, name: str | None = "claim", *, hours: float | None = None, days: float | None = None,
                    seconds: float | None = None, strict_hardware: bool = True, **values: Any) -> Claim:
        """From CLI-style fields: exactly one of hours / days / seconds; the hardware must resolve.

        Other keywords: the `Claim` fields (params, tokens, examples, epochs, hardware, count,
        precision, utilisation, peak, claimed, domain, sources, notes, active_params, chip_hours,
        flop_per_example); None means not given.
        """
        name = name or "claim"
        unknown = sorted(set(values) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"{name}: unknown field(s) {', '.join(unknown)}")
        given = {u: v for u, v in (("hours", hours), ("days", days), ("seconds", seconds)) if v is not None}
        if len(given) > 1:
            both = " and ".join(f"{u}={v:g}" for u, v in given.items())
            raise ValueError(f"{name}: give one training time (hours, days or seconds), not {both}")
        secs = None
        for unit, v in given.items():
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name}: {unit} must be a positive number, not {v!r}")
            secs = float(v) * _TIME_UNITS[unit]
        hw = values.pop("hardware", None)
        if hw is not None and strict_hardware:
            resolve(hw)  # raises UnknownHardware (a ValueError) naming close candidates
        return cls(name=name, hardware=hw, seconds=secs, **values)

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any], where: str = "") -> Claim:
        """From one CSV / YAML record with the field names (hours / days / seconds for the time)."""
        name = str(row.get("name") or "claim").strip()
        label = f"{where} ({name})" if where else name
        known = set(_NUMBER_FIELDS) | set(_TEXT_FIELDS) | set(_TIME_UNITS)
        unknown = sorted(k for k in row if k not in known and k is not None)
        if unknown:
            raise ValueError(f"{label}: unknown column(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        nums: dict[str, float | None] = {}
        for key in (*_NUMBER_FIELDS, *_TIME_UNITS):
            nums[key] = _number(row.get(key), key, label)
        texts = {k: _text(row.get(k)) for k in _TEXT_FIELDS if k != "name"}
        try:
            return cls.from_fields(
                name, hours=nums.pop("hours"), days=nums.pop("days"), seconds=nums.pop("seconds"),
                sources=texts.pop("sources") or "", notes=texts.pop("notes") or "", **texts, **nums,
            )
        except ValueError as e:
            if not where:
                raise
            raise ValueError(f"{where}: {e}") from None

    @classmethod
    def from_entry(cls, entry: Entry, flop_per_example: float | None = None) -> Claim:
        """From a zoo entry's published facts (`Facts.training`): what its paper reports.

        A hardware name the peak table does not know is dropped (said in `notes`), not an error.
        """
        facts = entry.facts
        if facts is None:
            raise ValueError(f"zoo entry {entry.name!r} has no published facts to check")
        t = facts.training
        notes = [t.notes] if t.notes else []
        hw = t.hardware
        if hw is not None:
            try:
                resolve(hw)
            except ValueError as e:
                notes.append(f"hardware left out: {e}")
                hw = None
        sources = "; ".join(s for s in (f"parameters: {facts.parameters_source}", t.source) if s)
        return cls(
            name=entry.name, params=facts.published_parameters, tokens=t.tokens, examples=t.examples,
            epochs=t.epochs, hardware=hw, count=t.chip_count, seconds=None if t.hours is None else t.hours * 3600,
            precision=t.precision, utilisation=t.mfu, claimed=t.compute_flop, domain=entry.domain,
            sources=sources, notes=" ".join(notes), flop_per_example=flop_per_example,
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hours"] = self.hours
        return d


def claim_for_model(name: str, flop_per_example: float | None = None) -> Claim:
    """The claim of the zoo entry of that exact name (imports the model zoo, hence torch)."""
    from models import get  # the zoo sits below estimate; imported late: it loads torch

    return Claim.from_entry(get(name), flop_per_example)


def _text(cell: Any) -> str | None:
    if cell is None:
        return None
    s = str(cell).strip()
    return s or None


def _number(cell: Any, key: str, label: str) -> float | None:
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return None
    if isinstance(cell, bool):
        raise ValueError(f"{label}: {key} {cell!r} is not a number")
    if isinstance(cell, (int, float)):
        return float(cell)
    text = str(cell).strip().replace(",", "").replace("_", "")
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{label}: {key} {str(cell)!r} is not a number") from None


def load_claims(path: str | Path) -> list[Claim]:
    """Claims from a CSV (header of field names) or a YAML file (a list of records, one record,
    or {"claims": [...]}); YAML needs PyYAML."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"claims file {p} does not exist")
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml  # type: ignore[import-untyped]
        except ImportError:
            raise ValueError(f"reading {p.name} needs PyYAML: pip install pyyaml (or give a CSV)") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ValueError(f"{p}: not valid YAML ({str(e).splitlines()[0]})") from None
        if isinstance(data, Mapping) and "claims" in data:
            data = data["claims"]
        records = [data] if isinstance(data, Mapping) else data
        if not isinstance(records, list) or not all(isinstance(r, Mapping) for r in records):
            raise ValueError(f"{p}: expected a list of claims (mappings of field names to values)")
        return [Claim.from_mapping(r, f"{p.name} claim {i}") for i, r in enumerate(records, 1)]
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "name" not in reader.fieldnames:
        raise ValueError(f"{p}: not a claims CSV (needs a header with at least a 'name' column)")
    return [Claim.from_mapping({k: v for k, v in r.items() if k is not None}, f"{p.name} line {line}")
            for line, r in enumerate(reader, 2)]


# ---------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Reason:
    """One likely explanation of a discrepancy, with its numbers."""

    code: str
    text: str


@dataclass(frozen=True)
class CheckResult:
    claim: Claim
    estimates: tuple[Estimate, ...]
    implied_utilisation: float | None
    implied_from: str | None  # "claimed" | "method 1" | None
    peak_flop_per_s: float | None
    peak_rule: str
    precision: str | None
    verdict: str  # "consistent" | "inconsistent" | "unverifiable"
    factor: float | None
    checks: dict[str, bool | None]
    reasons: tuple[Reason, ...]
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.claim.name,
            "verdict": self.verdict,
            "factor": self.factor,
            "summary": self.summary,
            "estimates": [e.to_dict() for e in self.estimates],
            "implied_utilisation": self.implied_utilisation,
            "implied_from": self.implied_from,
            "peak_flop_per_s": self.peak_flop_per_s,
            "peak_rule": self.peak_rule,
            "precision": self.precision,
            "checks": dict(self.checks),
            "reasons": [r.text for r in self.reasons],
            "reason_codes": [r.code for r in self.reasons],
            "claim": self.claim.to_dict(),
        }


# ---------------------------------------------------------------------------------------- peaks


def _matrix_fp16(acc: Accelerator) -> bool:
    """fp16 is a matrix-unit figure (tensor core, MXU): more than 2x fp32 (packed half2 is exactly 2x)."""
    return acc.fp16 is not None and (acc.kind != "gpu" or acc.fp32 is None or acc.fp16 > 2.05 * acc.fp32)


def _epoch_order(acc: Accelerator) -> str | None:
    """Epoch's order: Tensor-FP16/BF16, then TF32, then FP16 (TPUs only), then FP32; else int8."""
    if acc.bf16 is not None:
        return "bf16"
    if _matrix_fp16(acc):
        return "fp16"
    if acc.tf32 is not None:
        return "tf32"
    if acc.kind == "tpu" and acc.fp16 is not None:
        return "fp16"
    if acc.fp32 is not None:
        return "fp32"
    return acc.precisions[0] if acc.precisions else None


def _peak(acc: Accelerator, precision: str | None) -> tuple[float | None, str | None, str]:
    """(dense per-chip FLOP/s, precision used, the rule that picked it)."""
    if precision is not None and acc.has(precision):
        return acc.peak(precision), precision, f"{precision} of {acc.name} (the claim's precision)"
    key = _epoch_order(acc)
    if key is None:
        return None, None, f"{acc.name} has no peak in the table"
    why = "Epoch's order" if precision is None else f"{precision} not in the table for {acc.name}; Epoch's order"
    return acc.peak(key), key, f"{key} of {acc.name} ({why})"


@functools.lru_cache(maxsize=1)
def _all_chips() -> tuple[Accelerator, ...]:
    return tuple(load_table().values())


def _near(value: float, target: float, tol: float = PEAK_MATCH) -> bool:
    return target > 0 and abs(value / target - 1) <= tol


def _t(flop_per_s: float) -> str:
    return f"{flop_per_s / 1e12:.4g} TFLOP/s"


def _g(x: float) -> str:
    return f"{x:.3g}"


# ---------------------------------------------------------------------------------------- detectors


@dataclass(frozen=True)
class _Context:
    """Everything a detector may look at: the claim and what `check` derived from it."""

    claim: Claim
    acc: Accelerator | None
    precision: str | None
    precision_assumed: bool
    peak: float | None  # dense, per chip, of `precision`
    chip_seconds: float | None
    method1: Estimate | None
    method2: Estimate | None
    utilisation: Utilisation | None
    evidence: float | None  # the FLOP the implied utilisation is of: claimed, else method 1
    evidence_label: str
    implied: float | None
    implied_from: str | None  # "claimed" | "method 1"
    agrees: bool | None  # every comparison passed (None: nothing to compare)

    @property
    def other(self) -> tuple[float, str] | None:
        """The figure method 1 is compared with: the claimed FLOP, else method 2's central."""
        if self.claim.claimed is not None:
            return self.claim.claimed, "the claimed figure"
        if self.method2 is not None:
            return self.method2.flop, "the hardware estimate"
        return None


def detect_claimed_utilisation_impossible(ctx: _Context) -> Reason | None:
    u = ctx.claim.utilisation
    if u is None or u <= 1:
        return None
    return Reason("claimed_utilisation_above_1",
                  f"the claimed utilisation {_g(u)} is above 1, which is impossible: the peak it was "
                  "divided by is too low (another chip's, another precision's) or the FLOP are overcounted")


def detect_impossible(ctx: _Context) -> Reason | None:
    if ctx.implied is None or ctx.implied <= 1 or ctx.peak is None:
        return None
    return Reason("utilisation_above_1",
                  f"implied utilisation {_g(ctx.implied)} > 1 is impossible: {ctx.evidence_label} exceeds what "
                  f"the chips can do in the time at the {ctx.precision} dense peak ({_t(ctx.peak)} per chip)")


def detect_implausibly_high(ctx: _Context) -> Reason | None:
    u = ctx.implied
    if u is None or not HIGH_UTILISATION < u <= 1.1 or ctx.chip_seconds is None or ctx.evidence is None:
        return None
    used = ctx.claim.peak
    at_used = ctx.evidence / (ctx.chip_seconds * used) if used else None
    if at_used is not None and _near(at_used, 1.0):
        return Reason("utilisation_one_assumed",
                      f"the figure equals chips x time x the claim's own peak ({_t(used)}) to "
                      f"{abs(at_used - 1):.1%}: it assumes utilisation 1, an upper bound, not the compute done")
    if _near(u, 1.0):
        return Reason("utilisation_one_assumed",
                      f"the figure is chips x time x the dense peak to {abs(u - 1):.1%}: it assumes "
                      "utilisation 1 (an upper bound), or chips or time are understated")
    if u > 1:
        return None  # detect_impossible speaks
    return Reason("utilisation_implausibly_high",
                  f"implied utilisation {_g(u)} is implausibly high (reported MFUs stay below ~0.6): "
                  "the time or chip count may be understated, or the figure assumes full utilisation")


def detect_implausibly_low(ctx: _Context) -> Reason | None:
    u = ctx.implied
    if u is None or u >= LOW_UTILISATION:
        return None
    return Reason("utilisation_implausibly_low",
                  f"implied utilisation {_g(u)} is implausibly low (< {LOW_UTILISATION}): {ctx.evidence_label} "
                  "is too small for the stated chips and time (per-epoch or partial figure, chip-hours read "
                  "as hours, more chips or time than the run used)")


def _peak_figures(acc: Accelerator, precision: str) -> list[tuple[float, str, str]]:
    """(FLOP/s, code, words) for the figures a claim may have used instead of the dense per-chip one."""
    dense = acc.peak(precision)
    out: list[tuple[float, str, str]] = []
    if acc.sparse_quoted:
        out.append((2 * dense, "sparse_peak", f"{acc.name}'s 2:4-sparse {precision} headline (2x the dense {_t(dense)})"))
    for p in _FLOAT_PRECISIONS:
        if p != precision and acc.has(p):
            out.append((acc.peak(p), "precision_peak", f"{acc.name}'s dense {p} peak"))
    if acc.chips_per_board > 1:
        cpb = acc.chips_per_board
        out.append((cpb * dense, "board_peak", f"a {acc.name} board figure ({cpb} chips x {_t(dense)})"))
        if acc.board_bf16 is not None:
            out.append((acc.board_bf16, "board_peak", f"the quoted {acc.name} board figure ({_t(acc.board_bf16)} "
                                                      f"for {cpb} chips), not the {_t(dense)} per chip"))
            out.append((acc.board_bf16 / cpb, "board_peak",
                        f"the quoted {acc.name} board figure divided by its {cpb} chips "
                        f"({_t(acc.board_bf16)} / {cpb}), below the {_t(dense)} per-chip figure"))
    cores = _CORES_PER_CHIP.get(acc.name)
    if cores:
        out.append((dense / cores, "core_peak", f"a per-core figure ({acc.name} has {cores} TensorCores per chip: "
                                                f"{_t(dense)} / {cores})"))
    return out


def detect_peak_used(ctx: _Context) -> Reason | None:
    """The peak the claim states, against the chip's dense, sparse, board, core and other-precision figures."""
    given, acc, p = ctx.claim.peak, ctx.acc, ctx.precision
    if given is None or acc is None or p is None or ctx.peak is None or _near(given, ctx.peak):
        return None
    matches = [(code, words) for value, code, words in _peak_figures(acc, p) if _near(given, value)]
    factor = given / ctx.peak
    tail = (f"; against the dense {p} peak the claimed utilisation {_g(ctx.claim.utilisation)} would be "
            f"{_g(ctx.claim.utilisation * factor)}" if ctx.claim.utilisation else "")
    if matches:
        code, words = matches[0]
        if code == "precision_peak":
            words += f", not its {p} one ({_t(ctx.peak)})"
        also = f" (it is also {matches[1][1]})" if len(matches) > 1 else ""
        return Reason(code, f"the claim's peak {_t(given)} is {words}{also}{tail}")
    others = sorted((a for a in _all_chips() if a is not acc and a.has(p) and _near(given, a.peak(p), 0.01)),
                    key=lambda a: (-len(a.default_for), a.name))
    if others:
        names = others[0].name + (f" and {len(others) - 1} other(s)" if len(others) > 1 else "")
        return Reason("other_chip_peak",
                      f"the claim's peak {_t(given)} is another chip's: the {p} peak of {names}, not of "
                      f"{acc.name} ({_t(ctx.peak)}){tail}")
    return Reason("peak_unrecognised",
                  f"the claim's peak {_t(given)} matches no figure of {acc.name} (dense {p} {_t(ctx.peak)}; "
                  f"ratio {_g(factor)}){tail}")


def detect_peak_implied(ctx: _Context) -> Reason | None:
    """No peak stated: does claimed / (chips x time x u), u in the usual 0.3-0.5, hit a board,
    core or sparse figure while the dense per-chip one gives an implausible utilisation?"""
    if ctx.claim.peak is not None or ctx.claim.claimed is None or ctx.implied is None or ctx.acc is None:
        return None
    u = ctx.implied
    if PLAUSIBLE[0] <= u <= PLAUSIBLE[1] or ctx.precision is None:
        return None
    found = []
    for value, code, words in _peak_figures(ctx.acc, ctx.precision):
        if code == "precision_peak":
            continue  # detect_precision speaks
        f = value / ctx.peak  # type: ignore[operator]
        if USUAL[0] / (1 + PEAK_MATCH) <= u / f <= USUAL[1] * (1 + PEAK_MATCH):
            found.append((code, words, f))
    if not found:
        return None
    code, words, f = found[0]
    count_hint = {"board_peak": f", or the count ({_g(ctx.claim.count or 0)}) is of boards, not chips",
                  "core_peak": f", or the count ({_g(ctx.claim.count or 0)}) is of cores, not chips"}.get(code, "")
    return Reason(code, f"implied utilisation {_g(u)} is {_g(f)}x a usual one: the claim may have used "
                        f"{words}{count_hint} (utilisation {_g(u / f)} with it)")


def detect_precision(ctx: _Context) -> Reason | None:
    """Another precision's peak makes an implausible implied utilisation plausible (e.g. FP32 vs BF16)."""
    acc, u, p = ctx.acc, ctx.implied, ctx.precision
    if acc is None or u is None or p is None or ctx.peak is None or ctx.claim.peak is not None:
        return None
    fp8_low = p == "fp8" and u < USUAL[0] and not ctx.agrees
    if (PLAUSIBLE[0] <= u <= PLAUSIBLE[1] and not fp8_low) or _near(u, 1.0, 0.1):
        return None  # near 1: detect_implausibly_high's "utilisation 1 assumed" is the better reading
    best = None
    for q in _FLOAT_PRECISIONS:
        if q == p or not acc.has(q):
            continue
        uq = u * ctx.peak / acc.peak(q)
        window = USUAL if fp8_low else (0.15, 0.65)
        if window[0] <= uq <= window[1]:
            score = abs(math.log(uq / 0.4))
            if best is None or score < best[0]:
                best = (score, q, uq)
    if best is None:
        return None
    _, q, uq = best
    ratio = ctx.peak / acc.peak(q)
    assumed = f" (no precision given; {p} assumed by Epoch's order)" if ctx.precision_assumed else ""
    if fp8_low:
        return Reason("fp8_partial",
                      f"implied utilisation {_g(u)} against the fp8 peak is low, {_g(uq)} against the {q} one: "
                      "mixed-precision FP8 runs keep part of the work (attention, some matmuls) in bf16")
    return Reason("precision_peak",
                  f"implied utilisation {_g(u)} against the {p} peak ({_t(ctx.peak)}){assumed} is implausible, "
                  f"but {_g(uq)} against the {q} peak ({_t(acc.peak(q))}, {_g(ratio)}x lower): "
                  f"the run, or the claim's arithmetic, may be in {q}")


def detect_chip_hours(ctx: _Context) -> Reason | None:
    """Hours that are chip-hours (GPU-hours) given as wall-clock training time."""
    c = ctx.claim
    if c.seconds is None or c.count is None or c.count <= 1:
        return None
    h = c.seconds / 3600
    if h > MAX_WALL_CLOCK_HOURS:
        return Reason("hours_look_like_chip_hours",
                      f"{_g(h)} h ({_g(h / 8766)} years) is not a wall-clock training time; as chip-hours on "
                      f"{_g(c.count)} chips it is {_g(h / c.count)} h ({_g(h / c.count / 24)} days)")
    u = ctx.implied
    if u is not None and u < LOW_UTILISATION and 2 * LOW_UTILISATION <= u * c.count <= PLAUSIBLE[1]:
        return Reason("hours_look_like_chip_hours",
                      f"the hours look like chip-hours: implied utilisation {_g(u)} from {_g(h)} h, but "
                      f"{_g(u * c.count)} if {_g(h)} are chip-hours ({_g(h / c.count)} h on {_g(c.count)} chips)")
    return None


def detect_epochs(ctx: _Context) -> Reason | None:
    """Method 1 off by the number of epochs: tokens per epoch given as the total, or the reverse."""
    c, m1, other = ctx.claim, ctx.method1, ctx.other
    if m1 is None or other is None or c.epochs is None or c.epochs < 1.5 or c.tokens is None:
        return None
    ratio = other[0] / m1.flop
    if _near(ratio, c.epochs, FACTOR_MATCH):
        return Reason("tokens_per_epoch",
                      f"{other[1]} is {_g(ratio)}x method 1, the number of epochs ({_g(c.epochs)}): "
                      "the token count looks like one epoch's, not the total")
    if _near(ratio, 1 / c.epochs, FACTOR_MATCH):
        return Reason("claim_counts_one_epoch",
                      f"{other[1]} is 1/{_g(1 / ratio)} of method 1, one epoch of {_g(c.epochs)}: "
                      "it may count a single epoch while the tokens are the total")
    return None


def detect_parameters(ctx: _Context) -> Reason | None:
    """Method 1 far above the other evidence: experts or embeddings in N, or an encoder-decoder."""
    c, m1, other = ctx.claim, ctx.method1, ctx.other
    if c.active_params is not None and c.params is not None and c.active_params < c.params and m1 is not None:
        return Reason("mixture_of_experts",
                      f"sparse model: method 1 uses the {_g(c.active_params)} active parameters per token; the "
                      f"{_g(c.params)} total would give {_g(c.params / c.active_params)}x more")
    if m1 is None or other is None or c.tokens is None or c.params is None or ctx.agrees is not False:
        return None
    ratio = other[0] / m1.flop
    if ratio >= 1 / WITHIN_METHOD1:
        return None
    n_eff = c.params * ratio
    if 0.35 <= ratio <= 0.7:
        why = ("an encoder-decoder sends each token through the encoder or the decoder only (about half "
               "the parameters), or N includes embeddings (6ND counts non-embedding parameters)")
    else:
        why = ("the parameters may include experts not active per token (mixture of experts: give "
               "active_params) or embeddings (6ND counts non-embedding parameters)")
    return Reason("parameters_not_all_active",
                  f"method 1 is {_g(1 / ratio)}x {other[1]}: {why}; an effective N of {_g(n_eff)} "
                  f"({ratio:.1%} of {_g(c.params)}) would match")


def detect_weight_sharing(ctx: _Context) -> Reason | None:
    """Connections counted as parameters for a model that reuses each weight (convolutions, RNN steps)."""
    m1, other = ctx.method1, ctx.other
    if m1 is None or other is None or not m1.formula.startswith("2 x connections") or ctx.agrees is not False:
        return None
    ratio = other[0] / m1.flop
    if ratio <= WITHIN_METHOD1:
        return None
    return Reason("weight_sharing",
                  f"{other[1]} is {_g(ratio)}x method 1 from parameters: each weight is used at many positions "
                  "per example (convolution positions, sequence tokens, recurrent steps), so connections >> "
                  "parameters; give tokens or a counted FLOP per example instead")


def detect_method1_low(ctx: _Context) -> Reason | None:
    """Method 1 far below the other evidence with no better explanation."""
    c, m1, other = ctx.claim, ctx.method1, ctx.other
    if m1 is None or other is None or ctx.agrees is not False or m1.formula.startswith("2 x connections"):
        return None
    ratio = other[0] / m1.flop
    if ratio <= WITHIN_METHOD1 or (c.epochs and _near(ratio, c.epochs, FACTOR_MATCH)):
        return None
    return Reason("method1_low",
                  f"{other[1]} is {_g(ratio)}x method 1: the tokens or examples may be undercounted (one "
                  "epoch or stage of several), or the compute includes work beyond the final run")


def detect_downtime(ctx: _Context) -> Reason | None:
    """A wall-clock utilisation below the reported MFU: downtime, restarts, repeated steps."""
    u, mfu = ctx.implied, ctx.claim.utilisation
    if u is None or mfu is None or ctx.peak is None:
        return None
    if ctx.claim.peak is not None:
        mfu *= ctx.claim.peak / ctx.peak  # the MFU against the dense peak, as u is
    if mfu > 1 or not 0.3 * mfu <= u < 0.8 * mfu:
        return None
    return Reason("downtime",
                  f"implied utilisation {_g(u)} over the whole run is below the reported MFU {_g(mfu)}: "
                  "the time includes downtime, restarts and repeated steps (expected, not an error)")


def detect_default_mismatch(ctx: _Context) -> Reason | None:
    """A plausible implied utilisation outside the default's interval: the default does not fit the run."""
    u, ut = ctx.implied, ctx.utilisation
    if u is None or ut is None or ctx.claim.utilisation is not None or ctx.agrees is not False:
        return None
    if not PLAUSIBLE[0] <= u <= PLAUSIBLE[1] or ut.low / RANGE_SLACK <= u <= ut.high * RANGE_SLACK:
        return None
    side = "below" if u < ut.low else "above"
    return Reason("default_utilisation_off",
                  f"implied utilisation {_g(u)} is plausible but {side} the default's interval "
                  f"[{_g(ut.low)}, {_g(ut.high)}] ({ut.source}): this run's utilisation differs from the default's")


def detect_hardware_estimate(ctx: _Context) -> Reason | None:
    """A claimed figure that is itself a hardware-method estimate with Epoch's 0.3 or 0.4."""
    u = ctx.implied
    if u is None or ctx.implied_from != "claimed" or ctx.method1 is not None:
        return None
    for d in (0.3, 0.4):
        if _near(u, d, 0.01):
            return Reason("claimed_is_hardware_estimate",
                          f"implied utilisation is {_g(u)}, exactly the rule-of-thumb {d}: the claimed figure may "
                          "itself be a hardware-method estimate, not an independent count")
    return None


DETECTORS = (
    detect_claimed_utilisation_impossible,
    detect_impossible,
    detect_implausibly_high,
    detect_implausibly_low,
    detect_peak_used,
    detect_peak_implied,
    detect_precision,
    detect_chip_hours,
    detect_epochs,
    detect_parameters,
    detect_weight_sharing,
    detect_method1_low,
    detect_downtime,
    detect_default_mismatch,
    detect_hardware_estimate,
)


# ---------------------------------------------------------------------------------------- check


def _method1(c: Claim) -> Estimate | None:
    if c.flop_per_example is not None and c.examples is not None:
        return method1_counted(c.flop_per_example, c.examples, c.epochs or 1.0, "given with the claim")
    n = c.active_params or c.params
    if c.tokens is not None and n is not None:
        est = method1_tokens(n, c.tokens)
        extra = ["D = all tokens seen (every epoch)"]
        if c.active_params is not None and c.params is not None:
            extra.append(f"N = {c.active_params:.3g} active parameters of {c.params:.3g} total (sparse model)")
        return replace(est, assumptions=(*est.assumptions, *extra))
    if c.examples is not None and c.params is not None:
        est = method1_examples(c.params, c.examples, c.epochs or 1.0)
        extra = ["connections = parameters (no weight sharing)"]
        if c.epochs is None:
            extra.append("one epoch (none given)")
        return replace(est, assumptions=(*est.assumptions, *extra))
    return None


def _utilisation(c: Claim, acc: Accelerator, precision: str | None,
                 table: Sequence[_defaults.DefaultRow] | None) -> Utilisation:
    u = c.utilisation
    if u is not None and u <= 1:
        return Utilisation(u, u * CLAIMED_LOW, min(1.0, u * CLAIMED_HIGH),
                           f"claimed {u:.3g}; range x{CLAIMED_LOW}-x{CLAIMED_HIGH}: wall-clock includes downtime")
    keys = _defaults.system_keys(generation(acc), precision, domain_key(c.domain), scale_key(c.count))
    return _defaults.lookup(keys, None if table is None else list(table), domain=c.domain)


def _table(defaults: Sequence[_defaults.DefaultRow] | str | Path | None) -> Sequence[_defaults.DefaultRow] | None:
    if isinstance(defaults, (str, Path)):
        return _defaults.load_defaults(defaults)
    return defaults


def check(claim: Claim, defaults: Sequence[_defaults.DefaultRow] | str | Path | None = None) -> CheckResult:
    """Both estimates, the implied utilisation, a verdict and its likely reasons (module docstring).

    `defaults`: a table of calibrated utilisations (rows, or a path to one); None reads the committed
    table, which falls back to Epoch's fixed 0.3 / 0.4 rule where none exists. Pass [] for the rule.
    """
    c = claim
    table = _table(defaults)
    acc = resolve(c.hardware) if c.hardware else None
    peak = precision = None
    peak_rule = "no hardware given"
    if acc is not None:
        peak, precision, peak_rule = _peak(acc, c.precision)
    chip_seconds = (c.chip_hours * 3600 if c.chip_hours is not None
                    else c.count * c.seconds if c.count is not None and c.seconds is not None else None)

    m1 = _method1(c)
    m2 = ut = None
    if acc is not None and peak is not None and chip_seconds is not None:
        ut = _utilisation(c, acc, precision, table)
        chips = c.count if c.chip_hours is None and c.count else 1.0
        m2 = method2_hardware(chips, chip_seconds / chips, peak, ut, peak_rule)
        if c.chip_hours is not None:
            m2 = replace(m2, inputs={**m2.inputs, "chip_hours": c.chip_hours},
                         assumptions=(*m2.assumptions, f"{c.chip_hours:.6g} chip-hours as given (chips x seconds)"))

    evidence, label = (c.claimed, "the claimed figure") if c.claimed is not None else (
        (m1.flop, "method 1") if m1 is not None else (None, ""))
    implied = (evidence / (chip_seconds * peak) if evidence is not None and chip_seconds and peak else None)
    implied_from = None if implied is None else ("claimed" if c.claimed is not None else "method 1")

    checks: dict[str, bool | None] = {"claimed_within_2x_of_method1": None, "claimed_inside_method2_range": None,
                                      "method1_inside_method2_range": None}
    if c.claimed is not None and m1 is not None:
        checks["claimed_within_2x_of_method1"] = 1 / WITHIN_METHOD1 <= c.claimed / m1.flop <= WITHIN_METHOD1
    if c.claimed is not None and m2 is not None:
        checks["claimed_inside_method2_range"] = m2.low / RANGE_SLACK <= c.claimed <= m2.high * RANGE_SLACK
    if c.claimed is None and m1 is not None and m2 is not None:
        checks["method1_inside_method2_range"] = m2.low / RANGE_SLACK <= m1.flop <= m2.high * RANGE_SLACK
    done = [v for v in checks.values() if v is not None]
    hard = ((implied is not None and not LOW_UTILISATION <= implied <= 1) or (c.utilisation or 0) > 1
            or (c.seconds or 0) / 3600 > MAX_WALL_CLOCK_HOURS)
    agrees = None if not done else all(done)
    verdict = "inconsistent" if hard or agrees is False else "consistent" if agrees else "unverifiable"

    estimates = tuple(e for e in (m1, m2) if e is not None)
    factor = None
    if c.claimed is not None and estimates:
        factor = c.claimed / math.exp(sum(math.log(e.flop) for e in estimates) / len(estimates))
    elif m1 is not None and m2 is not None:
        factor = m1.flop / m2.flop

    ctx = _Context(c, acc, precision, c.precision is None or c.precision != precision, peak, chip_seconds,
                   m1, m2, ut, evidence, label, implied, implied_from, agrees)
    reasons = tuple(r for r in (d(ctx) for d in DETECTORS) if r is not None)
    return CheckResult(c, estimates, implied, implied_from, peak, peak_rule,
                       precision, verdict, factor, checks, reasons, _summary(c, verdict, factor, estimates, implied))


def _summary(c: Claim, verdict: str, factor: float | None, estimates: tuple[Estimate, ...],
             implied: float | None) -> str:
    parts = []
    if factor is not None:
        what = "claimed / estimates" if c.claimed is not None else "method 1 / method 2"
        parts.append(f"{what} = {_g(factor)}")
    for e in estimates:
        tag = "m1" if e.method == "operation counting" else "m2"
        rng = f" [{_g(e.low)}, {_g(e.high)}]" if e.low != e.high else ""
        parts.append(f"{tag} {_g(e.flop)}{rng}")
    if c.claimed is not None:
        parts.append(f"claimed {_g(c.claimed)}")
    if implied is not None:
        parts.append(f"implied utilisation {_g(implied)}")
    if not estimates and c.claimed is None:
        parts.append("nothing to compare")
    return f"{verdict}: " + "; ".join(parts)


def check_all(claims: Iterable[Claim], defaults: Sequence[_defaults.DefaultRow] | str | Path | None = None
              ) -> list[CheckResult]:
    table = _table(defaults)
    if table is None:
        table = _defaults.load_defaults()
    return [check(c, table) for c in claims]


def check_catalogue(path: str | Path | None = None,
                    defaults: Sequence[_defaults.DefaultRow] | str | Path | None = None) -> list[CheckResult]:
    """Check every claim of a catalogue (the packaged claims.csv unless `path` is given)."""
    return check_all(load_claims(CATALOGUE_PATH if path is None else path), defaults)


# ---------------------------------------------------------------------------------------- output


def results_rows(results: Iterable[CheckResult]) -> list[dict[str, Any]]:
    """One flat row per claim, for CSV or a DataFrame (estimates and reasons joined into cells)."""
    rows = []
    for r in results:
        m1 = next((e for e in r.estimates if e.method == "operation counting"), None)
        m2 = next((e for e in r.estimates if e.method == "hardware"), None)
        rows.append({
            "name": r.claim.name,
            "verdict": r.verdict,
            "factor": r.factor,
            "claimed_flop": r.claim.claimed,
            "method1_flop": None if m1 is None else m1.flop,
            "method1_formula": None if m1 is None else m1.formula,
            "method2_flop": None if m2 is None else m2.flop,
            "method2_low": None if m2 is None else m2.low,
            "method2_high": None if m2 is None else m2.high,
            "method2_utilisation": None if m2 is None else m2.inputs.get("utilisation"),
            "implied_utilisation": r.implied_utilisation,
            "implied_from": r.implied_from,
            "peak_flop_per_s": r.peak_flop_per_s,
            "precision": r.precision,
            "reasons": " | ".join(x.text for x in r.reasons),
            "reason_codes": ";".join(x.code for x in r.reasons),
            "sources": r.claim.sources,
        })
    return rows


def results_json(results: Iterable[CheckResult]) -> str:
    return json.dumps([r.to_dict() for r in results], indent=2, default=str)


def results_table(results: Sequence[CheckResult], title: str = "Compute claims cross-checked") -> Table:
    """A rich table: one row per claim, the figures and the reasons' codes."""
    from rich.table import Table

    t = Table(title=title, show_lines=False)
    for col, kw in (("claim", {}), ("verdict", {}), ("factor", {"justify": "right"}),
                    ("claimed FLOP", {"justify": "right"}), ("method 1", {"justify": "right"}),
                    ("method 2 [range]", {"justify": "right"}), ("implied u", {"justify": "right"}),
                    ("reasons", {"overflow": "fold"})):
        t.add_column(col, **kw)
    style = {"consistent": "green", "inconsistent": "red", "unverifiable": "yellow"}
    for r in results:
        m1 = next((e for e in r.estimates if e.method == "operation counting"), None)
        m2 = next((e for e in r.estimates if e.method == "hardware"), None)
        t.add_row(
            r.claim.name,
            f"[{style[r.verdict]}]{r.verdict}[/]",
            "" if r.factor is None else f"{r.factor:.2f}",
            "" if r.claim.claimed is None else f"{r.claim.claimed:.3g}",
            "" if m1 is None else f"{m1.flop:.3g}",
            "" if m2 is None else f"{m2.flop:.3g} [{m2.low:.2g}, {m2.high:.2g}]",
            "" if r.implied_utilisation is None else f"{r.implied_utilisation:.3f}",
            ", ".join(x.code for x in r.reasons),
        )
    return t
