"""Will a step fit? An estimate of its memory from the meta device, checked before anything is built.

The estimate is a floor, not a forecast: parameters, plus for a training step their gradients
and AdamW's two moments (4 + 4 + 8 bytes per fp32 parameter), plus the activations a forward
keeps for the backward, taken as the outputs of every leaf module in a meta-device forward (4
bytes an element, the fp32 master format; autocast keeps some in 16 bits, so this errs high for
activations and low for everything the allocator adds). A model whose floor exceeds the memory
available is refused in one line instead of being built until the machine swaps or the kernel
kills it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.nn as nn

BYTES_PER_PARAMETER = {"inference": 4, "train": 4 + 4 + 8}  # weights; + gradients + AdamW's m and v
BYTES_PER_ACTIVATION = 4


@dataclass(frozen=True)
class MemoryEstimate:
    parameters: int
    activation_elements: int  # at the batch estimated
    phase: str

    @property
    def bytes(self) -> int:
        kept = self.activation_elements if self.phase == "train" else 0
        return self.parameters * BYTES_PER_PARAMETER[self.phase] + kept * BYTES_PER_ACTIVATION


def leaf_output_elements(model: nn.Module, inputs: tuple) -> int:
    """Elements of every leaf module's outputs in one forward (run it on meta: no memory used)."""
    total = 0

    def hook(module: nn.Module, args: object, out: object) -> None:
        nonlocal total
        outs = out if isinstance(out, (tuple, list)) else (out,)
        total += sum(o.numel() for o in outs if isinstance(o, torch.Tensor))

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
    return total


def estimate(model: nn.Module, inputs: tuple, phase: str) -> MemoryEstimate:
    """The floor of a step's memory, from a meta-device model and inputs."""
    parameters = sum(p.numel() for p in model.parameters())
    activations = leaf_output_elements(model, inputs) if phase == "train" else 0
    return MemoryEstimate(parameters, activations, phase)


def available_bytes(device: torch.device) -> int | None:
    """Memory free for a step on `device` now: MemAvailable on the CPU, free memory on CUDA; else None."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    if device.type == "cpu":
        try:
            with open("/proc/meminfo") as f:
                for line in f:
                    if line.startswith("MemAvailable:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        try:
            return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    return None


def gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"
