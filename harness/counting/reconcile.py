"""Reconciliation: every external counter beside our own count, every difference explained.

A counter's coverage of each op category is measured, not assumed: the counter runs on one
small probe per category (a bias-free Linear, a Conv2d, one SDPA call, an LSTM, ...) on the
model's device, and its reading divided by our count of the probe is its coverage ratio for
that category (0 = does not count it, 1 = counts it as we do). The model's expected reading
is then sum(ratio x our FLOP) over categories; each category whose ratio departs from 1
explains its share of the difference, and whatever is left is reported as unexplained.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from harness.conventions import Category
from harness.counting.adapters import ADAPTERS, run_counters
from harness.counting.adapters.base import Adapter, CounterReading
from harness.counting.api import count_flops
from harness.counting.result import FlopCount

THRESHOLD = 0.01  # differences above 1% of our count must be explained
SHOWN = 0.001  # category effects below 0.1% are not worth a line


class _SDPA(nn.Module):
    def forward(self, q: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, q, q)


class _Softmax(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=-1)


class _LSTM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(64, 64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lstm(x)[0]


class _Sum(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum(dim=-1)


@dataclass(frozen=True)
class Probe:
    """A one-op model dominated by `category`; used when the model holds a `kind` module."""

    category: Category
    make: Callable[[], nn.Module]
    shape: tuple[int, ...]
    kind: type | None = None  # None: the category's default probe


# The first probe of a category whose `kind` occurs in the model is used, else its default.
PROBES: tuple[Probe, ...] = (
    Probe(Category.MATMUL, lambda: nn.Linear(64, 32, bias=False), (8, 64)),
    Probe(Category.CONV, lambda: nn.Conv2d(4, 8, 3, bias=False), (1, 4, 8, 8)),
    Probe(Category.ATTENTION, _SDPA, (1, 2, 16, 8)),
    Probe(Category.RECURRENT, _LSTM, (4, 2, 64)),
    Probe(Category.NORMALISATION, lambda: nn.BatchNorm2d(4), (2, 4, 8, 8), nn.modules.batchnorm._BatchNorm),
    Probe(Category.NORMALISATION, lambda: nn.GroupNorm(2, 4), (2, 4, 8, 8), nn.GroupNorm),
    Probe(Category.NORMALISATION, lambda: nn.LayerNorm(32), (4, 32)),
    Probe(Category.SOFTMAX, _Softmax, (4, 32)),
    Probe(Category.ELEMENTWISE, nn.ReLU, (4, 32), nn.ReLU),
    Probe(Category.ELEMENTWISE, nn.GELU, (4, 32)),
    Probe(Category.REDUCTION, lambda: nn.MaxPool2d(2), (1, 4, 8, 8), nn.MaxPool2d),
    Probe(Category.REDUCTION, _Sum, (4, 32)),
)


def probes_for(model: nn.Module) -> list[Probe]:
    """One probe per category, matched to the module kinds the model holds."""
    kinds = {type(m) for m in model.modules()}
    chosen: dict[Category, Probe] = {}
    for probe in PROBES:
        if probe.category in chosen:
            continue
        if probe.kind is None or any(issubclass(k, probe.kind) for k in kinds):
            chosen[probe.category] = probe
    return list(chosen.values())


@dataclass(frozen=True)
class Reconciled:
    """One counter's reading beside ours, with the difference explained by category."""

    counter: str
    flop: int | None
    ours: int
    ratio: float | None
    unit_note: str
    explanations: tuple[str, ...]
    skipped: str | None = None
    version: str = ""

    def to_dict(self) -> dict:
        return {
            "counter": self.counter,
            "version": self.version,
            "flop": self.flop,
            "ours": self.ours,
            "ratio": self.ratio,
            "unit": self.unit_note,
            "explanation": list(self.explanations),
            "skipped": self.skipped,
        }


def coverage(adapter: Adapter, probes: Sequence[Probe], device: torch.device | str) -> dict[Category, float]:
    """The counter's reading / our count, per category, from one probe each."""
    ratios: dict[Category, float] = {}
    for probe in probes:
        torch.manual_seed(0)
        with torch.device(device):
            net = probe.make()
            x = torch.randn(probe.shape)
        ours = count_flops(net, (x,)).by_category[probe.category.value]
        reading = adapter(net, (x,))
        if reading.ok and ours:
            ratios[probe.category] = reading.total_flop / ours
    return ratios


def explain(ours: FlopCount, reading: CounterReading, ratios: dict[Category, float]) -> tuple[str, ...]:
    """Words for the difference between a counter's reading and our forward count."""
    lines = [reading.unit_note] if reading.unit_note and "converted" in reading.unit_note else []
    total = ours.by_phase["forward"]
    if not total:
        return tuple(lines)
    forward = ours.by_phase_category["forward"]
    expected = 0.0
    for category in Category:
        flop = forward[category.value]
        if not flop:
            continue
        ratio = ratios.get(category, 1.0)
        expected += ratio * flop
        share = (ratio - 1.0) * flop / total
        if abs(share) < SHOWN:
            continue
        if ratio < 0.005:
            lines.append(f"does not count {category.value}: {share:+.1%}")
        else:
            lines.append(f"counts {category.value} at {ratio:.2f}x ours: {share:+.1%}")
    residual = (reading.total_flop - expected) / total
    if abs(residual) > THRESHOLD:
        lines.append(f"unexplained by category coverage: {residual:+.1%}")
    return tuple(lines)


def reconcile(
    model: nn.Module,
    inputs: tuple,
    names: Sequence[str] | None = None,
    ours: FlopCount | None = None,
) -> list[Reconciled]:
    """Run the named external counters (all by default) and reconcile each with our count."""
    ours = ours or count_flops(model, inputs)
    device = next((x.device for x in inputs if isinstance(x, torch.Tensor)), torch.device("cpu"))
    ours_forward = ours.by_phase["forward"]
    rows = []
    for reading in run_counters(model, inputs, names):
        if not reading.ok:
            rows.append(Reconciled(reading.counter, None, ours_forward, None, reading.unit_note, (), reading.skipped, reading.version))
            continue
        ratio = reading.total_flop / ours_forward if ours_forward else None
        off = ratio is None or abs(ratio - 1.0) > THRESHOLD or "converted" in reading.unit_note
        ratios = coverage(ADAPTERS[reading.counter], probes_for(model), device) if off else {}
        rows.append(
            Reconciled(
                reading.counter,
                reading.total_flop,
                ours_forward,
                ratio,
                reading.unit_note,
                explain(ours, reading, ratios) if off else (),
                None,
                reading.version,
            )
        )
    return rows
