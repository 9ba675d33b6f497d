"""Timing: warm-up, per-iteration samples (CUDA events where torch has them; elsewhere a device
synchronisation and perf_counter at every mark), raw samples kept, statistics derived on demand.

A step marks phase boundaries by calling `mark(name)`; the timer turns consecutive marks into
per-phase durations. A step's time runs from its first mark to the next step's first mark (the
last step: to its last mark), so work between the phases and between steps (Python overhead,
host-side gaps) counts in the step, as it does in a training run's throughput. On CUDA every
mark records an event on the current stream, so the GPU work of each phase is timed without a
synchronisation inside the step; one synchronisation after the last iteration reads them all.
On MPS, XPU and XLA a mark first waits for the device (`devices.synchronize`), then reads the
clock; on the CPU the wait is a no-op.

:func:`measure_step` is the one warm-up-then-sample loop every runner uses (single process and
each distributed rank): untimed steps first, then the timed ones inside the telemetry sampler.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch

from harness.measure.devices import has_events, synchronize

Mark = Callable[[str], None]
Step = Callable[[Mark], None]

NOISY_CV = 0.10
"""A measurement whose step times vary more than this (coefficient of variation) is marked noisy."""


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
    def cv(self) -> float | None:
        """Coefficient of variation: standard deviation / mean; None from a single sample."""
        if len(self.seconds) < 2:
            return None
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
    def __init__(self, device: torch.device) -> None:
        self.times: list[list[tuple[str, float]]] = []
        self.wait = device.type != "cpu"
        self.device = device

    def begin(self) -> Mark:
        row: list[tuple[str, float]] = []
        self.times.append(row)

        def mark(name: str) -> None:
            if self.wait:
                synchronize(self.device)
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
    synchronize(device)
    marks = _CudaMarks() if has_events(device) else _ClockMarks(device)
    for _ in range(iterations):
        step(marks.begin())
    rows, starts = marks.durations(), marks.step_starts()
    phases: dict[str, list[float]] = {}
    for row in rows:
        for name, seconds in row:
            phases.setdefault(name, []).append(seconds)
    totals = [b - a for a, b in zip(starts, starts[1:])] + [sum(s for _, s in rows[-1])]
    return Samples(tuple(totals), {k: tuple(v) for k, v in phases.items()})


class Sampler(Protocol):
    """Telemetry read while the timed steps run (harness.hardware.telemetry.Sampler)."""

    def __enter__(self) -> Any: ...
    def __exit__(self, *exc: Any) -> Any: ...
    def summary(self) -> dict[str, float]: ...


def measure_step(
    step: Step, device: torch.device, warmup: int, iterations: int, sampler: Sampler | None = None
) -> tuple[Samples, dict[str, float]]:
    """Warm up (untimed, outside the sampler), then time `iterations` steps inside the sampler.

    Returns the samples and the sampler's summary ({} without a sampler).
    """
    noop: Mark = lambda name: None  # noqa: E731
    for _ in range(warmup):
        step(noop)
    if sampler is None:
        return time_step(step, device, 0, iterations), {}
    with sampler:
        samples = time_step(step, device, 0, iterations)
    return samples, sampler.summary()
