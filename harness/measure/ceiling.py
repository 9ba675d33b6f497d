"""Measured ceilings: the FLOP/s a large matmul reaches per precision, and a device copy's bytes/s.

On a GPU these are set beside the datasheet peak (a ratio above 1 means the table is wrong);
on a CPU, where no datasheet figure applies, the measured matmul ceiling is the reference.
Matmuls use random data (zeros run faster on some GPUs and flatter the ceiling).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from harness.measure.precision import Precision, active
from harness.measure.timing import Mark, Samples, time_step

GPU_N = 8192  # 8192^3 matmul: large enough to saturate an H100's tensor cores
CPU_N = 1024


@dataclass(frozen=True)
class Ceiling:
    kind: str  # "matmul" or "copy"
    precision: str | None
    size: int  # n of the n^3 matmul, or bytes copied
    samples: Samples
    per_s: float  # FLOP/s (matmul) or bytes/s read + written (copy), at the median

    @property
    def cv(self) -> float:
        return self.samples.cv


def matmul_ceiling(
    device: torch.device, precision: Precision, n: int | None = None, warmup: int = 3, iterations: int = 10
) -> Ceiling:
    """Median FLOP/s of an n x n x n matmul in the precision's format: 2 n^3 FLOP each."""
    n = n or (CPU_N if device.type == "cpu" else GPU_N)
    dtype = precision.autocast_dtype or torch.float32
    gen = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(n, n, device=device, dtype=dtype, generator=gen)
    b = torch.randn(n, n, device=device, dtype=dtype, generator=gen)

    def step(mark: Mark) -> None:
        mark("start")
        torch.mm(a, b)
        mark("matmul")

    with active(precision, device):
        samples = time_step(step, device, warmup, iterations)
    return Ceiling("matmul", precision.name, n, samples, 2 * n**3 / samples.median)


def copy_ceiling(device: torch.device, nbytes: int | None = None, warmup: int = 3, iterations: int = 10) -> Ceiling:
    """Median bytes/s of a device-to-device copy, counting bytes read and written."""
    nbytes = nbytes or (1 << 27 if device.type == "cpu" else 1 << 30)
    src = torch.empty(nbytes, dtype=torch.uint8, device=device).random_(0, 255)
    dst = torch.empty_like(src)

    def step(mark: Mark) -> None:
        mark("start")
        dst.copy_(src)
        mark("copy")

    samples = time_step(step, device, warmup, iterations)
    return Ceiling("copy", None, nbytes, samples, 2 * nbytes / samples.median)
