"""LSTM language model (Zaremba, Sutskever & Vinyals 2014, "Recurrent Neural Network
Regularization", medium configuration): 2 layers of 650 units, 10k-word Penn Treebank
vocabulary, unrolled 35 steps, untied input and output embeddings.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn


@dataclass(frozen=True)
class LSTMLMConfig:
    vocab_size: int = 10_000  # Penn Treebank word vocabulary
    d_hidden: int = 650  # embedding and hidden width (the "medium" model)
    n_layer: int = 2
    seq_len: int = 35  # unrolled steps of truncated backprop


class LSTMLM(nn.Module):
    def __init__(self, cfg: LSTMLMConfig) -> None:
        super().__init__()
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_hidden)
        self.lstm = nn.LSTM(cfg.d_hidden, cfg.d_hidden, num_layers=cfg.n_layer, batch_first=True)
        self.head = nn.Linear(cfg.d_hidden, cfg.vocab_size)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embed(idx))
        return self.head(out)


def example_inputs(cfg: LSTMLMConfig, batch: int, seq: int, device: str | torch.device) -> tuple:
    return (torch.randint(0, cfg.vocab_size, (batch, seq), device=device),)


PRESETS: dict[str, LSTMLMConfig] = {
    "lstm-lm": LSTMLMConfig(),
    "lstm-tiny": LSTMLMConfig(vocab_size=50, d_hidden=16, n_layer=2, seq_len=8),
}
