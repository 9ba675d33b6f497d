"""Findings: what a detector says about a claim or a dataset row, and every threshold detectors use.

A `Finding` is a machine-readable `code` and a sentence (`message`) with the numbers behind it. It
is a hypothesis, never a correction: several findings may name rival explanations of one figure.
The claim check (`harness.estimate.claims`) and the dataset detectors (`harness.estimate.dataset`)
both return findings, and both read their thresholds from here, so one rule has one value.

Utilisation bands (wall-clock utilisation of a whole training run, against the dense per-chip peak):

* `PLAUSIBLE_UTILISATION` (0.05, 0.75): a real run sits inside. The best reported MFUs are ~0.6
  (ANCHORS.md); below 0.05 the chips would be idle 95% of the time.
* `DATA_ERROR_UTILISATION` 0.01: below this a dataset figure is almost surely wrong (an exponent,
  chip-hours read as hours), not just a slow run. A claim is judged against the plausible band
  instead, since a claim is one run someone chose to publish.
* `USUAL_UTILISATION` (0.3, 0.5): what most large runs report (Epoch's interquartile range).
* `DEFAULT_UTILISATIONS` (0.3, 0.4): Epoch's rule-of-thumb defaults behind hardware-method figures.

Tolerances of `near(value, target, tolerance)` (relative, either side) are named per use below.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BASE_MODEL_FACTOR",
    "CHIP_HOURS_MATCH",
    "CHIP_HOURS_RATIO",
    "CLAIMED_HIGH",
    "CLAIMED_LOW",
    "DATA_ERROR_UTILISATION",
    "DEFAULT_MATCH",
    "DEFAULT_UTILISATIONS",
    "DOUBLE_COUNT_MATCH",
    "DOWNTIME_BAND",
    "ENCODER_DECODER_BAND",
    "FACTOR_MATCH",
    "HARDWARE_ESTIMATE_MATCH",
    "MAX_WALL_CLOCK_HOURS",
    "MFU_SLACK",
    "ONE_ASSUMED_MATCH",
    "ONE_ASSUMED_WIDE",
    "OTHER_CHIP_MATCH",
    "PEAK_MATCH",
    "PLAUSIBLE_UTILISATION",
    "PRECISION_CENTRE",
    "PRECISION_WINDOW",
    "RANGE_SLACK",
    "USUAL_UTILISATION",
    "WITHIN_METHOD1",
    "Finding",
    "near",
    "plausible",
]


@dataclass(frozen=True)
class Finding:
    """A machine-readable code and a sentence with the numbers behind it."""

    code: str
    message: str


# ------------------------------------------------------------------------------- utilisation bands

PLAUSIBLE_UTILISATION: tuple[float, float] = (0.05, 0.75)
DATA_ERROR_UTILISATION = 0.01
USUAL_UTILISATION: tuple[float, float] = (0.3, 0.5)
DEFAULT_UTILISATIONS: tuple[float, ...] = (0.3, 0.4)
# a claimed MFU is a rate while computing; wall-clock hours include downtime and restarts, so the
# utilisation over the whole run may be well below it (PaLM: MFU 0.462, over the run 0.30)
CLAIMED_LOW, CLAIMED_HIGH = 0.5, 1.25
MFU_SLACK = 1.25  # a dataset row's implied (wall clock) may exceed its reported MFU by 25% before a flag
# wall-clock utilisation / reported MFU in this band is downtime and restarts (PaLM: 0.30 / 0.462 = 0.65)
DOWNTIME_BAND: tuple[float, float] = (0.3, 0.8)

# ------------------------------------------------------------------------------- agreement

WITHIN_METHOD1 = 2.0  # a claimed figure agrees with method 1 within this factor either way
# other evidence / 6ND in this band: an encoder-decoder sends each token through half the parameters
ENCODER_DECODER_BAND: tuple[float, float] = (0.35, 0.7)
BASE_MODEL_FACTOR = 2.0  # a fine-tune's compute above this x its own fine-tune FLOP includes the base model
RANGE_SLACK = 1.1  # method 2's range widened by 10% each side (published figures are rounded)
CHIP_HOURS_RATIO = 1.5  # hours x chips vs a chip-hours figure: a factor beyond this is a mismatch
MAX_WALL_CLOCK_HOURS = 3 * 8766.0  # three years: longer is not a training run's wall-clock time

# ------------------------------------------------------------------------------- tolerances of near()

PEAK_MATCH = 0.05  # a quoted peak "is" a table figure within 5% (Patterson's TPU v2 46 vs 45)
OTHER_CHIP_MATCH = 0.01  # a quoted peak "is" another chip's figure: stricter, many chips are close
DEFAULT_MATCH = 0.02  # "implied == factor x default" within 2% (peaks differ by ~0.1%)
HARDWARE_ESTIMATE_MATCH = 0.01  # a claim's implied utilisation "is" 0.3 or 0.4 exactly
FACTOR_MATCH = 0.15  # a ratio "is" an integer factor (epochs, chips) within 15%
CHIP_HOURS_MATCH = 0.05  # "hours equals the chip-hours column" within 5%
DOUBLE_COUNT_MATCH = 0.02  # hours x chips / chip-hours "is" 1 / chips: chips counted twice
ONE_ASSUMED_MATCH = 0.05  # an implied utilisation "is" 1: the figure assumes full utilisation
ONE_ASSUMED_WIDE = 0.1  # close enough to 1 that "utilisation 1 assumed" beats another precision's reading
# another precision's peak explains an implausible utilisation when it brings it into this window
PRECISION_WINDOW: tuple[float, float] = (0.15, 0.65)
PRECISION_CENTRE = 0.4  # of several such readings, the one nearest this utilisation (in log) is named


def near(value: float, target: float, tolerance: float) -> bool:
    """|value / target - 1| <= tolerance; False for a target that is not positive."""
    return target > 0 and abs(value / target - 1) <= tolerance


def plausible(utilisation: float) -> bool:
    """Inside `PLAUSIBLE_UTILISATION`, ends included."""
    return PLAUSIBLE_UTILISATION[0] <= utilisation <= PLAUSIBLE_UTILISATION[1]
