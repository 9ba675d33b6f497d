"""Speed and memory of the counter on the largest model: GPT-3 175B shapes on the meta device.

Targets: forward + backward + Adam step counted in at most 2.5x the time torch's
FlopCounterMode takes for the forward alone (both measured in this run), and under 1.5 GB
peak memory. Run: python -m pytest benchmarks
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

import models
from harness import count_flops

ROUNDS = 3


def _gpt3():
    entry = models.get("gpt3-175b")
    return entry.build("meta"), entry.inputs(1, 2048, "meta")


def _flop_counter_mode_forward(net, x) -> int:
    with FlopCounterMode(display=False) as fcm, torch.no_grad():
        net(*x)
    return fcm.get_total_flops()


def _median_seconds(fn, rounds: int = ROUNDS) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def test_train_count_within_2_5x_of_flop_counter_mode_forward(benchmark):
    net, x = _gpt3()
    _flop_counter_mode_forward(net, x)  # warm both paths
    count_flops(net, x, phase="train", optimizer="adam")
    reference = _median_seconds(lambda: _flop_counter_mode_forward(net, x))
    result = benchmark.pedantic(
        lambda: count_flops(net, x, phase="train", optimizer="adam"), rounds=ROUNDS, iterations=1
    )
    ours = benchmark.stats.stats.median
    ratio = ours / reference
    benchmark.extra_info.update(flop_counter_mode_forward_s=reference, ratio=ratio)
    assert result.by_phase["backward"] > result.by_phase["forward"] > 0
    assert ratio <= 2.5, f"train count took {ratio:.2f}x FlopCounterMode's forward"


_PEAK = """
import resource, models
from harness import count_flops
e = models.get("gpt3-175b")
count_flops(e.build("meta"), e.inputs(1, 2048, "meta"), phase="train", optimizer="adam")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def test_train_count_peak_memory_under_1_5_gb():
    out = subprocess.run([sys.executable, "-c", _PEAK], capture_output=True, text=True, check=True)
    peak_kib = int(out.stdout.strip().splitlines()[-1])  # ru_maxrss is KiB on Linux
    assert peak_kib * 1024 < 1.5e9, f"peak RSS {peak_kib / 2**20:.2f} GiB"
