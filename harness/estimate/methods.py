"""The two ways of estimating training compute (Epoch AI, Sevilla et al. 2022).

Method 1, counting operations: C = 2 x connections x 3 x examples x epochs, or 6 N D for
transformers (Kaplan et al. 2020), or a zoo model's counted FLOP per example x examples x epochs.
Method 2, hardware: C = chips x seconds x peak FLOP/s x utilisation, with the utilisation from
the calibrated defaults and its interval, so the estimate carries a low / central / high range.
Every result says which inputs and which assumptions it used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Utilisation:
    """A utilisation figure with its interval and where it came from."""

    central: float
    low: float
    high: float
    source: str  # e.g. "calibrated: gpu-ampere/bf16/language (n=14)" or "fixed rule: 0.3 for language"

    def __post_init__(self) -> None:
        if not 0 < self.low <= self.central <= self.high <= 1:
            raise ValueError(f"utilisation must satisfy 0 < low <= central <= high <= 1, not {self}")


@dataclass(frozen=True)
class Estimate:
    """A training-compute estimate in FLOP, with its range, inputs and assumptions."""

    method: str  # "operation counting" | "hardware"
    formula: str
    flop: float
    low: float
    high: float
    inputs: dict[str, Any] = field(default_factory=dict)
    assumptions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "formula": self.formula,
            "flop": self.flop,
            "low": self.low,
            "high": self.high,
            "inputs": dict(self.inputs),
            "assumptions": list(self.assumptions),
        }


def _positive(**values: float | None) -> None:
    for name, v in values.items():
        if v is None or not v > 0:
            raise ValueError(f"{name} must be a positive number, not {v!r}")


def method1_tokens(params: float, tokens: float) -> Estimate:
    """6 N D (Kaplan et al. 2020, Sec. 2.1): 2 FLOP per MAC x 3 (forward + 2x backward)."""
    _positive(params=params, tokens=tokens)
    c = 6 * params * tokens
    return Estimate(
        "operation counting", "6 x N x D", c, c, c, {"params": params, "tokens": tokens},
        ("every parameter is used once per token (dense model)", "attention FLOP left out (small when d >> seq)"),
    )


def method1_examples(connections: float, examples: float, epochs: float = 1.0) -> Estimate:
    """2 x connections x 3 x examples x epochs (Epoch AI 2022, method 1)."""
    _positive(connections=connections, examples=examples, epochs=epochs)
    c = 2 * connections * 3 * examples * epochs
    return Estimate(
        "operation counting", "2 x connections x 3 x examples x epochs", c, c, c,
        {"connections": connections, "examples": examples, "epochs": epochs},
        ("one multiply-accumulate per connection per example", "backward = 2 x forward"),
    )


def method1_counted(flop_per_example: float, examples: float, epochs: float = 1.0, source: str = "") -> Estimate:
    """A counted training step's FLOP per example x examples x epochs."""
    _positive(flop_per_example=flop_per_example, examples=examples, epochs=epochs)
    c = flop_per_example * examples * epochs
    return Estimate(
        "operation counting", "counted FLOP per example x examples x epochs", c, c, c,
        {"flop_per_example": flop_per_example, "examples": examples, "epochs": epochs},
        (f"FLOP per example counted by the harness{': ' + source if source else ''}",),
    )


def method2_hardware(chips: float, seconds: float, peak_flop_per_s: float, utilisation: Utilisation,
                     peak_source: str = "") -> Estimate:
    """chips x seconds x peak x utilisation, central with the utilisation's low and high."""
    _positive(chips=chips, seconds=seconds, peak_flop_per_s=peak_flop_per_s)
    base = chips * seconds * peak_flop_per_s
    return Estimate(
        "hardware", "chips x seconds x peak FLOP/s x utilisation",
        base * utilisation.central, base * utilisation.low, base * utilisation.high,
        {"chips": chips, "seconds": seconds, "peak_flop_per_s": peak_flop_per_s,
         "utilisation": utilisation.central},
        (f"utilisation {utilisation.central:.2f} [{utilisation.low:.2f}, {utilisation.high:.2f}] ({utilisation.source})",
         f"peak: {peak_source}" if peak_source else "peak: dense, per chip"),
    )


def implied_utilisation(compute: float, chips: float, seconds: float, peak_flop_per_s: float) -> float:
    """The utilisation a compute figure implies: compute / (chips x seconds x peak)."""
    _positive(compute=compute, chips=chips, seconds=seconds, peak_flop_per_s=peak_flop_per_s)
    return compute / (chips * seconds * peak_flop_per_s)


FIXED_RULE = {"language": 0.30, "other": 0.40}  # Epoch AI's recommended defaults


def fixed_rule(domain: str | None) -> Utilisation:
    """The 0.3 / 0.4 rule of thumb, with Epoch's reported practitioner range 0.25 to 0.62 as interval."""
    lang = bool(domain) and "language" in domain.lower()
    u = FIXED_RULE["language" if lang else "other"]
    return Utilisation(u, 0.25, 0.62 if not lang else 0.5, f"fixed rule: {u} for {'language' if lang else 'other'} models")
