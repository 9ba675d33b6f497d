"""Compute harness: count, measure and reconcile the FLOP of ML models.

Importing `harness` loads nothing heavy: the counting engine (and torch) comes in on first use of
`count_flops` or `FlopCount`, the benchmarking API on first use of `bench`. So the pure layers
(`harness.hardware`, `harness.analytic`, `harness.estimate`) import without torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and editors only; nothing is imported at run time
    from harness.counting.api import count_flops
    from harness.counting.result import FlopCount
    from harness.measure.api import bench

__all__ = ["FlopCount", "bench", "count_flops"]
__version__ = "0.1.0"

# public name -> (module, attribute), imported on first access
_LAZY: dict[str, tuple[str, str]] = {
    "count_flops": ("harness.counting.api", "count_flops"),
    "FlopCount": ("harness.counting.result", "FlopCount"),
    "bench": ("harness.measure.api", "bench"),
}


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'harness' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # later accesses skip this hook
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
