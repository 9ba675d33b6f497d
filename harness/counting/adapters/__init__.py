"""Adapters that run public FLOP counters on a model's forward pass.

Every adapter returns a `CounterReading` in FLOP with 1 multiply-accumulate = 2 FLOP; tools
that report MACs (fvcore, ptflops) are converted x2 inside their adapter. Importing this
package imports none of the third-party tools: each adapter imports its tool when called, so
a tool that is missing only skips its own counter.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from .base import Adapter, CounterReading, skipped
from .deepspeed_adapter import count_deepspeed
from .fvcore_adapter import count_fvcore
from .ptflops_adapter import count_ptflops_aten, count_ptflops_pytorch
from .torch_adapters import count_flop_counter_mode, count_torch_profiler

ADAPTERS: dict[str, Adapter] = {
    "fvcore": count_fvcore,
    "ptflops-pytorch": count_ptflops_pytorch,
    "ptflops-aten": count_ptflops_aten,
    "flopcountermode": count_flop_counter_mode,
    "torch-profiler": count_torch_profiler,
    "deepspeed": count_deepspeed,
}


def resolve_names(names: Iterable[str] | None = None) -> list[str]:
    """The requested counter names in registry order (all when `names` is None).

    Raises ValueError naming the valid counters if any name is unknown.
    """
    if names is None:
        return list(ADAPTERS)
    if isinstance(names, str):
        names = [names]
    requested = set(names)
    unknown = sorted(requested - ADAPTERS.keys())
    if unknown:
        raise ValueError(
            f"unknown counter name(s) {unknown}; valid names: {', '.join(ADAPTERS)}"
        )
    return [name for name in ADAPTERS if name in requested]


def run_counters(
    model: torch.nn.Module,
    inputs: tuple,
    names: Iterable[str] | None = None,
) -> list[CounterReading]:
    """Run the named counters (all by default) on `model(*inputs)`, in registry order.

    Each adapter restores the model (hooks, train/eval flags) and the torch globals it
    patched before returning, so every counter starts from the same state. Totals are FLOP
    (2 per MAC). Unknown names raise ValueError before anything runs.
    """
    return [ADAPTERS[name](model, tuple(inputs)) for name in resolve_names(names)]


__all__ = [
    "ADAPTERS",
    "Adapter",
    "CounterReading",
    "count_deepspeed",
    "count_flop_counter_mode",
    "count_fvcore",
    "count_ptflops_aten",
    "count_ptflops_pytorch",
    "count_torch_profiler",
    "resolve_names",
    "run_counters",
    "skipped",
]
