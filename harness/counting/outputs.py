"""The tensor a model's output is reduced to for a backward pass: one rule for counting and timing."""

from __future__ import annotations

from typing import Any

import torch


def first_tensor(output: Any) -> torch.Tensor:
    """The first tensor of an output, depth first through tuples, lists and dicts.

    A Hugging Face ModelOutput is a dict whose first value is `loss` when labels were given.
    """
    if isinstance(output, torch.Tensor):
        return output
    items = list(output.values()) if isinstance(output, dict) else output
    if isinstance(items, (tuple, list)):
        for item in items:
            if isinstance(item, torch.Tensor):
                return item
            if isinstance(item, (tuple, list, dict)):
                try:
                    return first_tensor(item)
                except TypeError:
                    continue
    raise TypeError("the model's output holds no tensor to reduce into a loss: pass loss_fn")
