"""`count_flops`: the public entry point of the counting engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import torch

from harness.conventions import OPTIMIZER_PER_PARAM, AttentionConvention, Category, Phase
from harness.counting.attention import AttentionHint
from harness.counting.engine import CountError, Tally, counting
from harness.counting.outputs import first_tensor as _first_tensor
from harness.counting.result import FlopCount, freeze

__all__ = ["CountError", "OPTIMIZERS", "count_flops"]

PhaseName = Literal["forward", "train"]
OPTIMIZERS = tuple(OPTIMIZER_PER_PARAM)


def count_flops(
    model: torch.nn.Module,
    inputs: tuple | torch.Tensor,
    phase: PhaseName = "forward",
    optimizer: str | None = None,
    loss_fn: Callable[[Any], torch.Tensor] | None = None,
    attention: Literal["full", "causal"] = "full",
    hint: AttentionHint | None = None,
) -> FlopCount:
    """Count the FLOP (2 per multiply-accumulate) of running `model(*inputs)`.

    phase="forward" runs the forward pass under no_grad. phase="train" runs the forward,
    the loss (`loss_fn(output)`, or the sum of the output's first tensor), the backward, and
    counts the optimizer step ("sgd", "adam", "adamw" or None) from its per-parameter cost in
    `harness.conventions.OPTIMIZER_PER_PARAM`, over every parameter that received a gradient.
    The step itself is not run, so the model's weights are left as they were; gradients the
    count created (on parameters and on leaf inputs) are cleared again.

    attention="causal" makes `total` count only the (query, key) pairs a mask keeps (the causal
    triangle, a sliding window, a boolean mask's True entries); the full square is kept beside it.
    `hint` is what the model declares about its masks (causality, a sliding window), used where
    a mask's values are unknown (the meta device).

    The same model gives the same integer on the meta device, on CPU and on CUDA. A model that
    reads tensor values cannot run on the meta device: that raises CountError, one line.
    """
    if phase not in ("forward", "train"):
        raise ValueError(f"phase must be 'forward' or 'train', not {phase!r}")
    if optimizer is not None and optimizer not in OPTIMIZER_PER_PARAM:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)} or None, not {optimizer!r}")
    if optimizer is not None and phase != "train":
        raise ValueError("an optimizer step is only counted with phase='train'")
    convention = AttentionConvention(attention)
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    tally = Tally(convention=convention, hint=hint or AttentionHint())
    params = [p for p in model.parameters() if p.requires_grad]
    leaves = params + [x for x in inputs if isinstance(x, torch.Tensor) and x.is_leaf and x.requires_grad]
    had_grad = {id(t) for t in leaves if t.grad is not None}

    try:
        with counting(model, tally):
            if phase == "forward":
                with torch.no_grad():
                    model(*inputs)
            else:
                with torch.enable_grad():
                    output = model(*inputs)
                    loss = loss_fn(output) if loss_fn is not None else _first_tensor(output).sum()
                if not loss.requires_grad:
                    raise ValueError("phase='train' needs parameters or inputs that require a gradient; this model has none")
                tally.phase = Phase.BACKWARD
                loss.backward()
        if optimizer is not None:
            tally.phase = Phase.OPTIMIZER
            per_param, _ = OPTIMIZER_PER_PARAM[optimizer]
            updated = sum(p.numel() for p in params if p.grad is not None)
            tally.add(f"optimizer.{optimizer}", {Category.OPTIMIZER: per_param * updated})
    finally:
        for t in leaves:
            if id(t) not in had_grad:
                t.grad = None

    return freeze(
        tally.by_phase_category,
        tally.by_module,
        tally.by_op,
        tally.uncounted,
        uncounted_elements=tally.uncounted_elements,
        counted_elements=tally.counted_elements,
        notes=tuple(tally.notes),
        convention=convention,
        causal_saved=tally.causal_saved,
        recompute=tally.recompute,
        device=_device_of(inputs, model),
        phase=phase,
    )


def _device_of(inputs: tuple, model: torch.nn.Module) -> str:
    for x in inputs:
        if isinstance(x, torch.Tensor):
            return x.device.type
    for p in model.parameters():
        return p.device.type
    return "cpu"
