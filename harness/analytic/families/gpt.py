"""Decoder-only transformers (GPT-2/3 and kin): forward FLOP by component.

Chinchilla (Hoffmann et al. 2022) Appendix F, per sequence, generalised to multi-query
attention, SwiGLU MLPs and untied heads, in this harness's convention (embedding lookups are
gathers: 0 FLOP, where Appendix F counts 2 s V d). Symbols: B batch, T sequence, d width,
L layers, H query heads, G key/value heads, Q head width, f MLP width, V vocabulary.
"""

from __future__ import annotations

from typing import Any

from harness.analytic.breakdown import Breakdown, Component


def gpt_forward(cfg: Any, batch: int, seq: int | None) -> Breakdown:
    B, T = batch, seq or cfg.block_size
    d, L, H, V = cfg.d_model, cfg.n_layer, cfg.n_head, cfg.vocab_size
    f = cfg.d_ff if cfg.d_ff is not None else 4 * d
    Q = cfg.d_head if cfg.d_head is not None else d // H
    G = cfg.n_kv_head if cfg.n_kv_head is not None else H
    mlp_mats = 3 if cfg.mlp == "swiglu" else 2  # SwiGLU: gate, up and down projections
    return (
        # each Linear: 2 FLOP per weight per token
        Component("attention.q", "matmul", L * 2 * B * T * d * H * Q, "2 B T d (H Q) L"),
        Component("attention.kv", "matmul", L * 2 * B * T * d * 2 * G * Q, "2 B T d (2 G Q) L"),
        Component("attention.out", "matmul", L * 2 * B * T * H * Q * d, "2 B T (H Q) d L"),
        # Q K^T and P V over the full square: 2 matmuls x 2 FLOP per MAC
        Component("attention.scores", "attention", L * 2 * 2 * B * H * T * T * Q, "4 B H T^2 Q L"),
        Component("attention.softmax", "softmax", L * 3 * B * H * T * T, "3 B H T^2 L (App. F)"),
        Component("mlp", "matmul", L * mlp_mats * 2 * B * T * d * f, f"{mlp_mats} x 2 B T d f L"),
        Component("logits", "matmul", 2 * B * T * d * V, "2 B T d V"),
    )


FORMULAS = {"gpt": gpt_forward}
