"""Sequence to sequence LSTM of Sutskever, Vinyals & Le 2014, "Sequence to Sequence Learning with
Neural Networks" (arXiv:1409.3215), Sec. 3.4 (training details).

Two deep LSTMs, one reading the (reversed) source sentence, one writing the target sentence from
the encoder's final state: 4 layers of 1000 cells each, 1000-dim word embeddings, an input
vocabulary of 160,000 English words and an output vocabulary of 80,000 French words, a naive
softmax over the 80,000 outputs. "The resulting LSTM has 384M parameters of which 64M are pure
recurrent connections (32M for the encoder LSTM and 32M for the decoder LSTM)."

One step here is one teacher-forced pass: the encoder reads the source, reversed (Sec. 3.3), the
decoder starts from the encoder's final (h, c) of every layer and reads the target shifted by
one, and the head gives the logits of every target position. Inputs: (source ids, target ids).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from models._entry import Entry, Facts


@dataclass(frozen=True)
class Seq2SeqConfig:
    src_vocab: int = 160_000  # English input vocabulary (Sec. 3.1)
    tgt_vocab: int = 80_000  # French output vocabulary (Sec. 3.1); out-of-vocabulary -> UNK
    d_embed: int = 1000  # "1000 dimensional word embeddings" (Sec. 3.4)
    d_hidden: int = 1000  # "1000 cells at each layer" (Sec. 3.4)
    n_layer: int = 4  # "deep LSTMs with 4 layers" (Sec. 3.4), encoder and decoder alike
    seq_len: int = 28  # words per sentence: the paper's data is 652M words in 12M pairs, 27 a side, + EOS
    reverse_source: bool = True  # "we reversed the order of the words in all source sentences" (Sec. 3.3)


class Seq2Seq(nn.Module):
    def __init__(self, cfg: Seq2SeqConfig) -> None:
        super().__init__()
        self.reverse_source = cfg.reverse_source
        self.src_embed = nn.Embedding(cfg.src_vocab, cfg.d_embed)
        self.tgt_embed = nn.Embedding(cfg.tgt_vocab, cfg.d_embed)
        self.encoder = nn.LSTM(cfg.d_embed, cfg.d_hidden, num_layers=cfg.n_layer, batch_first=True)
        self.decoder = nn.LSTM(cfg.d_embed, cfg.d_hidden, num_layers=cfg.n_layer, batch_first=True)
        self.head = nn.Linear(cfg.d_hidden, cfg.tgt_vocab)  # the naive 80k-way softmax's logits

    def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        if self.reverse_source:
            src = src.flip(1)
        _, state = self.encoder(self.src_embed(src))  # (h, c): [n_layer, B, H] each
        out, _ = self.decoder(self.tgt_embed(tgt), state)
        return self.head(out)


def example_inputs(cfg: Seq2SeqConfig, batch: int, seq: int | None, device: str | torch.device) -> tuple:
    """Source and target of `seq` tokens each."""
    seq = seq or cfg.seq_len
    src = torch.randint(0, cfg.src_vocab, (batch, seq), device=device)
    tgt = torch.randint(0, cfg.tgt_vocab, (batch, seq), device=device)
    return src, tgt


SUTSKEVER = Seq2SeqConfig()
TINY = Seq2SeqConfig(src_vocab=60, tgt_vocab=40, d_embed=12, d_hidden=16, n_layer=2, seq_len=6)

ENTRIES = [
    Entry(
        name="seq2seq-lstm",
        family="seq2seq",
        domain="language",
        config=SUTSKEVER,
        build_fn=Seq2Seq,
        inputs_fn=example_inputs,
        default_batch=1,
        default_seq=SUTSKEVER.seq_len,
        facts=Facts(
            dataset_name="Seq2Seq LSTM",
            year=2014,
            published_parameters=384e6,
            parameters_source="Sutskever et al. 2014, Sec. 3.4",
            parameters_note=(
                "+0.04%: 384.14M instantiated = embeddings 160M + 80M, softmax 80M (+80k bias), "
                "LSTMs 2 x 32M (+ 64k for nn.LSTM's two bias vectors). The dataset's 1.92e9 is the "
                "ensemble of 5 such LSTMs the best BLEU comes from (5 x 384M); one network is 384M"
            ),
        ),
        tiny=TINY,
    ),
]
