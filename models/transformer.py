"""The encoder-decoder Transformer of Vaswani et al. 2017, "Attention Is All You Need".

Section 3: an encoder of N layers (self-attention, position-wise feed-forward) and a decoder of
N layers (causal self-attention, attention over the encoder output, feed-forward), each
sub-layer wrapped as LayerNorm(x + Sublayer(x)) (post-norm). Multi-head attention with h heads
of d_k = d_v = d_model / h; FFN(x) = max(0, x W1 + b1) W2 + b2 of inner width d_ff; sinusoidal
positions (Sec. 3.5) added to embeddings scaled by sqrt(d_model) (Sec. 3.4); one weight matrix
shared by the two embeddings and the pre-softmax linear layer (Sec. 3.4).

The same module, with `pre_norm=True` (x + Sublayer(LayerNorm(x)) and a final LayerNorm per
stack), is the Lingvo/GPipe Transformer of GShard's dense baseline (models/moe.py).

Dropout (P_drop, Sec. 5.4) and label smoothing are regularisation, not arithmetic of the
architecture; they are left out, as in models/gpt.py. The model takes (src_ids, tgt_ids)
and returns the decoder's logits for every target position (teacher forcing, as in training).
Attention runs through `F.scaled_dot_product_attention`; the decoder's self-attention with
`is_causal=True`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from models._entry import Entry, Facts


@dataclass(frozen=True)
class TransformerConfig:
    n_layer: int = 6  # N: encoder layers (Sec. 3.1: N = 6)
    n_dec_layer: int | None = None  # decoder layers; None -> n_layer (the paper: N = 6 both)
    d_model: int = 512  # d_model, also the embedding width
    d_ff: int = 2048  # inner width of the feed-forward network
    n_head: int = 8  # h; each head has d_k = d_v = d_model / h
    # Sec. 5.1: byte-pair encoding with "a shared source-target vocabulary of about 37000
    # tokens" (WMT 2014 En-De); the exact count is not given, 37000 is taken as is.
    vocab_size: int = 37000
    # Length of the sinusoid table. The encoding of Sec. 3.5 is defined for any position;
    # 1024 bounds the inputs the harness makes (tensor2tensor's default max_length is 256).
    max_len: int = 1024
    pre_norm: bool = False  # False: LayerNorm(x + Sublayer(x)) (Vaswani); True: Lingvo/GShard
    share_embeddings: bool = True  # Sec. 3.4: encoder, decoder and pre-softmax share one matrix

    @property
    def dec_layers(self) -> int:
        return self.n_dec_layer if self.n_dec_layer is not None else self.n_layer

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_head


def sinusoids(length: int, d_model: int) -> torch.Tensor:
    """Sec. 3.5: PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(...)."""
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    inv = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    table = torch.zeros(length, d_model)
    table[:, 0::2] = torch.sin(pos * inv)
    table[:, 1::2] = torch.cos(pos * inv)
    return table


class MultiHeadAttention(nn.Module):
    """Sec. 3.2.2: h heads, projections W^Q, W^K, W^V (d_model -> h d_k) and W^O, with biases.

    W^Q, W^K and W^V are stored stacked in one Linear where they read the same input (one
    matmul instead of three: the same FLOP, fewer ops to count on the meta device); in
    attention over the encoder output W^K and W^V read the memory and W^Q the decoder.
    """

    def __init__(self, d_model: int, n_head: int, cross: bool = False) -> None:
        super().__init__()
        self.n_head, self.d_head, self.cross = n_head, d_model // n_head, cross
        if cross:
            self.q = nn.Linear(d_model, d_model)
            self.kv = nn.Linear(d_model, 2 * d_model)
        else:
            self.qkv = nn.Linear(d_model, 3 * d_model)
        self.o = nn.Linear(d_model, d_model)

    def forward(
        self, x: torch.Tensor, memory: torch.Tensor | None = None, causal: bool = False
    ) -> torch.Tensor:
        B, S, d = x.shape
        if self.cross:
            q, (k, v) = self.q(x), self.kv(memory).chunk(2, dim=-1)
        else:
            q, k, v = self.qkv(x).chunk(3, dim=-1)

        def heads(t: torch.Tensor) -> torch.Tensor:  # [B, T, h d_k] -> [B, h, T, d_k]
            return t.reshape(B, -1, self.n_head, self.d_head).transpose(1, 2)

        y = F.scaled_dot_product_attention(heads(q), heads(k), heads(v), is_causal=causal)  # 1/sqrt(d_k)
        return self.o(y.transpose(1, 2).reshape(B, S, d))


class FeedForward(nn.Module):
    """Sec. 3.3: FFN(x) = max(0, x W1 + b1) W2 + b2."""

    def __init__(self, d_model: int, d_ff: int) -> None:
        super().__init__()
        self.w1 = nn.Linear(d_model, d_ff)
        self.w2 = nn.Linear(d_ff, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.relu(self.w1(x)))


class EncoderLayer(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.pre_norm = cfg.pre_norm
        self.attn = MultiHeadAttention(cfg.d_model, cfg.n_head)
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.ffn = FeedForward(cfg.d_model, cfg.d_ff)
        self.norm2 = nn.LayerNorm(cfg.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pre_norm:
            x = x + self.attn(self.norm1(x))
            return x + self.ffn(self.norm2(x))
        x = self.norm1(x + self.attn(x))
        return self.norm2(x + self.ffn(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.pre_norm = cfg.pre_norm
        self.self_attn = MultiHeadAttention(cfg.d_model, cfg.n_head)
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.cross_attn = MultiHeadAttention(cfg.d_model, cfg.n_head, cross=True)
        self.norm2 = nn.LayerNorm(cfg.d_model)
        self.ffn = FeedForward(cfg.d_model, cfg.d_ff)
        self.norm3 = nn.LayerNorm(cfg.d_model)

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        if self.pre_norm:
            x = x + self.self_attn(self.norm1(x), causal=True)
            x = x + self.cross_attn(self.norm2(x), memory)
            return x + self.ffn(self.norm3(x))
        x = self.norm1(x + self.self_attn(x, causal=True))
        x = self.norm2(x + self.cross_attn(x, memory))
        return self.norm3(x + self.ffn(x))


class Transformer(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.src_embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.tgt_embed = self.src_embed if cfg.share_embeddings else nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.register_buffer("positions", sinusoids(cfg.max_len, cfg.d_model), persistent=False)
        self.encoder = nn.ModuleList(EncoderLayer(cfg) for _ in range(cfg.n_layer))
        self.decoder = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.dec_layers))
        # pre-norm stacks end with a LayerNorm (the residual stream is otherwise never normed)
        self.enc_norm = nn.LayerNorm(cfg.d_model) if cfg.pre_norm else None
        self.dec_norm = nn.LayerNorm(cfg.d_model) if cfg.pre_norm else None
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        if cfg.share_embeddings:
            self.head.weight = self.src_embed.weight

    def embed(self, ids: torch.Tensor, table: nn.Embedding) -> torch.Tensor:
        S = ids.shape[1]
        if S > self.cfg.max_len:
            raise ValueError(f"sequence length {S} exceeds the position table of {self.cfg.max_len}")
        return table(ids) * math.sqrt(self.cfg.d_model) + self.positions[:S]

    def forward(self, src_ids: torch.Tensor, tgt_ids: torch.Tensor) -> torch.Tensor:
        memory = self.embed(src_ids, self.src_embed)
        for layer in self.encoder:
            memory = layer(memory)
        if self.enc_norm is not None:
            memory = self.enc_norm(memory)
        x = self.embed(tgt_ids, self.tgt_embed)
        for layer in self.decoder:
            x = layer(x, memory)
        if self.dec_norm is not None:
            x = self.dec_norm(x)
        return self.head(x)


def example_inputs(cfg: TransformerConfig, batch: int, seq: int | None, device: str | torch.device) -> tuple:
    """(src_ids, tgt_ids), both [batch, seq]: one length for source and target sentences."""
    seq = seq or 128
    return (
        torch.randint(0, cfg.vocab_size, (batch, seq), device=device),
        torch.randint(0, cfg.vocab_size, (batch, seq), device=device),
    )


BASE = TransformerConfig()  # Table 3, "base": N=6, d_model=512, d_ff=2048, h=8
BIG = TransformerConfig(d_model=1024, d_ff=4096, n_head=16)  # Table 3, "big": h=16, d_k=64
TINY = TransformerConfig(n_layer=2, d_model=32, d_ff=64, n_head=4, vocab_size=97, max_len=64)


ENTRIES = [
    Entry(
        name="transformer-base",
        family="transformer",
        domain="language",
        config=BASE,
        build_fn=Transformer,
        inputs_fn=example_inputs,
        default_batch=1,
        default_seq=128,
        max_seq=1024,
        tiny=TINY,
        facts=Facts(
            dataset_name="Transformer (base)",
            year=2017,
            published_parameters=65e6,
            parameters_source="Vaswani et al. 2017, Table 3 (base: 65 x 10^6)",
            parameters_note=(
                "-3.0%: 63,082,496 instantiated: with the shared 37000-token vocabulary of Sec. 5.1 and the "
                "layers of Table 3 (biases and LayerNorms included) the model has 63.1M weights; 65M needs "
                "~40.8k vocabulary entries (e.g. tensor2tensor's padded vocabulary), which Table 3's big "
                "model (213M, matched within 0.6% by 37000) rules out. 37000 is kept for both."
            ),
        ),
    ),
    Entry(
        name="transformer-big",
        family="transformer",
        domain="language",
        config=BIG,
        build_fn=Transformer,
        inputs_fn=example_inputs,
        default_batch=1,
        default_seq=128,
        max_seq=1024,
        tiny=TINY,
        facts=Facts(
            dataset_name="Transformer",
            year=2017,
            published_parameters=213e6,
            parameters_source="Vaswani et al. 2017, Table 3 (big: 213 x 10^6)",
        ),
    ),
]
