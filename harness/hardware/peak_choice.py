"""Which peak of a chip the hardware method divides by: the rule, decided once, here.

Pure functions of an `Accelerator` (a row of `peaks.csv`); no torch.

* A precision the caller names (the claim's, or the dataset row's numerical format) is used when
  the table has a dense figure for it.
* Otherwise Epoch AI's order: Tensor-FP16/BF16 (bf16, or an fp16 that is a matrix-unit figure),
  then TF32, then FP16 on TPUs, then FP32.
* A chip with none of these (TPU v1: int8 only) has no training peak: `PeakChoice.flop_per_s` is
  None, and the rule says so. An int8 figure is used only when int8 is asked for by name.

Every choice carries the words that say how it was made (`PeakChoice.rule`), so an estimate can
state its peak.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.hardware.table import Accelerator

__all__ = ["TRAINING_PRECISIONS", "PeakChoice", "choose_peak", "epoch_order", "matrix_fp16", "other_peaks"]

# the precisions a training run computes in, fastest first (fp64 and int8 are not training formats)
TRAINING_PRECISIONS: tuple[str, ...] = ("fp8", "bf16", "fp16", "tf32", "fp32")
# more than 2x fp32 marks a matrix-unit fp16; packed half2 is exactly 2x (2.05 leaves rounding room)
_HALF2_RATIO = 2.05


@dataclass(frozen=True)
class PeakChoice:
    """The dense per-chip peak chosen for `chip`, the precision it is of, and why."""

    chip: str
    flop_per_s: float | None  # None: the chip has no training peak in the table
    precision: str | None
    requested: str | None  # the precision the caller asked for, if any
    step: str  # "given" | "Tensor-FP16/BF16" | "TF32" | "FP16 (TPU)" | "FP32" | "none"

    def rule(self, given_by: str = "the given precision") -> str:
        """One phrase: "bf16 of A100 SXM4 40GB (Epoch's order: Tensor-FP16/BF16): 312 TFLOP/s dense per chip"."""
        if self.flop_per_s is None:
            return f"{self.chip} has no peak in the table"
        if self.step == "given":
            why = given_by
        elif self.requested is not None:
            why = f"{self.requested} not in the table for {self.chip}; Epoch's order: {self.step}"
        else:
            why = f"Epoch's order: {self.step}"
        return f"{self.precision} of {self.chip} ({why}): {self.flop_per_s / 1e12:g} TFLOP/s dense per chip"


def matrix_fp16(acc: Accelerator) -> bool:
    """The table's fp16 is a matrix-unit figure (tensor core, MXU, cube), not packed half2.

    NB: the table holds the matrix figure where a chip has one; a GPU without one (Pascal, Vega)
    runs half2 at exactly 2x fp32, tensor cores give 4x or more, so "more than 2x fp32" tells them apart.
    """
    if acc.fp16 is None:
        return False
    return acc.kind != "gpu" or acc.fp32 is None or acc.fp16 > _HALF2_RATIO * acc.fp32


def epoch_order(acc: Accelerator) -> tuple[str | None, str]:
    """(precision, step) by Epoch's order; (None, "none") for a chip with no training figure."""
    if acc.bf16 is not None:
        return "bf16", "Tensor-FP16/BF16"
    if matrix_fp16(acc):
        return "fp16", "Tensor-FP16/BF16"
    if acc.tf32 is not None:
        return "tf32", "TF32"
    if acc.kind == "tpu" and acc.fp16 is not None:
        return "fp16", "FP16 (TPU)"
    if acc.fp32 is not None:
        return "fp32", "FP32"
    return None, "none"


def choose_peak(acc: Accelerator, precision: str | None = None) -> PeakChoice:
    """The dense per-chip peak for `precision` where the table has it, else by Epoch's order."""
    if precision is not None and acc.has(precision):
        return PeakChoice(acc.name, acc.peak(precision), precision, precision, "given")
    key, step = epoch_order(acc)
    return PeakChoice(acc.name, None if key is None else acc.peak(key), key, precision, step)


def other_peaks(acc: Accelerator, peak_flop_per_s: float) -> dict[float, str]:
    """The chip's other training-precision peaks: FLOP/s -> "fp32/tf32" (names sharing one value)."""
    others: dict[float, str] = {}
    for p in reversed(TRAINING_PRECISIONS):
        if acc.has(p) and acc.peak(p) != peak_flop_per_s:
            v = acc.peak(p)
            others[v] = f"{others[v]}/{p}" if v in others else p
    return others
