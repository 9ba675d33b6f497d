"""Word-level LSTM language models of Zaremba, Sutskever & Vinyals 2014, "Recurrent Neural
Network Regularization" (arXiv:1409.2329), Sec. 4.1 (Penn Treebank).

The paper's networks: a word embedding as wide as the hidden state, L stacked LSTM layers of H
units, a softmax over the 10k-word vocabulary; input and output embeddings untied (tying came
later, Press & Wolf 2016); unrolled 35 steps, minibatches of 20.

    medium: L = 2, H = 650   ("lstm-lm")
    large:  L = 2, H = 1500  ("zaremba-lstm-large")

Each LSTM layer has the two bias vectors of the original Torch code (i2h and h2h are both
`nn.Linear` with bias), which is also what `nn.LSTM` holds. Dropout (50% medium, 65% large, on
the non-recurrent connections only) is left out: it changes no matmul, and leaving it out keeps
the count of one step deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from models._entry import Entry, Facts


@dataclass(frozen=True)
class LSTMLMConfig:
    vocab_size: int = 10_000  # V: the Penn Treebank word vocabulary (Mikolov's preprocessing)
    d_hidden: int = 650  # H: hidden units per layer, also the embedding width (Sec. 4.1)
    n_layer: int = 2  # L: both the medium and the large model are two layers deep
    seq_len: int = 35  # T: steps unrolled for truncated backprop (Sec. 4.1)


class LSTMLM(nn.Module):
    def __init__(self, cfg: LSTMLMConfig) -> None:
        super().__init__()
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_hidden)
        self.lstm = nn.LSTM(cfg.d_hidden, cfg.d_hidden, num_layers=cfg.n_layer, batch_first=True)
        self.head = nn.Linear(cfg.d_hidden, cfg.vocab_size)  # untied output embedding + bias

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embed(idx))
        return self.head(out)


def example_inputs(cfg: LSTMLMConfig, batch: int, seq: int | None, device: str | torch.device) -> tuple:
    return (torch.randint(0, cfg.vocab_size, (batch, seq or cfg.seq_len), device=device),)


MEDIUM = LSTMLMConfig()
LARGE = LSTMLMConfig(d_hidden=1500)
TINY = LSTMLMConfig(vocab_size=50, d_hidden=16, n_layer=2, seq_len=8)

_PTB_TOKENS = 929_000  # Penn Treebank training words (Sec. 4.1, Mikolov et al. 2010 split)
_SOURCE = "Zaremba et al. 2014, Sec. 4.1"

ENTRIES = [
    Entry(
        name="lstm-lm",
        family="lstm-lm",
        domain="language",
        config=MEDIUM,
        build_fn=LSTMLM,
        inputs_fn=example_inputs,
        default_batch=20,
        default_seq=MEDIUM.seq_len,
        facts=Facts(
            dataset_name="Medium regularized LSTM",
            year=2014,
            published_parameters=20e6,
            parameters_source="Inan et al. 2016 (arXiv:1611.01462), Table 3; Zaremba et al. give no count",
            parameters_note=(
                "-1.1%: 19,780,400 instantiated (embedding 6.5M + LSTM 6.77M + softmax 6.51M); the published"
                " 20M is rounded"
            ),
        ),
        tiny=TINY,
    ),
    Entry(
        name="zaremba-lstm-large",
        family="lstm-lm",
        domain="language",
        config=LARGE,
        build_fn=LSTMLM,
        inputs_fn=example_inputs,
        default_batch=20,
        default_seq=LARGE.seq_len,
        facts=Facts(
            dataset_name="Large regularized LSTM",
            year=2014,
            published_parameters=66e6,
            parameters_source="Inan et al. 2016 (arXiv:1611.01462), Table 3; Zaremba et al. give no count",
            parameters_note="+0.05%: 66.03M instantiated (embedding 15M + LSTM 36.02M + softmax 15.01M)",
        ),
        tiny=TINY,
    ),
]
