"""Adapters for ptflops' two backends ('pytorch' module hooks, 'aten' dispatch mode).

Unit convention: ptflops returns multiply-accumulates, so both adapters multiply by 2 to
return FLOP with 1 MAC = 2 FLOP.

How ptflops 0.7.5 calls the model (ptflops/pytorch_engine.py, ptflops/aten_engine.py):
`batch = input_constructor(input_res)`, then `model(**batch)` for a dict, else `model(batch)`.
Both backends catch any exception, print it and return (None, None).

To run `model(*inputs)` the adapters hand ptflops a `_CallWithInputs` module whose forward
ignores the one positional dummy and calls the real model:

* The dummy has length 1 on purpose. The pytorch backend divides the MACs gathered by module
  hooks by `__batch_counter__` (the `len()` of the top module's first positional input),
  i.e. it reports per-sample MACs for hooked modules, yet adds functional/tensor-op MACs
  undivided. With a length-1 dummy the divisor is 1, so the result is the whole forward.
* pytorch backend: the real model is a registered child so ptflops' hooks reach its modules
  (ptflops removes them afterwards).
* aten backend: the real model is NOT registered as a child. ptflops' aten engine adds
  forward hooks to the top module's children and never removes them; hiding the model keeps
  them off it. Counting does not need them (the dispatch mode sees every aten op).
* Both backends call `.eval()` on the top module; the wrapper's `train()` does not recurse,
  so the model is counted in the mode it was given.
"""

from __future__ import annotations

from typing import Any

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

_DUMMY_RES: tuple[int, ...] = (1,)


class _CallWithInputs(torch.nn.Module):
    """Module whose forward(dummy) is `model(*inputs)`; remembers any exception it raised."""

    def __init__(self, model: torch.nn.Module, inputs: tuple, register_model: bool) -> None:
        super().__init__()
        if register_model:
            self.model = model
        else:
            self._hidden = (model,)  # a tuple attribute is not a registered submodule
        self._inputs = tuple(inputs)
        self.error: BaseException | None = None

    def _target(self) -> torch.nn.Module:
        return self.model if "model" in self._modules else self._hidden[0]

    def forward(self, _dummy: Any) -> Any:
        try:
            return self._target()(*self._inputs)
        except Exception as exc:
            self.error = exc
            raise

    def train(self, mode: bool = True) -> _CallWithInputs:
        """Leave the wrapped model's train/eval mode alone (ptflops calls `.eval()`)."""
        self.training = mode
        return self


def _run_ptflops(model: torch.nn.Module, inputs: tuple, backend: str) -> CounterReading:
    name = f"ptflops-{backend}"
    try:
        with silenced():
            import ptflops
            from ptflops import get_model_complexity_info
    except Exception as exc:  # noqa: BLE001 - an adapter never raises
        return import_failure(name, "ptflops", "pip install ptflops", exc)
    version = tool_version("ptflops", ptflops)
    try:
        wrapper = _CallWithInputs(model, inputs, register_model=(backend == "pytorch"))
        dummy = torch.zeros(_DUMMY_RES)
        with isolated_run(model):
            macs, _params = get_model_complexity_info(
                wrapper,
                _DUMMY_RES,
                input_constructor=lambda _res: dummy,
                as_strings=False,
                print_per_layer_stat=False,
                verbose=False,
                backend=backend,
            )
    except Exception as exc:  # noqa: BLE001
        return skipped(name, failure_reason(name, exc))
    if macs is None:
        if wrapper.error is not None:
            return skipped(name, failure_reason(name, wrapper.error))
        return skipped(name, f"{name} failed: ptflops returned no count")
    return CounterReading(
        counter=name,
        total_flop=2 * int(macs),
        unit_note=MACS_CONVERTED,
        version=version,
    )


def count_ptflops_pytorch(model: torch.nn.Module, inputs: tuple) -> CounterReading:
    """Forward FLOP of `model(*inputs)` from ptflops' 'pytorch' backend (MACs x2)."""
    return _run_ptflops(model, inputs, "pytorch")


def count_ptflops_aten(model: torch.nn.Module, inputs: tuple) -> CounterReading:
    """Forward FLOP of `model(*inputs)` from ptflops' 'aten' backend (MACs x2)."""
    return _run_ptflops(model, inputs, "aten")
