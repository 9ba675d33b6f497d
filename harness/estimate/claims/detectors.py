"""Detectors of a claim's likely errors: small pure functions of a `Context`, each `Context -> Finding | None`.

Public, stable: `Context` (everything the check derived from a claim), `DETECTORS` (the tuple the
check runs, in order) and the `detect_*` functions. To add a detector: write a pure function of a
`Context` returning a `Finding` (a code and a sentence with the numbers) or None, and append it to
`DETECTORS`. A finding is a hypothesis with its numbers, never a correction. Every threshold comes
from `harness.estimate.findings`.

What they name: the peak the claim used is a board, per-core or 2:4-sparse figure, or another
chip's; the precision's peak differs from the one assumed; hours that are chip-hours; an impossible
or implausible utilisation; a per-epoch token count; parameters that include inactive experts or
embeddings; weight sharing (convolutions); downtime behind a wall-clock time; a default utilisation
that does not fit; a claimed figure that is itself a hardware-method estimate.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

from harness.estimate.claims.claim import Claim
from harness.estimate.findings import (
    DEFAULT_UTILISATIONS,
    DOWNTIME_BAND,
    ENCODER_DECODER_BAND,
    FACTOR_MATCH,
    HARDWARE_ESTIMATE_MATCH,
    MAX_WALL_CLOCK_HOURS,
    ONE_ASSUMED_MATCH,
    ONE_ASSUMED_WIDE,
    OTHER_CHIP_MATCH,
    PEAK_MATCH,
    PLAUSIBLE_UTILISATION,
    PRECISION_CENTRE,
    PRECISION_WINDOW,
    RANGE_SLACK,
    USUAL_UTILISATION,
    WITHIN_METHOD1,
    Finding,
    near,
)
from harness.estimate.methods import Estimate, Utilisation
from harness.hardware.peak_choice import TRAINING_PRECISIONS
from harness.hardware.table import Accelerator, load_table

__all__ = ["DETECTORS", "Context"]

LOW_UTILISATION, HIGH_UTILISATION = PLAUSIBLE_UTILISATION


@functools.lru_cache(maxsize=1)
def _all_chips() -> tuple[Accelerator, ...]:
    return tuple(load_table().values())


def _t(flop_per_s: float) -> str:
    return f"{flop_per_s / 1e12:.4g} TFLOP/s"


def _g(x: float) -> str:
    return f"{x:.3g}"


# ---------------------------------------------------------------------------------------- detectors


@dataclass(frozen=True)
class Context:
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


def detect_claimed_utilisation_impossible(ctx: Context) -> Finding | None:
    u = ctx.claim.utilisation
    if u is None or u <= 1:
        return None
    return Finding("claimed_utilisation_above_1",
                  f"the claimed utilisation {_g(u)} is above 1, which is impossible: the peak it was "
                  "divided by is too low (another chip's, another precision's) or the FLOP are overcounted")


def detect_impossible(ctx: Context) -> Finding | None:
    if ctx.implied is None or ctx.implied <= 1 or ctx.peak is None:
        return None
    return Finding("utilisation_above_1",
                  f"implied utilisation {_g(ctx.implied)} > 1 is impossible: {ctx.evidence_label} exceeds what "
                  f"the chips can do in the time at the {ctx.precision} dense peak ({_t(ctx.peak)} per chip)")


def detect_implausibly_high(ctx: Context) -> Finding | None:
    u = ctx.implied
    if u is None or not HIGH_UTILISATION < u <= 1 + ONE_ASSUMED_WIDE or ctx.chip_seconds is None or ctx.evidence is None:
        return None
    used = ctx.claim.peak
    at_used = ctx.evidence / (ctx.chip_seconds * used) if used else None
    if at_used is not None and near(at_used, 1.0, ONE_ASSUMED_MATCH):
        return Finding("utilisation_one_assumed",
                      f"the figure equals chips x time x the claim's own peak ({_t(used)}) to "
                      f"{abs(at_used - 1):.1%}: it assumes utilisation 1, an upper bound, not the compute done")
    if near(u, 1.0, ONE_ASSUMED_MATCH):
        return Finding("utilisation_one_assumed",
                      f"the figure is chips x time x the dense peak to {abs(u - 1):.1%}: it assumes "
                      "utilisation 1 (an upper bound), or chips or time are understated")
    if u > 1:
        return None  # detect_impossible speaks
    return Finding("utilisation_implausibly_high",
                  f"implied utilisation {_g(u)} is implausibly high (reported MFUs stay below ~0.6): "
                  "the time or chip count may be understated, or the figure assumes full utilisation")


def detect_implausibly_low(ctx: Context) -> Finding | None:
    u = ctx.implied
    if u is None or u >= LOW_UTILISATION:
        return None
    return Finding("utilisation_implausibly_low",
                  f"implied utilisation {_g(u)} is implausibly low (< {LOW_UTILISATION}): {ctx.evidence_label} "
                  "is too small for the stated chips and time (per-epoch or partial figure, chip-hours read "
                  "as hours, more chips or time than the run used)")


def _peak_figures(acc: Accelerator, precision: str) -> list[tuple[float, str, str]]:
    """(FLOP/s, code, words) for the figures a claim may have used instead of the dense per-chip one."""
    dense = acc.peak(precision)
    out: list[tuple[float, str, str]] = []
    if acc.sparse_quoted:
        out.append((2 * dense, "sparse_peak", f"{acc.name}'s 2:4-sparse {precision} headline (2x the dense {_t(dense)})"))
    for p in TRAINING_PRECISIONS:
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
    cores = acc.cores_per_chip  # the peak table's column (TPU TensorCores per chip)
    if cores and cores > 1:
        out.append((dense / cores, "core_peak", f"a per-core figure ({acc.name} has {cores} TensorCores per chip: "
                                                f"{_t(dense)} / {cores})"))
    return out


def detect_peak_used(ctx: Context) -> Finding | None:
    """The peak the claim states, against the chip's dense, sparse, board, core and other-precision figures."""
    given, acc, p = ctx.claim.peak, ctx.acc, ctx.precision
    if given is None or acc is None or p is None or ctx.peak is None or near(given, ctx.peak, PEAK_MATCH):
        return None
    matches = [(code, words) for value, code, words in _peak_figures(acc, p) if near(given, value, PEAK_MATCH)]
    factor = given / ctx.peak
    tail = (f"; against the dense {p} peak the claimed utilisation {_g(ctx.claim.utilisation)} would be "
            f"{_g(ctx.claim.utilisation * factor)}" if ctx.claim.utilisation else "")
    if matches:
        code, words = matches[0]
        if code == "precision_peak":
            words += f", not its {p} one ({_t(ctx.peak)})"
        also = f" (it is also {matches[1][1]})" if len(matches) > 1 else ""
        return Finding(code, f"the claim's peak {_t(given)} is {words}{also}{tail}")
    others = sorted((a for a in _all_chips() if a is not acc and a.has(p) and near(given, a.peak(p), OTHER_CHIP_MATCH)),
                    key=lambda a: (-len(a.default_for), a.name))
    if others:
        names = others[0].name + (f" and {len(others) - 1} other(s)" if len(others) > 1 else "")
        return Finding("other_chip_peak",
                      f"the claim's peak {_t(given)} is another chip's: the {p} peak of {names}, not of "
                      f"{acc.name} ({_t(ctx.peak)}){tail}")
    return Finding("peak_unrecognised",
                  f"the claim's peak {_t(given)} matches no figure of {acc.name} (dense {p} {_t(ctx.peak)}; "
                  f"ratio {_g(factor)}){tail}")


def detect_peak_implied(ctx: Context) -> Finding | None:
    """No peak stated: does claimed / (chips x time x u), u in the usual 0.3-0.5, hit a board,
    core or sparse figure while the dense per-chip one gives an implausible utilisation?"""
    if ctx.claim.peak is not None or ctx.claim.claimed is None or ctx.implied is None or ctx.acc is None:
        return None
    u = ctx.implied
    if LOW_UTILISATION <= u <= HIGH_UTILISATION or ctx.precision is None:
        return None
    found = []
    for value, code, words in _peak_figures(ctx.acc, ctx.precision):
        if code == "precision_peak":
            continue  # detect_precision speaks
        f = value / ctx.peak  # type: ignore[operator]
        if USUAL_UTILISATION[0] / (1 + PEAK_MATCH) <= u / f <= USUAL_UTILISATION[1] * (1 + PEAK_MATCH):
            found.append((code, words, f))
    if not found:
        return None
    code, words, f = found[0]
    count_hint = {"board_peak": f", or the count ({_g(ctx.claim.count or 0)}) is of boards, not chips",
                  "core_peak": f", or the count ({_g(ctx.claim.count or 0)}) is of cores, not chips"}.get(code, "")
    return Finding(code, f"implied utilisation {_g(u)} is {_g(f)}x a usual one: the claim may have used "
                        f"{words}{count_hint} (utilisation {_g(u / f)} with it)")


def detect_precision(ctx: Context) -> Finding | None:
    """Another precision's peak makes an implausible implied utilisation plausible (e.g. FP32 vs BF16)."""
    acc, u, p = ctx.acc, ctx.implied, ctx.precision
    if acc is None or u is None or p is None or ctx.peak is None or ctx.claim.peak is not None:
        return None
    fp8_low = p == "fp8" and u < USUAL_UTILISATION[0] and not ctx.agrees
    if (LOW_UTILISATION <= u <= HIGH_UTILISATION and not fp8_low) or near(u, 1.0, ONE_ASSUMED_WIDE):
        return None  # near 1: detect_implausibly_high's "utilisation 1 assumed" is the better reading
    best = None
    for q in TRAINING_PRECISIONS:
        if q == p or not acc.has(q):
            continue
        uq = u * ctx.peak / acc.peak(q)
        window = USUAL_UTILISATION if fp8_low else PRECISION_WINDOW
        if window[0] <= uq <= window[1]:
            score = abs(math.log(uq / PRECISION_CENTRE))
            if best is None or score < best[0]:
                best = (score, q, uq)
    if best is None:
        return None
    _, q, uq = best
    ratio = ctx.peak / acc.peak(q)
    assumed = f" (no precision given; {p} assumed by Epoch's order)" if ctx.precision_assumed else ""
    if fp8_low:
        return Finding("fp8_partial",
                      f"implied utilisation {_g(u)} against the fp8 peak is low, {_g(uq)} against the {q} one: "
                      "mixed-precision FP8 runs keep part of the work (attention, some matmuls) in bf16")
    return Finding("precision_peak",
                  f"implied utilisation {_g(u)} against the {p} peak ({_t(ctx.peak)}){assumed} is implausible, "
                  f"but {_g(uq)} against the {q} peak ({_t(acc.peak(q))}, {_g(ratio)}x lower): "
                  f"the run, or the claim's arithmetic, may be in {q}")


def detect_chip_hours(ctx: Context) -> Finding | None:
    """Hours that are chip-hours (GPU-hours) given as wall-clock training time."""
    c = ctx.claim
    if c.seconds is None or c.count is None or c.count <= 1:
        return None
    h = c.seconds / 3600
    if h > MAX_WALL_CLOCK_HOURS:
        return Finding("hours_look_like_chip_hours",
                      f"{_g(h)} h ({_g(h / 8766)} years) is not a wall-clock training time; as chip-hours on "
                      f"{_g(c.count)} chips it is {_g(h / c.count)} h ({_g(h / c.count / 24)} days)")
    u = ctx.implied
    if u is not None and u < LOW_UTILISATION and 2 * LOW_UTILISATION <= u * c.count <= HIGH_UTILISATION:
        return Finding("hours_look_like_chip_hours",
                      f"the hours look like chip-hours: implied utilisation {_g(u)} from {_g(h)} h, but "
                      f"{_g(u * c.count)} if {_g(h)} are chip-hours ({_g(h / c.count)} h on {_g(c.count)} chips)")
    return None


def detect_epochs(ctx: Context) -> Finding | None:
    """Method 1 off by the number of epochs: tokens per epoch given as the total, or the reverse."""
    c, m1, other = ctx.claim, ctx.method1, ctx.other
    if m1 is None or other is None or c.epochs is None or c.epochs < 1.5 or c.tokens is None:
        return None
    ratio = other[0] / m1.flop
    if near(ratio, c.epochs, FACTOR_MATCH):
        return Finding("tokens_per_epoch",
                      f"{other[1]} is {_g(ratio)}x method 1, the number of epochs ({_g(c.epochs)}): "
                      "the token count looks like one epoch's, not the total")
    if near(ratio, 1 / c.epochs, FACTOR_MATCH):
        return Finding("claim_counts_one_epoch",
                      f"{other[1]} is 1/{_g(1 / ratio)} of method 1, one epoch of {_g(c.epochs)}: "
                      "it may count a single epoch while the tokens are the total")
    return None


def detect_parameters(ctx: Context) -> Finding | None:
    """Method 1 far above the other evidence: experts or embeddings in N, or an encoder-decoder."""
    c, m1, other = ctx.claim, ctx.method1, ctx.other
    if c.active_params is not None and c.params is not None and c.active_params < c.params and m1 is not None:
        return Finding("mixture_of_experts",
                      f"sparse model: method 1 uses the {_g(c.active_params)} active parameters per token; the "
                      f"{_g(c.params)} total would give {_g(c.params / c.active_params)}x more")
    if m1 is None or other is None or c.tokens is None or c.params is None or ctx.agrees is not False:
        return None
    ratio = other[0] / m1.flop
    if ratio >= 1 / WITHIN_METHOD1:
        return None
    n_eff = c.params * ratio
    if ENCODER_DECODER_BAND[0] <= ratio <= ENCODER_DECODER_BAND[1]:
        why = ("an encoder-decoder sends each token through the encoder or the decoder only (about half "
               "the parameters), or N includes embeddings (6ND counts non-embedding parameters)")
    else:
        why = ("the parameters may include experts not active per token (mixture of experts: give "
               "active_params) or embeddings (6ND counts non-embedding parameters)")
    return Finding("parameters_not_all_active",
                  f"method 1 is {_g(1 / ratio)}x {other[1]}: {why}; an effective N of {_g(n_eff)} "
                  f"({ratio:.1%} of {_g(c.params)}) would match")


def detect_weight_sharing(ctx: Context) -> Finding | None:
    """Connections counted as parameters for a model that reuses each weight (convolutions, RNN steps)."""
    m1, other = ctx.method1, ctx.other
    if m1 is None or other is None or not m1.formula.startswith("2 x connections") or ctx.agrees is not False:
        return None
    ratio = other[0] / m1.flop
    if ratio <= WITHIN_METHOD1:
        return None
    return Finding("weight_sharing",
                  f"{other[1]} is {_g(ratio)}x method 1 from parameters: each weight is used at many positions "
                  "per example (convolution positions, sequence tokens, recurrent steps), so connections >> "
                  "parameters; give tokens or a counted FLOP per example instead")


def detect_method1_low(ctx: Context) -> Finding | None:
    """Method 1 far below the other evidence with no better explanation."""
    c, m1, other = ctx.claim, ctx.method1, ctx.other
    if m1 is None or other is None or ctx.agrees is not False or m1.formula.startswith("2 x connections"):
        return None
    ratio = other[0] / m1.flop
    if ratio <= WITHIN_METHOD1 or (c.epochs and near(ratio, c.epochs, FACTOR_MATCH)):
        return None
    return Finding("method1_low",
                  f"{other[1]} is {_g(ratio)}x method 1: the tokens or examples may be undercounted (one "
                  "epoch or stage of several), or the compute includes work beyond the final run")


def detect_downtime(ctx: Context) -> Finding | None:
    """A wall-clock utilisation below the reported MFU: downtime, restarts, repeated steps."""
    u, mfu = ctx.implied, ctx.claim.utilisation
    if u is None or mfu is None or ctx.peak is None:
        return None
    if ctx.claim.peak is not None:
        mfu *= ctx.claim.peak / ctx.peak  # the MFU against the dense peak, as u is
    if mfu > 1 or not DOWNTIME_BAND[0] * mfu <= u < DOWNTIME_BAND[1] * mfu:
        return None
    return Finding("downtime",
                  f"implied utilisation {_g(u)} over the whole run is below the reported MFU {_g(mfu)}: "
                  "the time includes downtime, restarts and repeated steps (expected, not an error)")


def detect_default_mismatch(ctx: Context) -> Finding | None:
    """A plausible implied utilisation outside the default's interval: the default does not fit the run."""
    u, ut = ctx.implied, ctx.utilisation
    if u is None or ut is None or ctx.claim.utilisation is not None or ctx.agrees is not False:
        return None
    if not LOW_UTILISATION <= u <= HIGH_UTILISATION or ut.low / RANGE_SLACK <= u <= ut.high * RANGE_SLACK:
        return None
    side = "below" if u < ut.low else "above"
    return Finding("default_utilisation_off",
                  f"implied utilisation {_g(u)} is plausible but {side} the default's interval "
                  f"[{_g(ut.low)}, {_g(ut.high)}] ({ut.source}): this run's utilisation differs from the default's")


def detect_hardware_estimate(ctx: Context) -> Finding | None:
    """A claimed figure that is itself a hardware-method estimate with Epoch's 0.3 or 0.4."""
    u = ctx.implied
    if u is None or ctx.implied_from != "claimed" or ctx.method1 is not None:
        return None
    for d in DEFAULT_UTILISATIONS:
        if near(u, d, HARDWARE_ESTIMATE_MATCH):
            return Finding("claimed_is_hardware_estimate",
                          f"implied utilisation is {_g(u)}, exactly the rule-of-thumb {d}: the claimed figure may "
                          "itself be a hardware-method estimate, not an independent count")
    return None


DETECTORS: tuple[Callable[[Context], Finding | None], ...] = (
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

