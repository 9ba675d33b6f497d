"""DLRM (Naumov et al. 2019, Sec. 2-3 and Fig. 1): forward FLOP of one batch.

    bottom MLP   sum over its layers of 2 B a b                     (a -> b widths)
    embeddings   one row lookup per table per example: 0 FLOP
    interaction  the dot products of all F = 1 + n_tables vectors of width d, computed as one
                 batched matmul T T^T: 2 B F F d (the reference code computes the full F x F
                 square and keeps the strictly lower triangle, F (F - 1) / 2 values)
    top MLP      sum over its layers of 2 B a b, from F (F - 1) / 2 + d inputs
    elementwise  each layer's bias add and activation (ReLU, or the final sigmoid), 1 FLOP per
                 output element each: 2 B b per layer
"""

from __future__ import annotations

from typing import Any

from harness.analytic.breakdown import Breakdown, Component


def _mlp(batch: int, widths: list[int]) -> tuple[int, int]:
    """(matmul FLOP, elementwise FLOP) of a stack of Linear + activation layers."""
    matmul = sum(2 * batch * a * b for a, b in zip(widths, widths[1:]))
    elementwise = sum(2 * batch * b for b in widths[1:])
    return matmul, elementwise


def dlrm(config: Any, batch: int, seq: int | None) -> Breakdown:
    B, d = batch, config.d_embed
    F = 1 + len(config.table_sizes)
    bottom, bottom_ew = _mlp(B, [config.n_dense, *config.bottom_mlp])
    top, top_ew = _mlp(B, [F * (F - 1) // 2 + d, *config.top_mlp])
    return (
        Component("bottom_mlp", "matmul", bottom, "sum 2 B a b"),
        Component("embeddings", "embedding", 0, "one lookup per table"),
        Component("interaction", "matmul", 2 * B * F * F * d, "2 B F^2 d, F = 1 + tables"),
        Component("top_mlp", "matmul", top, "sum 2 B a b"),
        Component("mlp.bias_activation", "elementwise", bottom_ew + top_ew, "sum 2 B b"),
    )


FORMULAS = {"dlrm": dlrm}
