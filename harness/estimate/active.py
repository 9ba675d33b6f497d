"""Active parameters of a mixture-of-experts row: what 6 N D needs instead of the total.

A token of a mixture of experts passes through only the experts it is routed to, so method 1's
N is the active parameters (Kaplan's 6 N D with the total overstates by total / active:
17x for DeepSeek-V3's 671B of which 37B are active). The dataset keeps only the total in
`Parameters`; the active count is read, where the row states it, from its parameters note
("37B activated", "17 billion active parameters") or from a name of the form `...-A22B`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Active", "active_parameters"]

_SCALE = {"b": 1e9, "billion": 1e9, "m": 1e6, "million": 1e6, "t": 1e12, "trillion": 1e12}
# "37B activated", "17B active parameters", "22 billion activated parameters", "3.6B active"
_NOTE = re.compile(r"(\d+(?:\.\d+)?)\s*(b|billion|m|million|t|trillion)\b\s*(?:parameters\s+)?(?:activ(?:e|ated))\b", re.I)
_NAME = re.compile(r"-A(\d+(?:\.\d+)?)B\b")  # Qwen3-235B-A22B


@dataclass(frozen=True)
class Active:
    parameters: float
    source: str  # where the figure was read


def active_parameters(model: str, total: float | None, note: str | None) -> Active | None:
    """The active parameters a row states, or None. A figure not below the total is ignored
    (it is not an active count of a sparse model)."""
    found: list[Active] = []
    if note:
        found += [Active(float(m.group(1)) * _SCALE[m.group(2).lower()], f"parameters note: '{m.group(0)}'")
                  for m in _NOTE.finditer(note)]
    found += [Active(float(m.group(1)) * 1e9, f"model name: '{m.group(0)[1:]}'") for m in _NAME.finditer(model)]
    for a in found:
        if total is None or a.parameters < total:
            return a
    return None
