"""Forward FLOP of the Vision Transformer (Dosovitskiy et al. 2020, Sec. 3.1, Eq. 1-4, Table 1).

Symbols: N batch, P patch, C input channels, D width, L layers, H heads, F MLP width,
T = (image / P)^2 + 1 tokens (patches and the [class] token), K classes.

* patch embedding (Eq. 1, a P x P conv of stride P, category conv): 2 N (T - 1) D C P^2;
* per layer (Eq. 2-3), matmul: QKV projection 2 N T D 3D, output projection 2 N T D D,
  MLP 2 N T D F + 2 N T F D;
* per layer, attention (Q K^T and P V over the full T x T square, no mask):
  2 N H T T (D/H + D/H) = 4 N T^2 D;
* head on the [class] token only (Eq. 4): 2 N D K.
LayerNorm, GELU, softmax (3 per score), biases and residual adds are other categories.
"""

from __future__ import annotations

from typing import Any

from harness.analytic.breakdown import Breakdown, Component


def vit(cfg: Any, batch: int, seq: int | None = None) -> Breakdown:
    N, P, C, D, L, H, Fw, K = (
        batch, cfg.patch, cfg.in_channels, cfg.d_model, cfg.n_layer, cfg.n_head, cfg.d_mlp, cfg.n_classes,
    )  # fmt: skip
    patches = (cfg.image_size // P) ** 2
    T = patches + 1
    dh = D // H
    return (
        Component("patch_embed", "conv", 2 * N * patches * D * C * P * P, "2 N (T-1) D C P^2"),
        Component("attention.qkv", "matmul", L * 2 * N * T * D * 3 * D, "L 2 N T D 3D"),
        Component(
            "attention.scores", "attention", L * 2 * N * H * T * T * (dh + dh), "L 2 N H T^2 (D/H + D/H)"
        ),
        Component("attention.proj", "matmul", L * 2 * N * T * D * D, "L 2 N T D^2"),
        Component("mlp", "matmul", L * 2 * 2 * N * T * D * Fw, "L 2 (2 N T D F)"),
        Component("head", "matmul", 2 * N * D * K, "2 N D K"),
    )


FORMULAS = {"vit": vit}
