"""Closed-form FLOP formulas from papers: pure Python, no torch.

`formulas` holds the published estimators (Epoch's 2 x connections x 3 x examples x epochs,
Kaplan's 6N, Chinchilla's Appendix F, PaLM's 6N + 12LHQT, Korthikanti's model FLOPs, a
per-layer convnet count). `families/` holds one module per zoo family whose `FORMULAS` map a
family name to its analytic forward count, broken down by component; `breakdown()` finds it.
Configs are read by attribute, so this package never imports the models (or torch).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

from harness.analytic.breakdown import Breakdown, Component, by_category

FamilyFormula = Callable[[Any, int, "int | None"], Breakdown]

__all__ = ["Breakdown", "Component", "FAMILIES", "breakdown", "by_category"]


def _collect() -> dict[str, FamilyFormula]:
    from harness.analytic import families

    found: dict[str, FamilyFormula] = {}
    for info in sorted(pkgutil.iter_modules(families.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{families.__name__}.{info.name}")
        for name, fn in getattr(module, "FORMULAS", {}).items():
            if name in found:
                raise ValueError(f"two analytic formulas for family {name!r}")
            found[name] = fn
    return found


FAMILIES: dict[str, FamilyFormula] = _collect()


def breakdown(family: str, config: Any, batch: int, seq: int | None = None) -> Breakdown:
    """The analytic forward FLOP of one step of `family` at this config, by component."""
    try:
        fn = FAMILIES[family]
    except KeyError:
        raise KeyError(f"no analytic formula for family {family!r}; known: {', '.join(FAMILIES)}") from None
    return fn(config, batch, seq)
