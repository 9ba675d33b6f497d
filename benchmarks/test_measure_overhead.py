"""The harness's own cost when it measures: timing marks (and, on GPU, the NVML thread) must add
under 1% to a measured step. Measured here on the CPU, a bare loop against `time_step` on the
same step, interleaved, in one run. (The GPU figure is in results/h100-bench/summary.md.)
"""

from __future__ import annotations

import statistics
import time

import torch

from harness.measure.timing import time_step

CPU = torch.device("cpu")
A = torch.randn(384, 384)


def _work() -> None:
    for _ in range(8):
        torch.mm(A, A)


def _step(mark) -> None:
    mark("start")
    _work()
    mark("forward")


def _bare(n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        _work()
    return (time.perf_counter() - start) / n


def test_timing_adds_under_one_percent(benchmark):
    n = 20
    _bare(5)
    ratios = []
    for _ in range(5):  # interleave to cancel drift
        bare = _bare(n)
        timed = time_step(_step, CPU, 0, n).mean
        ratios.append(timed / bare)
    result = benchmark.pedantic(lambda: time_step(_step, CPU, 0, n), rounds=3, iterations=1)
    ratio = statistics.median(ratios)
    benchmark.extra_info["harness_over_bare"] = ratio
    assert len(result.seconds) == n
    assert ratio < 1.01, f"timing added {ratio - 1:.2%} to the step"
