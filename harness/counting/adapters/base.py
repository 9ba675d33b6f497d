"""The contract every external counter's adapter fulfils.

An adapter runs one public FLOP counter on a model's forward pass and returns a
`CounterReading` in the harness's unit (1 multiply-accumulate = 2 FLOP). The conversion
from the tool's own unit happens inside the adapter, once, and is stated in `unit_note`.
A counter that is not installed or fails is returned as a reading with `skipped` set to the
reason; an adapter never raises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class CounterReading:
    """One external counter's forward count of one model, in FLOP (2 per MAC)."""

    counter: str
    total_flop: int | None
    unit_note: str = ""
    version: str = ""
    skipped: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.skipped is None and self.total_flop is not None


Adapter = Callable[[torch.nn.Module, tuple], CounterReading]


def skipped(counter: str, reason: str) -> CounterReading:
    """A reading for a counter that could not run, with the one-line reason."""
    return CounterReading(counter=counter, total_flop=None, skipped=reason)
