"""Adapter for fvcore's `FlopCountAnalysis` (JIT-trace based).

Unit convention: fvcore's "flops" are multiply-accumulates (one per MAC), so the adapter
multiplies its total by 2 to return FLOP with 1 MAC = 2 FLOP. Ops fvcore has no handle for
are counted as zero and listed in `notes` as "unsupported: <op> x<count>".
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from .base import CounterReading, skipped
from .torch_adapters import (
    MACS_CONVERTED,
    failure_reason,
    import_failure,
    isolated_run,
    silenced,
    tool_version,
)

NAME = "fvcore"


def unsupported_notes(unsupported: Mapping[str, int]) -> tuple[str, ...]:
    """Format fvcore's unsupported-op counter as sorted "unsupported: <op> x<n>" strings."""
    return tuple(f"unsupported: {op} x{int(n)}" for op, n in sorted(unsupported.items()))


def count_fvcore(model: torch.nn.Module, inputs: tuple) -> CounterReading:
    """Forward FLOP of `model(*inputs)` from fvcore (its MAC total x2)."""
    try:
        with silenced():
            import fvcore
            from fvcore.nn import FlopCountAnalysis
    except Exception as exc:  # noqa: BLE001 - an adapter never raises
        return import_failure(NAME, "fvcore", "pip install fvcore", exc)
    version = tool_version("fvcore", fvcore)
    try:
        with isolated_run(model):
            analysis = (
                FlopCountAnalysis(model, tuple(inputs))
                .unsupported_ops_warnings(False)
                .uncalled_modules_warnings(False)
                .tracer_warnings("none")
            )
            macs = int(analysis.total())
            unsupported = dict(analysis.unsupported_ops())
    except Exception as exc:  # noqa: BLE001
        return skipped(NAME, failure_reason(NAME, exc))
    return CounterReading(
        counter=NAME,
        total_flop=2 * macs,
        unit_note=MACS_CONVERTED,
        version=version,
        notes=unsupported_notes(unsupported),
    )
