"""Timing: warm-up, per-iteration samples (CUDA events on GPU, perf_counter on CPU), raw
samples kept, statistics derived from them on demand.

A step marks phase boundaries by calling `mark(name)`; the timer turns consecutive marks into
per-phase durations. A step's time runs from its first mark to the next step's first mark (the
last step: to its last mark), so work between the phases and between steps (Python overhead,
host-side gaps) counts in the step, as it does in a training run's throughput. On CUDA every mark records an event on the current stream, so the GPU
work of each phase is timed without a synchronisation inside the step; one synchronisation
after the last iteration reads them all.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

Mark = Callable[[str], None]
Step = Callable[[Mark], None]


@dataclass(frozen=True)
class Samples:
    """Raw per-iteration seconds of a whole step and of each marked phase."""

    seconds: tuple[float, ...]
    phases: dict[str, tuple[float, ...]] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.seconds)

    @property
    def iqr(self) -> float:
        if len(self.seconds) < 4:
            return max(self.seconds) - min(self.seconds)
        q = statistics.quantiles(self.seconds, n=4)
        return q[2] - q[0]

    @property
    def cv(self) -> float:
        """Coefficient of variation: standard deviation / mean."""
        if len(self.seconds) < 2:
            return 0.0
        return statistics.stdev(self.seconds) / self.mean

    def phase_median(self, name: str) -> float | None:
        values = self.phases.get(name)
        return statistics.median(values) if values else None


class _CudaMarks:
    def __init__(self) -> None:
        self.events: list[list[tuple[str, torch.cuda.Event]]] = []

    def begin(self) -> Mark:
        row: list[tuple[str, torch.cuda.Event]] = []
        self.events.append(row)

        def mark(name: str) -> None:
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            row.append((name, event))

        return mark

    def durations(self) -> list[list[tuple[str, float]]]:
        torch.cuda.synchronize()
        return [[(n, a[1].elapsed_time(b) / 1e3) for (n, b), a in zip(row[1:], row)] for row in self.events]

    def step_starts(self) -> list[float]:
        """Seconds from the first step's first mark to each step's first mark."""
        first = self.events[0][0][1]
        return [first.elapsed_time(row[0][1]) / 1e3 for row in self.events]


class _ClockMarks:
    def __init__(self) -> None:
        self.times: list[list[tuple[str, float]]] = []

    def begin(self) -> Mark:
        row: list[tuple[str, float]] = []
        self.times.append(row)

        def mark(name: str) -> None:
            row.append((name, time.perf_counter()))

        return mark

    def durations(self) -> list[list[tuple[str, float]]]:
        return [[(n, b - a[1]) for (n, b), a in zip(row[1:], row)] for row in self.times]

    def step_starts(self) -> list[float]:
        return [row[0][1] for row in self.times]


def time_step(step: Step, device: torch.device, warmup: int, iterations: int) -> Samples:
    """Run `step` warmup + iterations times; return the timed iterations' samples.

    The step must call mark("start") first and mark(phase) at the end of each phase.
    """
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, not {iterations}")
    noop: Mark = lambda name: None  # noqa: E731
    for _ in range(warmup):
        step(noop)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    marks = _CudaMarks() if device.type == "cuda" else _ClockMarks()
    for _ in range(iterations):
        step(marks.begin())
    rows, starts = marks.durations(), marks.step_starts()
    phases: dict[str, list[float]] = {}
    for row in rows:
        for name, seconds in row:
            phases.setdefault(name, []).append(seconds)
    totals = [b - a for a, b in zip(starts, starts[1:])] + [sum(s for _, s in rows[-1])]
    return Samples(tuple(totals), {k: tuple(v) for k, v in phases.items()})
