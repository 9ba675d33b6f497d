"""Forward FLOP of the encoder and encoder-decoder Transformers of the zoo, by component.

Families: "transformer" (Vaswani et al. 2017), "gshard" (its pre-norm form, GShard's dense
T(96L), Lepikhin et al. 2020), "bert" (Devlin et al. 2018; DistilBERT, Sanh et al. 2019),
"t5" (Raffel et al. 2019; ProtT5, Elnaggar et al. 2020) and "switch" (Fedus et al. 2021).
Configs are read by attribute; `seq` is the length of the source and of the target alike.

Terms, with 2 FLOP per multiply-accumulate (B batch, S tokens per sequence, d model width):
* a dense layer d_in -> d_out on R rows: 2 R d_in d_out (matmul; biases are elementwise and
  left out here, as are activations, residual adds, embedding scaling and position adds);
* attention of H heads of width d_h, s_q queries over s_k keys: Q K^T and P V,
  2 B H s_q s_k (d_h + d_h) (attention; the full square, also for the causal decoder, the
  convention the harness counts by default) and a softmax of 3 FLOP per score (softmax,
  Chinchilla App. F);
* LayerNorm with scale and shift: 5 + 2 FLOP per element (normalisation, the harness's
  convention); T5's RMS norm is built from elementwise ops and a mean, not counted here;
* Vaswani: per encoder layer 4 d x d projections + FFN (2 d d_ff) (Sec. 3.2.2, 3.3); per
  decoder layer the same plus attention over the encoder output, whose W^K and W^V read the
  S encoder rows; logits 2 B S d V (Sec. 3.4);
* BERT: the encoder's layers as above (d_ff = 4d), the masked-LM head (dense d x d,
  LayerNorm, d x V output) at P rows per sequence (the masked 15% or all S), the pooler
  (d x d) and NSP classifier (d x 2) on the [CLS] row (App. A.1);
* T5: as Vaswani with inner attention width H d_kv (Sec. 3.7: d_kv = 128 for 3B and 11B),
  no biases; the relative position bias is an elementwise add inside the attention mask;
* Switch (Sec. 2.1): a Switch layer replaces the FFN: router 2 T d E (matmul), its softmax
  3 T E, and the experts 2 x 2 d d_ff per expert slot, S_slots = ceil(capacity_factor x T)
  slots (models/moe.py: with capacity factor 1, one expert per routed token, as Switch's
  Table 9 counts FLOPs/seq).
"""

from __future__ import annotations

import math
from typing import Any

from harness.analytic.breakdown import Breakdown, Component

NORM = 5 + 2  # LayerNorm per element: normalise (5) + scale and shift (2)
SOFTMAX = 3  # per score


def _dense(rows: int, d_in: int, d_out: int) -> int:
    return 2 * rows * d_in * d_out


def _attention(B: int, H: int, s_q: int, s_k: int, d_h: int) -> tuple[int, int]:
    """(Q K^T + P V FLOP, softmax FLOP) of one attention call, full square."""
    return 2 * B * H * s_q * s_k * (d_h + d_h), SOFTMAX * B * H * s_q * s_k


def _seq(seq: int | None, default: int) -> int:
    return seq if seq is not None else default


class _Parts:
    """Accumulates components by name so that repeated layers read as one line each."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], list[Any]] = {}

    def add(self, name: str, category: str, flop: int, formula: str) -> None:
        key = (name, category)
        if key in self.items:
            self.items[key][0] += flop
        else:
            self.items[key] = [flop, formula]

    def breakdown(self) -> Breakdown:
        return tuple(Component(n, c, f, formula) for (n, c), (f, formula) in self.items.items())


# ---------------------------------------------------------------- Vaswani / GShard dense


def transformer(cfg: Any, batch: int, seq: int | None) -> Breakdown:
    """Vaswani et al. 2017 (post-norm) or the pre-norm Lingvo form (GShard's T(96L))."""
    B, S = batch, _seq(seq, 128)
    d, f, H, V = cfg.d_model, cfg.d_ff, cfg.n_head, cfg.vocab_size
    Le = cfg.n_layer
    Ld = cfg.n_dec_layer if cfg.n_dec_layer is not None else cfg.n_layer
    dh = d // H
    R = B * S  # rows of one stack (source and target have S tokens each)
    attn, soft = _attention(B, H, S, S, dh)
    p = _Parts()
    p.add("encoder.attention.qkv_o", "matmul", Le * 4 * _dense(R, d, d), "L_e 4 x 2 B S d^2")
    p.add("encoder.attention.scores", "attention", Le * attn, "L_e 2 B H S^2 (2 d_k)")
    p.add("encoder.attention.softmax", "softmax", Le * soft, "L_e 3 B H S^2")
    p.add("encoder.ffn", "matmul", Le * 2 * _dense(R, d, f), "L_e 2 x 2 B S d d_ff")
    p.add("encoder.layernorm", "normalisation", Le * 2 * NORM * R * d, "L_e 2 x 7 B S d")
    p.add("decoder.self_attention.qkv_o", "matmul", Ld * 4 * _dense(R, d, d), "L_d 4 x 2 B T d^2")
    p.add("decoder.self_attention.scores", "attention", Ld * attn, "L_d 2 B H T^2 (2 d_k), full square")
    p.add("decoder.self_attention.softmax", "softmax", Ld * soft, "L_d 3 B H T^2")
    p.add("decoder.cross_attention.qkv_o", "matmul", Ld * 4 * _dense(R, d, d), "L_d (2 B T + 2 B S) 2 d^2")
    p.add("decoder.cross_attention.scores", "attention", Ld * attn, "L_d 2 B H T S (2 d_k)")
    p.add("decoder.cross_attention.softmax", "softmax", Ld * soft, "L_d 3 B H T S")
    p.add("decoder.ffn", "matmul", Ld * 2 * _dense(R, d, f), "L_d 2 x 2 B T d d_ff")
    p.add("decoder.layernorm", "normalisation", Ld * 3 * NORM * R * d, "L_d 3 x 7 B T d")
    if cfg.pre_norm:
        p.add("final_layernorms", "normalisation", 2 * NORM * R * d, "2 x 7 B S d")
    p.add("logits", "matmul", _dense(R, d, V), "2 B T d V")
    return p.breakdown()


# ---------------------------------------------------------------- BERT, DistilBERT


def bert(cfg: Any, batch: int, seq: int | None) -> Breakdown:
    """Devlin et al. 2018 (and DistilBERT): encoder, masked-LM head at P rows, NSP head."""
    B, S = batch, _seq(seq, cfg.max_position)
    d, H, V, L = cfg.d_model, cfg.n_head, cfg.vocab_size, cfg.n_layer
    f = cfg.d_ff if cfg.d_ff is not None else 4 * d
    P = S if cfg.mlm_positions == "all" else max(1, -(-S * cfg.mask_percent // 100))
    R = B * S
    attn, soft = _attention(B, H, S, S, d // H)
    p = _Parts()
    p.add("embeddings.layernorm", "normalisation", NORM * R * d, "7 B S d")
    p.add("layers.attention.qkv_o", "matmul", L * 4 * _dense(R, d, d), "L 4 x 2 B S d^2")
    p.add("layers.attention.scores", "attention", L * attn, "L 2 B H S^2 (2 d / H)")
    p.add("layers.attention.softmax", "softmax", L * soft, "L 3 B H S^2")
    p.add("layers.ffn", "matmul", L * 2 * _dense(R, d, f), "L 2 x 2 B S d 4d")
    p.add("layers.layernorm", "normalisation", L * 2 * NORM * R * d, "L 2 x 7 B S d")
    p.add("mlm.transform", "matmul", _dense(B * P, d, d), "2 B P d^2")
    p.add("mlm.layernorm", "normalisation", NORM * B * P * d, "7 B P d")
    p.add("mlm.logits", "matmul", _dense(B * P, d, V), "2 B P d V")
    if cfg.nsp_head:
        p.add("nsp.pooler_classifier", "matmul", _dense(B, d, d) + _dense(B, d, 2), "2 B d^2 + 2 B d 2")
    return p.breakdown()


# ---------------------------------------------------------------- T5, ProtT5, Switch


def _t5_stacks(cfg: Any, B: int, S: int, p: _Parts, ffn: Any) -> None:
    """The parts T5 and Switch share; `ffn(p, stack, index, rows)` adds each block's FFN."""
    d, H, dkv, V = cfg.d_model, cfg.n_head, cfg.d_kv, cfg.vocab_size
    inner = H * dkv
    Le = cfg.n_layer
    Ld = cfg.n_dec_layer if cfg.n_dec_layer is not None else cfg.n_layer
    R = B * S
    attn, soft = _attention(B, H, S, S, dkv)
    p.add("encoder.attention.qkv_o", "matmul", Le * 4 * _dense(R, d, inner), "L_e 4 x 2 B S d (H d_kv)")
    p.add("encoder.attention.scores", "attention", Le * attn, "L_e 2 B H S^2 (2 d_kv)")
    p.add("encoder.attention.softmax", "softmax", Le * soft, "L_e 3 B H S^2")
    p.add("decoder.self_attention.qkv_o", "matmul", Ld * 4 * _dense(R, d, inner), "L_d 4 x 2 B T d (H d_kv)")
    p.add("decoder.self_attention.scores", "attention", Ld * attn, "L_d 2 B H T^2 (2 d_kv), full square")
    p.add("decoder.self_attention.softmax", "softmax", Ld * soft, "L_d 3 B H T^2")
    cross = Ld * 4 * _dense(R, d, inner)
    p.add("decoder.cross_attention.qkv_o", "matmul", cross, "L_d (2 B T + 2 B S) 2 d (H d_kv)")
    p.add("decoder.cross_attention.scores", "attention", Ld * attn, "L_d 2 B H T S (2 d_kv)")
    p.add("decoder.cross_attention.softmax", "softmax", Ld * soft, "L_d 3 B H T S")
    for i in range(Le):
        ffn(p, "encoder", i, R)
    for i in range(Ld):
        ffn(p, "decoder", i, R)
    p.add("logits", "matmul", _dense(R, d, V), "2 B T d V")


def _dense_ffn(cfg: Any) -> Any:
    def add(p: _Parts, stack: str, index: int, rows: int) -> None:
        p.add(f"{stack}.ffn", "matmul", 2 * _dense(rows, cfg.d_model, cfg.d_ff), "2 x 2 B S d d_ff per block")

    return add


def t5(cfg: Any, batch: int, seq: int | None) -> Breakdown:
    """Raffel et al. 2019 (and ProtT5): T5 v1.0, relative bias, ReLU FFN, no biases."""
    p = _Parts()
    _t5_stacks(cfg, batch, _seq(seq, 512), p, _dense_ffn(cfg))
    return p.breakdown()


def switch(cfg: Any, batch: int, seq: int | None) -> Breakdown:
    """Fedus et al. 2021: T5 blocks whose FFNs (every `expert_every`-th) are top-1 Switch layers."""
    d, f, E = cfg.d_model, cfg.d_ff, cfg.n_experts
    dense = _dense_ffn(cfg)

    def add(p: _Parts, stack: str, index: int, rows: int) -> None:
        if not (cfg.expert_every == 1 or index % cfg.expert_every == 1):
            dense(p, stack, index, rows)
            return
        slots = math.ceil(cfg.capacity_factor * rows)
        p.add(f"{stack}.switch.router", "matmul", _dense(rows, d, E), "2 T d E per Switch layer")
        p.add(f"{stack}.switch.router_softmax", "softmax", SOFTMAX * rows * E, "3 T E per Switch layer")
        p.add(
            f"{stack}.switch.experts", "matmul", 2 * _dense(slots, d, f),
            "2 x 2 ceil(capacity_factor T) d d_ff per Switch layer (one expert per slot)",
        )  # fmt: skip

    p = _Parts()
    _t5_stacks(cfg, batch, _seq(seq, 512), p, add)
    return p.breakdown()


FORMULAS = {
    "transformer": transformer,
    "gshard": transformer,
    "bert": bert,
    "t5": t5,
    "switch": switch,
}
