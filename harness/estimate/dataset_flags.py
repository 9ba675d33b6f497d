"""Detectors of likely data errors in a dataset row: small pure functions `SystemRow -> Finding | None`.

Public, stable: `DETECTORS` (the tuple `flags` runs, in order), `flags(row)` and the `detect_*`
functions (also re-exported by `harness.estimate.dataset`). To add a detector: write a pure function
of a `SystemRow` returning a `Finding` or None and append it to `DETECTORS`. Thresholds come from
`harness.estimate.findings`; the arithmetic behind the peak mix-ups is in `harness.estimate.dataset`'s
docstring.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from harness.estimate.dataset import SystemRow, implied_utilisation, peak_flop_per_s
from harness.estimate.findings import (
    BASE_MODEL_FACTOR,
    CHIP_HOURS_MATCH,
    CHIP_HOURS_RATIO,
    DATA_ERROR_UTILISATION,
    DEFAULT_MATCH,
    DEFAULT_UTILISATIONS,
    DOUBLE_COUNT_MATCH,
    MFU_SLACK,
    PLAUSIBLE_UTILISATION,
    Finding,
    near,
    plausible,
)
from harness.hardware.peak_choice import other_peaks

__all__ = ["DETECTORS", "flags"]

_INDEPENDENT_METHODS = frozenset({"operation counting", "reported"})



def _default_behind(u: float, factor: float) -> float | None:
    """The standard utilisation d with u == factor x d (within tolerance), if any."""
    return next((d for d in DEFAULT_UTILISATIONS if near(u, factor * d, DEFAULT_MATCH)), None)


def _uses_hardware_method(row: SystemRow) -> bool:
    return "hardware" in row.estimation_methods


def _circular(row: SystemRow) -> bool:
    return _uses_hardware_method(row) and not (row.estimation_methods & _INDEPENDENT_METHODS)


def detect_hardware_unknown(row: SystemRow) -> Finding | None:
    if not row.hardware_unresolved:
        return None
    return Finding("hardware_unknown", "; ".join(row.hardware_unresolved))


def detect_utilisation_above_1(row: SystemRow) -> Finding | None:
    u = implied_utilisation(row)
    if u is None or u <= 1:
        return None
    return Finding("utilisation_above_1",
                f"implied utilisation {u:.3g} > 1: compute too high, or hours, chips or peak too low")


def detect_utilisation_below_001(row: SystemRow) -> Finding | None:
    u = implied_utilisation(row)
    if u is None or u >= DATA_ERROR_UTILISATION:
        return None
    return Finding("utilisation_below_0.01",
                f"implied utilisation {u:.3g} < {DATA_ERROR_UTILISATION}: "
                "compute too low, or hours or chips too high")


def detect_mfu_percentage(row: SystemRow) -> Finding | None:
    return next((f for f in row.problems if f.code == "mfu_percentage_as_fraction"), None)


def detect_implied_above_mfu(row: SystemRow) -> Finding | None:
    """Wall-clock time includes downtime, so the implied utilisation should sit at or below the MFU."""
    u = implied_utilisation(row)
    if u is None or row.mfu is None or u <= MFU_SLACK * row.mfu:
        return None
    return Finding("implied_above_reported_mfu",
                f"implied utilisation {u:.3g} is {u / row.mfu:.2g}x the reported MFU {row.mfu:.3g}: "
                "hours too short, chips too few, or compute too high")


def detect_chip_hours_as_hours(row: SystemRow) -> Finding | None:
    """GPU-hours read as wall-clock hours: hours equals the chip-hours column, or only hours / chips fits."""
    q, h = row.quantity, row.hours
    if q is None or h is None or q <= 1:
        return None
    if row.chip_hours is not None and near(h, row.chip_hours, CHIP_HOURS_MATCH):
        return Finding("chip_hours_as_hours",
                    f"training time {h:g} h equals the chip-hours column ({row.chip_hours:g}) "
                    f"with {q:g} chips: "
                    f"wall-clock is likely {h / q:.4g} h")
    u = implied_utilisation(row)
    if u is not None and u < DATA_ERROR_UTILISATION and plausible(u * q):
        return Finding("chip_hours_as_hours",
                    f"implied utilisation {u:.3g} from {h:g} h, but {u * q:.3g} if {h:g} are chip-hours "
                    f"({h / q:.4g} h wall-clock on {q:g} chips)")
    return None


def _factor_flag(row: SystemRow, code: str, readings: list[tuple[float, str]]) -> Finding | None:
    """The flag when the implied utilisation is `factor` x what it should be, for the best of several
    (factor, what) readings: an exact "factor x default" match first, else the reading that brings an
    out-of-range value nearest the middle of `PLAUSIBLE_UTILISATION` (see the module docstring)."""
    u = implied_utilisation(row)
    if u is None:
        return None
    # the exact test needs the compute to be the hardware estimate: hardware only, or mixed (often a
    # geometric mean with a count) where the value is implausible as it stands
    if _circular(row) or (_uses_hardware_method(row) and not plausible(u)):
        for factor, what in readings:
            d = _default_behind(u, factor)
            if d is not None:
                return Finding(code, f"implied utilisation {u:.3g} = {factor:.3g} x the default {d}: "
                                  f"the hardware-method compute likely used {what}")
    if u > 1 or u < DATA_ERROR_UTILISATION:
        middle = math.sqrt(PLAUSIBLE_UTILISATION[0] * PLAUSIBLE_UTILISATION[1])
        fits = sorted((abs(math.log(u / f / middle)), f, what) for f, what in readings if plausible(u / f))
        if fits:
            _, factor, what = fits[0]
            return Finding(code, f"implied utilisation {u:.3g} is out of range but {u / factor:.3g} with {what}")
    return None


def detect_sparse_peak(row: SystemRow) -> Finding | None:
    """A 2:4-sparse headline (2x dense) used as the peak: implied = 2 x the assumed utilisation."""
    acc = row.accelerators[0] if row.accelerators else None
    if acc is None or not acc.sparse_quoted:
        return None
    return _factor_flag(row, "sparse_peak_suspected", [(2.0, f"{acc.name}'s sparse headline (2x dense)")])


def detect_board_peak(row: SystemRow) -> Finding | None:
    """A per-board figure used per chip, or boards counted as chips: implied = board/chip x the truth."""
    acc = row.accelerators[0] if row.accelerators else None
    if acc is None or acc.chips_per_board <= 1:
        return None
    peak, _ = peak_flop_per_s(row)
    boards = f"a count of {acc.name} boards ({acc.chips_per_board} chips each) as chips"
    readings = [(float(acc.chips_per_board), boards)]
    if acc.board_bf16 is not None and peak:
        figure = f"the {acc.board_bf16 / 1e12:g} TFLOP/s board figure per chip"
        readings.append((acc.board_bf16 / peak, figure))
    return _factor_flag(row, "board_peak_suspected", readings)


def detect_precision_peak(row: SystemRow) -> Finding | None:
    """The peak of another precision behind the compute (FP32 for a bf16 A100 run): ratio = peak ratio."""
    acc = row.accelerators[0] if row.accelerators else None
    peak, _ = peak_flop_per_s(row)
    if acc is None or not peak:
        return None
    readings = [(other / peak, f"the {names} peak ({other / 1e12:g} TFLOP/s, not {peak / 1e12:g})")
                for other, names in sorted(other_peaks(acc, peak).items())]
    return _factor_flag(row, "precision_peak_mismatch", readings)


def _explained_by_peak(row: SystemRow, u: float) -> bool:
    """A hardware-only compute whose implied utilisation is a default times some peak ratio of its chip."""
    acc = row.accelerators[0] if row.accelerators else None
    peak, _ = peak_flop_per_s(row)
    if acc is None or not peak or not _circular(row):
        return False
    factors = [1.0, *(other / peak for other in other_peaks(acc, peak))]
    factors += [2.0] if acc.sparse_quoted else []
    factors += [float(acc.chips_per_board)] if acc.chips_per_board > 1 else []
    factors += [acc.board_bf16 / peak] if acc.board_bf16 else []
    return any(_default_behind(u, f) is not None for f in factors)


def detect_chip_hours_mismatch(row: SystemRow) -> Finding | None:
    """hours x chips disagrees with the chip-hours column (one of the three is wrong)."""
    q, h, ch = row.quantity, row.hours, row.chip_hours
    if q is None or h is None or ch is None or near(h, ch, CHIP_HOURS_MATCH):
        return None  # hours == chip-hours is chip_hours_as_hours
    ratio = h * q / ch
    if 1 / CHIP_HOURS_RATIO <= ratio <= CHIP_HOURS_RATIO:
        return None
    hint = f" (= 1/{q:g}: the chip-hours column counts the chips twice)" if near(ratio * q, 1, DOUBLE_COUNT_MATCH) else ""
    return Finding("chip_hours_mismatch",
                f"{h:g} h x {q:g} chips = {h * q:g} chip-hours, but the chip-hours column says {ch:g}: "
                f"ratio {ratio:.3g}{hint}")


def detect_base_model_compute(row: SystemRow) -> Finding | None:
    """A fine-tune's compute that includes its base model's pretraining; hours and chips are the tune's."""
    u = implied_utilisation(row)
    if row.base_model is None or u is None or row.compute is None or _explained_by_peak(row, u):
        return None
    ft = row.finetune_compute
    if ft is not None and row.compute > BASE_MODEL_FACTOR * ft:
        return Finding("compute_includes_base_model",
                    f"compute {row.compute:.3g} includes the base model ({row.base_model}); the fine-tune's "
                    f"{ft:.3g} FLOP over the same hours gives utilisation {u * ft / row.compute:.3g}, "
                    f"not {u:.3g}")
    if u > 1 or (row.mfu is not None and u > MFU_SLACK * row.mfu):
        return Finding("compute_includes_base_model",
                    f"implied utilisation {u:.3g} for a fine-tune of {row.base_model}: the compute likely "
                    "includes the base model's pretraining while hours and chips are the fine-tune's")
    return None


def detect_hardware_circular(row: SystemRow) -> Finding | None:
    """Compute from the hardware method alone: its implied utilisation is the assumption, not a measure."""
    if not _circular(row):
        return None
    u = implied_utilisation(row)
    d = _default_behind(u, 1.0) if u is not None else None
    said = "" if u is None else f"; implied {u:.3g}" + (f" = the default {d} it assumed" if d else "")
    return Finding("hardware_method_circular",
                f"compute estimated by the hardware method ({row.estimation_method}){said}; "
                "not evidence for calibration")


def detect_hardware_method_suspected(row: SystemRow) -> Finding | None:
    """No estimation method given, but the implied utilisation is exactly a default: likely circular."""
    if row.estimation_methods:
        return None
    u = implied_utilisation(row)
    d = _default_behind(u, 1.0) if u is not None else None
    if d is None:
        return None
    return Finding("hardware_method_suspected",
                f"no estimation method given, and the implied utilisation {u:.3g} is the default {d}: "
                "the compute was likely made by the hardware method; not evidence for calibration")


DETECTORS: tuple[Callable[[SystemRow], Finding | None], ...] = (
    detect_hardware_unknown,
    detect_utilisation_above_1,
    detect_utilisation_below_001,
    detect_mfu_percentage,
    detect_implied_above_mfu,
    detect_chip_hours_as_hours,
    detect_chip_hours_mismatch,
    detect_base_model_compute,
    detect_sparse_peak,
    detect_board_peak,
    detect_precision_peak,
    detect_hardware_circular,
    detect_hardware_method_suspected,
)


def flags(row: SystemRow) -> list[Finding]:
    """Every flag of a row: its unreadable and implausible cells first, then each detector's finding."""
    found = [f for f in row.problems if f.code in ("unreadable_value", "implausible_value")]
    found += [f for f in (d(row) for d in DETECTORS) if f is not None]
    return found


