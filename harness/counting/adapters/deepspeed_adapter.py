"""Adapter for DeepSpeed's `FlopsProfiler` (monkey-patches torch.nn.functional and friends).

Unit convention: in DeepSpeed 0.19.8 `FlopsProfiler.get_total_flops()` is already FLOP with
1 MAC = 2 FLOP, despite its docstring ("the number of multiply-accumulate operations"): the
per-op formulas in deepspeed/profiling/flops_profiler/profiler.py return `(2 * macs, macs)`
(e.g. `_linear_flops_compute`, `_matmul_flops_compute`, `_attn_flops_compute`) and
`get_total_flops` sums the first element, while `get_total_macs` sums the second. So the
total is passed through unchanged. It also includes non-MAC work (bias adds, elementwise
mul/add, activations, norms, softmax), so it is a superset of a pure 2*MAC count.

DeepSpeed replaces torch.nn.functional / torch / torch.Tensor functions globally while
profiling; `end_profile()` runs in a `finally` so they are always put back.
"""

from __future__ import annotations

import logging
import sys

import torch

from .base import CounterReading, skipped
from .torch_adapters import (
    FLOP_NO_CONVERSION,
    failure_reason,
    import_failure,
    isolated_run,
    silenced,
    tool_version,
)

NAME = "deepspeed"
_DEEPSPEED_LOGGER = "DeepSpeed"


def _repoint_deepspeed_logger() -> None:
    """DeepSpeed's logger binds `sys.stdout` when first imported; if that happened while we
    had stdout redirected, point its handlers back at the real stdout so later DeepSpeed
    logging elsewhere in the program is not silently swallowed."""
    for handler in logging.getLogger(_DEEPSPEED_LOGGER).handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            if handler.stream is not sys.stdout and handler.stream is not sys.stderr:
                handler.setStream(sys.stdout)


def _clear_call_stacks() -> None:
    """Empty DeepSpeed's module-level per-module call stacks. A forward that raised leaves
    the entries its pre-hooks pushed (the post-hooks never ran); drop them so the next
    profile starts fresh."""
    from deepspeed.profiling.flops_profiler import profiler as ds_profiler

    for stack_name in ("module_flop_count", "module_mac_count"):
        stack = getattr(ds_profiler, stack_name, None)
        if isinstance(stack, list):
            stack.clear()


def _import_flops_profiler() -> tuple[type, str]:
    """Import DeepSpeed quietly (it logs an accelerator warning on import)."""
    already_imported = "deepspeed" in sys.modules
    with silenced():
        import deepspeed
        from deepspeed.profiling.flops_profiler import FlopsProfiler
    if not already_imported:
        _repoint_deepspeed_logger()
    return FlopsProfiler, tool_version("deepspeed", deepspeed)


def count_deepspeed(model: torch.nn.Module, inputs: tuple) -> CounterReading:
    """Forward FLOP of `model(*inputs)` from DeepSpeed's FlopsProfiler (already 2 FLOP/MAC)."""
    try:
        flops_profiler_cls, version = _import_flops_profiler()
    except Exception as exc:  # noqa: BLE001 - an adapter never raises
        return import_failure(NAME, "deepspeed", "pip install deepspeed", exc)
    try:
        with isolated_run(model):
            prof = flops_profiler_cls(model)
            try:
                prof.start_profile()
                model(*inputs)
                total = int(prof.get_total_flops())
                macs = int(prof.get_total_macs())
            finally:
                prof.end_profile()
                _clear_call_stacks()
    except Exception as exc:  # noqa: BLE001
        return skipped(NAME, failure_reason(NAME, exc))
    return CounterReading(
        counter=NAME,
        total_flop=total,
        unit_note=FLOP_NO_CONVERSION + " (get_total_flops() is FLOP despite its docstring)",
        version=version,
        notes=(f"get_total_macs() = {macs} (x2 = {2 * macs} FLOP from MACs alone)",),
    )
