"""The check of a claim: both estimates, the implied utilisation, a verdict and its likely reasons.

Public, stable: `check(claim, defaults)`, `check_all(claims, defaults)`, `check_catalogue(path, defaults)`
and `CheckResult`.

`check(claim)` computes

* method 1 (operation counting): 6 N D from tokens (Kaplan et al. 2020), 2 x 3 x connections x
  examples x epochs with parameters as connections (Epoch AI 2022), or a counted FLOP per example
  x examples x epochs (given with the claim by whoever counted it); the estimate says which;
* method 2 (hardware): chips x seconds x dense peak x utilisation, with the claim's own
  utilisation if it gives one, else the calibrated default for what the claim says of the run
  (`defaults.utilisation_default`: chip generation, precision, domain, chips, parameters; Epoch's
  0.3 / 0.4 rule without a table), with its interval;
  the peak by `harness.hardware.peak_choice` (the claim's precision, else Epoch's order);
* the implied utilisation: claimed FLOP / (chips x seconds x dense peak of the precision used);
  without a claimed figure, that of method 1 (`implied_from` says which);

and a verdict. Consistent means every available comparison passes: the claimed figure within 2x
of method 1 and inside method 2's range (widened by `RANGE_SLACK` for rounding), or, with no
claimed figure, method 1 inside method 2's range; and nothing is impossible on its face: the
implied utilisation at most 1 and inside the plausible band's low end, a claimed utilisation at
most 1, a training time shorter than `MAX_WALL_CLOCK_HOURS`. With fewer than two figures to compare
and nothing impossible the verdict is "unverifiable". `factor` = claimed / geometric mean of the
estimates (or method 1 / method 2). The likely reasons are the findings of `DETECTORS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.estimate import defaults as _defaults
from harness.estimate.claims.claim import Claim, ClaimsError, load_catalogue, load_claims
from harness.estimate.claims.detectors import DETECTORS, Context
from harness.estimate.findings import (
    CLAIMED_HIGH,
    CLAIMED_LOW,
    MAX_WALL_CLOCK_HOURS,
    PLAUSIBLE_UTILISATION,
    RANGE_SLACK,
    WITHIN_METHOD1,
    Finding,
)
from harness.estimate.methods import (
    Estimate,
    Utilisation,
    method1_counted,
    method1_examples,
    method1_tokens,
    method2_hardware,
)
from harness.hardware.peak_choice import choose_peak
from harness.hardware.table import Accelerator, resolve

__all__ = ["CheckResult", "check", "check_all", "check_catalogue"]

VERDICTS = ("consistent", "inconsistent", "unverifiable")


@dataclass(frozen=True)
class CheckResult:
    """A claim's check: its estimates, implied utilisation, the peak used, the verdict and the reasons."""

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
    reasons: tuple[Finding, ...]
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
            "reasons": [r.message for r in self.reasons],
            "reason_codes": [r.code for r in self.reasons],
            "claim": self.claim.to_dict(),
        }


def _method1(c: Claim) -> Estimate | None:
    if c.counted_flop is not None:
        return Estimate("operation counting", "counted training step x the run", c.counted_flop, c.counted_flop,
                        c.counted_flop, {"counted_flop": c.counted_flop},
                        (c.counted_basis or "training compute counted by the harness",))
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
    keys = _defaults.SystemKeys(generation=acc.generation, precision=precision, domain=c.domain, chips=c.count,
                                parameters=c.active_params or c.params)
    return _defaults.utilisation_default(keys, table)


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
        choice = choose_peak(acc, c.precision)
        peak, precision, peak_rule = choice.flop_per_s, choice.precision, choice.rule("the claim's precision")
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
    hard = ((implied is not None and not PLAUSIBLE_UTILISATION[0] <= implied <= 1) or (c.utilisation or 0) > 1
            or (c.seconds or 0) / 3600 > MAX_WALL_CLOCK_HOURS)
    agrees = None if not done else all(done)
    verdict = "inconsistent" if hard or agrees is False else "consistent" if agrees else "unverifiable"

    estimates = tuple(e for e in (m1, m2) if e is not None)
    factor = None
    if c.claimed is not None and estimates:
        factor = c.claimed / math.exp(sum(math.log(e.flop) for e in estimates) / len(estimates))
    elif m1 is not None and m2 is not None:
        factor = m1.flop / m2.flop

    ctx = Context(c, acc, precision, c.precision is None or c.precision != precision, peak, chip_seconds,
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


def _g(x: float) -> str:
    return f"{x:.3g}"


def check_all(claims: Iterable[Claim], defaults: Sequence[_defaults.DefaultRow] | str | Path | None = None
              ) -> list[CheckResult]:
    table = _table(defaults)
    if table is None:
        table = _defaults.load_defaults()
    return [check(c, table) for c in claims]


def check_catalogue(path: str | Path | None = None,
                    defaults: Sequence[_defaults.DefaultRow] | str | Path | None = None,
                    zoo_claim: Callable[[str], Claim] | None = None) -> list[CheckResult]:
    """Check every claim of a catalogue (the packaged claims.csv unless `path` is given).

    A row with a `zoo` entry name carries no figures of its own: `zoo_claim(name)` gives the claim
    of that entry's recorded run (the CLI passes the same counted claim `check NAME` uses, so both
    judge the run the same way); the row keeps its name. Without `zoo_claim` such rows are an error.
    """
    claims = load_catalogue() if path is None else load_claims(path)
    if any(c.zoo for c in claims) and zoo_claim is None:
        names = ", ".join(c.name for c in claims if c.zoo)
        raise ClaimsError(f"catalogue rows {names} refer to zoo entries: pass zoo_claim (a zoo entry name -> Claim)")
    return check_all([replace(zoo_claim(c.zoo), name=c.name) if c.zoo and zoo_claim else c for c in claims], defaults)

