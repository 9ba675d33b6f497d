"""T5 (Raffel et al. 2019, "Exploring the Limits of Transfer Learning with a Unified Text-to-Text
Transformer") and ProtT5 (Elnaggar et al. 2020, ProtTrans), which is T5 on amino acids.

Sec. 2.1 of T5: an encoder-decoder Transformer close to Vaswani et al. 2017, with
* a simplified layer normalisation: activations are only rescaled, no additive bias and no
  mean subtraction (RMS norm), applied to each sub-layer's input (pre-norm), and once more at
  the end of each stack;
* no bias terms in any dense layer; a ReLU feed-forward network (T5 v1.0);
* relative position embeddings: a scalar per head added to each attention logit, looked up by
  the bucket of the key-query offset (32 buckets, logarithmic up to 128 positions), shared
  across the layers of a stack; the decoder's buckets are one-directional. No absolute
  positions. In the released code the logits are not scaled by 1/sqrt(d_kv) (the scale is folded
  into the initialisation): `scale=1.0`;
* the input embedding shared by encoder, decoder and output layer; the output layer then sees
  the decoder's output scaled by d_model^-0.5 (Mesh TensorFlow's tied-embedding convention).

Attention runs through `F.scaled_dot_product_attention`; the relative position bias goes in as
a float `attn_mask` (and, in the decoder, together with the causal mask: SDPA takes one or the
other, so the decoder's self-attention is counted as the full square). The model takes
(src_ids, tgt_ids) and returns the decoder's logits at every target position. Dropout is left
out. models/moe.py builds the Switch Transformer from these blocks with another FFN.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from models._entry import Entry, Facts


@dataclass(frozen=True)
class T5Config:
    n_layer: int  # encoder blocks
    d_model: int
    d_kv: int  # width of each head (not d_model / n_head: 128 for the 3B and 11B models)
    n_head: int
    d_ff: int  # inner width of the ReLU feed-forward network
    n_dec_layer: int | None = None  # decoder blocks; None -> n_layer (the paper: same depth)
    vocab_size: int = 32128  # SentencePiece 32000 + 100 sentinels, padded to a multiple of 128
    rel_buckets: int = 32  # Sec. 2.1: "we use 32 embeddings"
    rel_max_distance: int = 128  # "... ranges up to offset 128 beyond which we assign all to the same"
    tie_embeddings: bool = True  # T5 (v1.0) shares input and output embeddings; T5.1.1 does not
    eps: float = 1e-6  # RMS norm epsilon of the released code

    @property
    def dec_layers(self) -> int:
        return self.n_dec_layer if self.n_dec_layer is not None else self.n_layer

    @property
    def inner(self) -> int:
        return self.n_head * self.d_kv


class T5LayerNorm(nn.Module):
    """x / sqrt(mean(x^2) + eps) * scale: no mean subtraction, no bias (Sec. 2.1)."""

    def __init__(self, d: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def relative_position_bucket(
    offset: torch.Tensor, bidirectional: bool, buckets: int, max_distance: int
) -> torch.Tensor:
    """Mesh TensorFlow's `_relative_position_bucket`: offset = key position - query position.

    Half the buckets hold exact offsets 0..n/2-1, the other half logarithmically larger ones up
    to max_distance; bidirectional attention splits the buckets between both signs.
    """
    bucket = torch.zeros_like(offset)
    if bidirectional:
        buckets //= 2
        bucket = bucket + (offset > 0).long() * buckets
        n = offset.abs()
    else:
        n = (-offset).clamp(min=0)
    exact = buckets // 2
    large = exact + (
        torch.log(n.float().clamp(min=1) / exact) / math.log(max_distance / exact) * (buckets - exact)
    ).long()
    large = large.clamp(max=buckets - 1)
    return bucket + torch.where(n < exact, n, large)


class RelativePositionBias(nn.Module):
    """One scalar per (bucket, head), shared by every layer of a stack."""

    def __init__(self, cfg: T5Config, bidirectional: bool) -> None:
        super().__init__()
        self.cfg, self.bidirectional = cfg, bidirectional
        self.table = nn.Embedding(cfg.rel_buckets, cfg.n_head)

    def forward(self, s_q: int, s_k: int, device: torch.device) -> torch.Tensor:
        """[1, H, s_q, s_k] float bias; the decoder's carries the causal mask (-inf above the diagonal)."""
        offset = torch.arange(s_k, device=device)[None, :] - torch.arange(s_q, device=device)[:, None]
        cfg = self.cfg
        buckets = relative_position_bucket(offset, self.bidirectional, cfg.rel_buckets, cfg.rel_max_distance)
        bias = self.table(buckets).permute(2, 0, 1)[None]
        if not self.bidirectional:
            causal = torch.full((s_q, s_k), float("-inf"), device=device).triu(1)
            bias = bias + causal
        return bias


class T5Attention(nn.Module):
    def __init__(self, cfg: T5Config) -> None:
        super().__init__()
        self.n_head, self.d_kv = cfg.n_head, cfg.d_kv
        self.q = nn.Linear(cfg.d_model, cfg.inner, bias=False)
        self.k = nn.Linear(cfg.d_model, cfg.inner, bias=False)
        self.v = nn.Linear(cfg.d_model, cfg.inner, bias=False)
        self.o = nn.Linear(cfg.inner, cfg.d_model, bias=False)

    def forward(
        self, x: torch.Tensor, memory: torch.Tensor | None = None, bias: torch.Tensor | None = None
    ) -> torch.Tensor:
        kv = x if memory is None else memory
        B, S, _ = x.shape
        T = kv.shape[1]
        q = self.q(x).view(B, S, self.n_head, self.d_kv).transpose(1, 2)
        k = self.k(kv).view(B, T, self.n_head, self.d_kv).transpose(1, 2)
        v = self.v(kv).view(B, T, self.n_head, self.d_kv).transpose(1, 2)
        if bias is not None:
            bias = bias.to(q.dtype)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=1.0)
        return self.o(y.transpose(1, 2).reshape(B, S, self.n_head * self.d_kv))


class DenseReluDense(nn.Module):
    """T5 v1.0 feed-forward: wo(relu(wi(x))), no biases."""

    def __init__(self, cfg: T5Config) -> None:
        super().__init__()
        self.wi = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.wo = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.wo(F.relu(self.wi(x)))


FFNFactory = Callable[[T5Config, int, bool], nn.Module]  # (config, layer index, decoder?) -> FFN


def dense_ffn(cfg: T5Config, index: int, decoder: bool) -> nn.Module:
    return DenseReluDense(cfg)


class T5Block(nn.Module):
    def __init__(self, cfg: T5Config, ffn: nn.Module, decoder: bool) -> None:
        super().__init__()
        self.norm1 = T5LayerNorm(cfg.d_model, cfg.eps)
        self.self_attn = T5Attention(cfg)
        self.norm2 = T5LayerNorm(cfg.d_model, cfg.eps) if decoder else None
        self.cross_attn = T5Attention(cfg) if decoder else None
        self.norm3 = T5LayerNorm(cfg.d_model, cfg.eps)
        self.ffn = ffn

    def forward(
        self, x: torch.Tensor, bias: torch.Tensor, memory: torch.Tensor | None = None
    ) -> torch.Tensor:
        x = x + self.self_attn(self.norm1(x), bias=bias)
        if self.cross_attn is not None:
            x = x + self.cross_attn(self.norm2(x), memory)  # no position bias across the stacks
        return x + self.ffn(self.norm3(x))


class T5Stack(nn.Module):
    def __init__(self, cfg: T5Config, decoder: bool, ffn: FFNFactory) -> None:
        super().__init__()
        depth = cfg.dec_layers if decoder else cfg.n_layer
        self.position_bias = RelativePositionBias(cfg, bidirectional=not decoder)
        self.blocks = nn.ModuleList(T5Block(cfg, ffn(cfg, i, decoder), decoder) for i in range(depth))
        self.final_norm = T5LayerNorm(cfg.d_model, cfg.eps)

    def forward(self, x: torch.Tensor, memory: torch.Tensor | None = None) -> torch.Tensor:
        S = x.shape[1]
        bias = self.position_bias(S, S, x.device)
        for block in self.blocks:
            x = block(x, bias, memory)
        return self.final_norm(x)


class T5(nn.Module):
    def __init__(self, cfg: T5Config, ffn: FFNFactory = dense_ffn) -> None:
        super().__init__()
        self.cfg = cfg
        self.shared = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.encoder = T5Stack(cfg, decoder=False, ffn=ffn)
        self.decoder = T5Stack(cfg, decoder=True, ffn=ffn)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        if cfg.tie_embeddings:
            self.head.weight = self.shared.weight

    def forward(self, src_ids: torch.Tensor, tgt_ids: torch.Tensor) -> torch.Tensor:
        memory = self.encoder(self.shared(src_ids))
        x = self.decoder(self.shared(tgt_ids), memory)
        if self.cfg.tie_embeddings:
            x = x * self.cfg.d_model**-0.5
        return self.head(x)


def example_inputs(cfg: T5Config, batch: int, seq: int | None, device: str | torch.device) -> tuple:
    """(src_ids, tgt_ids), both [batch, seq]. One length for inputs and targets: in span-corruption
    pre-training the targets are shorter (114 for 512 inputs); here both have `seq` tokens."""
    seq = seq or 512
    return (
        torch.randint(0, cfg.vocab_size, (batch, seq), device=device),
        torch.randint(0, cfg.vocab_size, (batch, seq), device=device),
    )


# Raffel et al. 2019, Sec. 3.7 ("Model sizes"): d_model = 1024, 24-layer encoder and decoder,
# d_kv = 128; "3B": d_ff = 16,384 and 32 heads; "11B": d_ff = 65,536 and 128 heads.
T5_3B = T5Config(n_layer=24, d_model=1024, d_kv=128, n_head=32, d_ff=16384)
T5_11B = T5Config(n_layer=24, d_model=1024, d_kv=128, n_head=128, d_ff=65536)
# Elnaggar et al. 2020 (ProtTrans), Table 2: ProtT5-XXL has T5-11B's shape (24 + 24 blocks,
# d_model 1024, d_ff 65536, 128 heads of 128) over single amino acids: a vocabulary of the
# residue letters and special tokens, padded with sentinel ids to 128 entries (the released
# checkpoint's vocab_size = 128).
PROT_T5_XXL = T5Config(n_layer=24, d_model=1024, d_kv=128, n_head=128, d_ff=65536, vocab_size=128)
TINY = T5Config(n_layer=1, d_model=32, d_kv=8, n_head=4, d_ff=64, vocab_size=101, n_dec_layer=2)


ENTRIES = [
    Entry(
        name="t5-3b",
        family="t5",
        domain="language",
        config=T5_3B,
        build_fn=T5,
        inputs_fn=example_inputs,
        default_batch=1,
        default_seq=512,
        max_seq=4096,
        tiny=TINY,
        facts=Facts(
            dataset_name="T5-3B",
            year=2019,
            published_parameters=2.8e9,
            parameters_source="Raffel et al. 2019, Sec. 3.7 ('around 2.8 billion parameters')",
            parameters_note=(
                "+1.8%: 2,851,598,336 instantiated with the shared 32128 x 1024 embedding; the paper's "
                "'around 2.8 billion' matches the 2.819B of the layers alone (the released checkpoint has "
                "2.85B)."
            ),
        ),
    ),
    Entry(
        name="t5-11b",
        family="t5",
        domain="language",
        config=T5_11B,
        build_fn=T5,
        inputs_fn=example_inputs,
        default_batch=1,
        default_seq=512,
        max_seq=4096,
        tiny=TINY,
        facts=Facts(
            dataset_name="T5-11B",
            year=2019,
            published_parameters=11e9,
            parameters_source="Raffel et al. 2019, Sec. 3.7 ('about 11 billion parameters')",
            parameters_note=(
                "+2.8%: 11,307,321,344 instantiated, as in the released checkpoint; the paper rounds ('about"
                " 11 billion'); the layers alone are 11.274B."
            ),
        ),
    ),
    Entry(
        name="prott5-xxl",
        family="t5",
        domain="biology",
        config=PROT_T5_XXL,
        build_fn=T5,
        inputs_fn=example_inputs,
        default_batch=1,
        default_seq=512,
        max_seq=4096,
        tiny=TINY,
        facts=Facts(
            dataset_name="ProtT5-XXL",
            year=2020,
            published_parameters=11e9,
            parameters_source="Elnaggar et al. 2020 (ProtTrans), Table 2 (ProtT5-XXL: 11B)",
            parameters_note=(
                "+2.5%: 11,274,553,344 instantiated: T5-11B's layers (11.274B) with a 128-entry embedding; "
                "the paper rounds to 11B."
            ),
        ),
    ),
]
