"""The model registry: every reference architecture the harness can build, by exact name.

`models` knows nothing of counting or timing. An entry builds its module on any device
(large models on "meta", where no memory is allocated) and makes example inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn

from models import convnet, gpt, lstm


class ModelInputError(ValueError):
    """A model name, batch size or sequence length the registry cannot honour."""


@dataclass(frozen=True)
class Entry:
    name: str
    family: str
    domain: str
    config: Any
    build_fn: Callable[[Any], nn.Module]
    inputs_fn: Callable[[Any, int, Any, Any], tuple]
    default_batch: int
    default_seq: int | None  # None: the model takes no sequence length
    max_seq: int | None = None

    def build(self, device: str | torch.device = "cpu") -> nn.Module:
        with torch.device(device):
            return self.build_fn(self.config)

    def inputs(self, batch: int | None = None, seq: int | None = None, device: str | torch.device = "cpu") -> tuple:
        batch = self.default_batch if batch is None else batch
        if batch < 1:
            raise ModelInputError(f"batch must be at least 1, not {batch}")
        if self.default_seq is None:
            if seq is not None:
                raise ModelInputError(f"{self.name} takes no sequence length; drop --seq")
        else:
            seq = self.default_seq if seq is None else seq
            if not 1 <= seq <= (self.max_seq or seq):
                raise ModelInputError(f"{self.name} takes a sequence length from 1 to {self.max_seq}, not {seq}")
        return self.inputs_fn(self.config, batch, seq, device)


def _gpt(name: str, default_batch: int = 1) -> Entry:
    cfg = gpt.PRESETS[name]
    return Entry(name, "gpt", "language", cfg, gpt.GPT, gpt.example_inputs, default_batch, cfg.block_size, cfg.block_size)


def _lstm(name: str) -> Entry:
    cfg = lstm.PRESETS[name]
    return Entry(name, "lstm-lm", "language", cfg, lstm.LSTMLM, lstm.example_inputs, 20, cfg.seq_len, None)


def _cnn(name: str) -> Entry:
    cfg = convnet.PRESETS[name]
    return Entry(name, "convnet", "vision", cfg, convnet.ConvNet, convnet.example_inputs, 8, None)


REGISTRY: dict[str, Entry] = {
    e.name: e
    for e in (
        _gpt("gpt2-small"),
        _gpt("gpt3-175b"),
        _gpt("gpt-tiny", default_batch=2),
        _lstm("lstm-lm"),
        _lstm("lstm-tiny"),
        _cnn("small-cnn"),
        _cnn("cnn-tiny"),
    )
}


def get(name: str) -> Entry:
    """The entry of that exact name, or an error listing the valid ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ModelInputError(f"unknown model {name!r}; choose one of: {', '.join(REGISTRY)}") from None
