"""What a zoo entry holds: a builder, example inputs, and the published facts with sources."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn

TINY_SEQ = 16  # the sequence length used with a config other than the entry's own, unless given


class ModelInputError(ValueError):
    """A model name, batch size or sequence length the registry cannot honour."""


@dataclass(frozen=True)
class Facts:
    """Published facts about a system, each with its source. The training run (tokens, examples,
    hardware, ...) is recorded once, as data: `harness/estimate/training_runs.toml`."""

    dataset_name: str  # the system's name in the dataset's `Model` column
    year: int
    published_parameters: float
    parameters_source: str
    parameters_note: str = ""  # why the instantiated count differs from the published one, by how much


@dataclass(frozen=True)
class Entry:
    """One reference architecture: build it from `config`, make inputs, know its facts.

    `family` names the analytic formula of `harness.analytic` that describes it;
    `tiny` is a config of the same family small enough for the CPU test suite.
    """

    name: str
    family: str
    domain: str
    config: Any
    build_fn: Callable[[Any], nn.Module]
    inputs_fn: Callable[[Any, int, int | None, Any], tuple]
    default_batch: int = 1
    default_seq: int | None = None  # None: the model takes no sequence length
    max_seq: int | None = None
    facts: Facts | None = None
    tiny: Any = None

    def build(self, device: str | torch.device = "cpu", config: Any = None) -> nn.Module:
        with torch.device(device):
            return self.build_fn(config if config is not None else self.config)

    def inputs(
        self,
        batch: int | None = None,
        seq: int | None = None,
        device: str | torch.device = "cpu",
        config: Any = None,
    ) -> tuple:
        batch = self.default_batch if batch is None else batch
        if config is not None and seq is None and self.default_seq is not None:
            seq = min(self.default_seq, TINY_SEQ)  # another config (a tiny one): a short sequence
        if batch < 1:
            raise ModelInputError(f"batch must be at least 1, not {batch}")
        if self.default_seq is None:
            if seq is not None:
                raise ModelInputError(f"{self.name} takes no sequence length; drop --seq")
        else:
            seq = self.default_seq if seq is None else seq
            if config is None and not 1 <= seq <= (self.max_seq or seq):
                raise ModelInputError(f"{self.name} takes a sequence length from 1 to {self.max_seq}, not {seq}")
        return self.inputs_fn(config if config is not None else self.config, batch, seq, device)
