"""Attention: the pairs a mask keeps, and the fused kernels counted from their arguments.

The model-FLOP convention (`harness.conventions`): per (query, key) pair, Q K^T costs 2 d and
P V 2 e; softmax 3 per score. The backward is twice the matmuls, softmax backward 4 per
score; a flash-style kernel also recomputes Q K^T, reported apart (hardware FLOP, for HFU).
The full square is always counted; what a mask (causal, a sliding window, a boolean mask)
leaves out is kept beside it, so either convention can be the total.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch

from harness.conventions import FLOP_PER_MAC, Category
from harness.counting.formulas import Flops, cost, prod

aten = torch.ops.aten


@dataclass(frozen=True)
class AttentionHint:
    """What a model declares about its attention masks, for counting where mask values are unknown
    (the meta device). `causal`: every attention is causal (a decoder-only LM), None when not
    declared. `window`: keys a query sees in a sliding window, itself included; None when none.
    """

    causal: bool | None = None
    window: int | None = None

    def describe(self) -> str:
        parts = (["causal"] if self.causal else []) + ([f"sliding window {self.window}"] if self.window else [])
        return " + ".join(parts)


class UnknownValues(Exception):
    """A formula needs tensor values (varlen sequence lengths) that the meta device does not hold."""




@lru_cache(maxsize=4096)
def kept_pairs(s_q: int, s_k: int, causal: bool, left: int | None = None, right: int | None = None) -> int:
    """(query, key) pairs a mask keeps, queries aligned to keys from the top left (query i at key i).

    `causal` keeps keys j <= i; `left` / `right` (a sliding window) keep i - left <= j <= i + right.
    Row i keeps max(0, min(s_k - 1, hi) - max(0, lo) + 1) keys.
    """
    if right is None and causal:
        right = 0
    elif causal:
        right = min(right, 0)
    total = 0
    for i in range(s_q):
        lo = 0 if left is None or left < 0 else max(0, i - left)
        hi = s_k - 1 if right is None or right < 0 else min(s_k - 1, i + right)
        total += max(0, hi - lo + 1)
    return total


def attention_terms(
    heads: int, pairs_full: int, pairs_kept: int, d: int, e: int, backward: bool
) -> tuple[Flops, int, int]:
    """(flops, FLOP the mask leaves out of the full square, flash recompute) from pair counts.

    Forward: Q K^T 2 d and P V 2 e per pair, softmax 3 per score; backward twice the matmuls,
    softmax backward 4 per score, Q K^T recomputed (2 d per pair, hardware FLOP only).
    """
    full = FLOP_PER_MAC * heads * pairs_full * (d + e)
    kept = FLOP_PER_MAC * heads * pairs_kept * (d + e)
    scores = heads * pairs_full
    if backward:
        return (
            {Category.ATTENTION: 2 * full, Category.SOFTMAX: cost("softmax_backward") * scores},
            2 * (full - kept),
            FLOP_PER_MAC * heads * pairs_full * d,
        )
    return {Category.ATTENTION: full, Category.SOFTMAX: cost("softmax") * scores}, full - kept, 0


def _lengths(cum: Any) -> list[int]:
    if cum.is_meta:
        raise UnknownValues("varlen attention: the cumulative sequence lengths have no values on the meta device")
    bounds = [int(v) for v in cum.tolist()]
    return [b - a for a, b in zip(bounds, bounds[1:])]


def _bshd(a: Mapping[str, Any], cum_q: str, cum_k: str, causal: bool, left: Any, right: Any, backward: bool) -> tuple[Flops, int, int]:
    """Attention in the [B, S, H, D] layout, or varlen [T, H, D] with cumulative lengths [B + 1]."""
    q, k, v = a["query"], a["key"], a["value"]
    heads, d, e = q.shape[-2], q.shape[-1], v.shape[-1]
    cum = a.get(cum_q)
    if isinstance(cum, torch.Tensor) and cum.numel() > 0:
        seqs = list(zip(_lengths(a[cum_q]), _lengths(a[cum_k])))
    else:
        seqs = [(q.shape[1], k.shape[1])] * q.shape[0]
    left = None if left is None or left < 0 else int(left)
    right = None if right is None or right < 0 else int(right)
    full = sum(sq * sk for sq, sk in seqs)
    kept = sum(kept_pairs(sq, sk, causal, left, right) for sq, sk in seqs)
    return attention_terms(heads, full, kept, d, e, backward)


def _flash(backward: bool) -> Callable[[Mapping[str, Any]], tuple[Flops, int, int]]:
    def formula(a: Mapping[str, Any]) -> tuple[Flops, int, int]:
        return _bshd(a, "cum_seq_q", "cum_seq_k", bool(a["is_causal"]),
                     a.get("window_size_left"), a.get("window_size_right"), backward)  # fmt: skip

    return formula


def _efficient(backward: bool) -> Callable[[Mapping[str, Any]], tuple[Flops, int, int]]:
    """custom_mask_type: 0 none, 1 causal from the top left, 2 from the bottom right (counted the
    same for equal lengths); window_size keeps that many keys to the left."""

    def formula(a: Mapping[str, Any]) -> tuple[Flops, int, int]:
        window = a.get("window_size")
        return _bshd(a, "cu_seqlens_q", "cu_seqlens_k", int(a["custom_mask_type"]) != 0,
                     None if window is None else window - 1, None, backward)  # fmt: skip

    return formula


def _sdpa_kernel(backward: bool) -> Callable[[Mapping[str, Any]], tuple[Flops, int, int]]:
    """The kernels F.scaled_dot_product_attention dispatches to, [B, H, S, D] layout."""

    def formula(a: Mapping[str, Any]) -> tuple[Flops, int, int]:
        q, k, v = a["query"], a["key"], a["value"]
        s_q, s_k = q.shape[-2], k.shape[-2]
        kept = kept_pairs(s_q, s_k, bool(a.get("is_causal")))
        return attention_terms(prod(q.shape[:-2]), s_q * s_k, kept, q.shape[-1], v.shape[-1], backward)

    return formula


_SDPA_KERNELS = [
    "_scaled_dot_product_flash_attention_for_cpu",
    "_scaled_dot_product_flash_attention",
    "_scaled_dot_product_efficient_attention",
    "_scaled_dot_product_cudnn_attention",
    "_scaled_dot_product_fused_attention_overrideable",
]
ATTENTION_KERNELS: dict[Any, Callable[[Mapping[str, Any]], tuple[Flops, int, int]]] = {}
for _name in _SDPA_KERNELS:
    if hasattr(aten, _name):
        ATTENTION_KERNELS[getattr(aten, _name)] = _sdpa_kernel(False)
    if hasattr(aten, _name + "_backward"):
        ATTENTION_KERNELS[getattr(aten, _name + "_backward")] = _sdpa_kernel(True)
ATTENTION_KERNELS[aten._flash_attention_forward] = _flash(False)
ATTENTION_KERNELS[aten._flash_attention_backward] = _flash(True)
ATTENTION_KERNELS[aten._efficient_attention_forward] = _efficient(False)
ATTENTION_KERNELS[aten._efficient_attention_backward] = _efficient(True)
ATTENTION_BACKWARD = {op for op in ATTENTION_KERNELS if op.__name__.endswith("_backward")}




def attention_pairs(s_q: int, s_k: int, causal: bool) -> int:
    """(query, key) pairs scored per head: the full square, or torch's top-left causal triangle."""
    return kept_pairs(s_q, s_k, causal)


def attention_flops(
    q_shape: Sequence[int], k_shape: Sequence[int], v_shape: Sequence[int], causal: bool, backward: bool
) -> tuple[Flops, int, int]:
    """`attention_terms` for [..., S, D] shapes (the layout of F.scaled_dot_product_attention)."""
    s_q, s_k = q_shape[-2], k_shape[-2]
    return attention_terms(prod(q_shape[:-2]), s_q * s_k, kept_pairs(s_q, s_k, causal), q_shape[-1], v_shape[-1], backward)


# ---------------------------------------------------------------- F.scaled_dot_product_attention


@dataclass(frozen=True)
class SdpaCount:
    forward: Flops
    backward: Flops
    saved_forward: int
    saved_backward: int
    recompute: int
    notes: tuple[str, ...] = ()


MASK_UNKNOWN = "attention: full square, mask values unknown (a boolean mask on the meta device, no declared window or causality)"
FLOAT_MASK = "attention: a float attn_mask is counted as the full square (a bias cannot be told from a mask)"


def sdpa_counts(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, attn_mask: Any, is_causal: bool, hint: AttentionHint | None
) -> SdpaCount:
    """Forward and backward of one F.scaled_dot_product_attention call.

    The full square is always the count; what the mask leaves out is kept apart:
    `is_causal`: the top-left triangle. A boolean `attn_mask` on a real device: its kept entries,
    exactly (broadcast over batch and heads). On the meta device the mask has no values: the
    model's declared causality or sliding window is used when known, else nothing is left out
    and a note says so. Jagged nested tensors [B, H, j, D]: the sum over sequences.
    """
    notes: tuple[str, ...] = ()
    if q.is_nested:
        heads, pairs_full, pairs_kept = _jagged_pairs(q, k, is_causal)
    else:
        s_q, s_k = q.shape[-2], k.shape[-2]
        heads, pairs_full = prod(q.shape[:-2]), s_q * s_k
        pairs_kept = kept_pairs(s_q, s_k, is_causal)
        if attn_mask is None:
            pass
        elif attn_mask.dtype != torch.bool:
            notes = (FLOAT_MASK,)
        elif not attn_mask.is_meta:
            heads, pairs_full = 1, heads * pairs_full  # the mask's entries, summed over batch and heads
            pairs_kept = _kept_in_mask(attn_mask, (*q.shape[:-2], s_q, s_k))
        elif hint is not None and (hint.causal or hint.window):
            left = hint.window - 1 if hint.window else None
            pairs_kept = kept_pairs(s_q, s_k, bool(hint.causal) or is_causal, left)
            notes = (f"attention: meta-device masks counted from the model's declared {hint.describe()}",)
        else:
            notes = (MASK_UNKNOWN,)
    d, e = q.shape[-1], v.shape[-1]
    fwd, saved_f, _ = attention_terms(heads, pairs_full, pairs_kept, d, e, backward=False)
    bwd, saved_b, recompute = attention_terms(heads, pairs_full, pairs_kept, d, e, backward=True)
    return SdpaCount(fwd, bwd, saved_f, saved_b, recompute, notes)


def _kept_in_mask(mask: torch.Tensor, shape: tuple[int, ...]) -> int:
    """True entries of a boolean mask broadcast to `shape` (counted without materialising it)."""
    dims = len(shape) - mask.dim()
    factor = prod(shape[:dims]) * prod(s for s, m in zip(shape[dims:], mask.shape) if m == 1 and s != 1)
    return int(mask.sum()) * factor


def _jagged_pairs(q: torch.Tensor, k: torch.Tensor, causal: bool) -> tuple[int, int, int]:
    """Heads and (query, key) pairs summed over the sequences of jagged [B, H, j, D] tensors."""
    q_lens = [int(n) for n in q.offsets().diff().tolist()]
    k_lens = [int(n) for n in k.offsets().diff().tolist()] if k.is_nested else [k.shape[-2]] * len(q_lens)
    heads = prod(s for i, s in enumerate(q.shape[1:-1], start=1) if i != q._ragged_idx)
    full = sum(a * b for a, b in zip(q_lens, k_lens))
    kept = sum(kept_pairs(a, b, causal) for a, b in zip(q_lens, k_lens))
    return heads, full, kept


# ---------------------------------------------------------------- flex_attention

FLEX_NOTE = "flex_attention: kept pairs from its block mask, at block granularity (a partly masked block counts whole)"


def flex_counts(q: Any, k: Any, v: Any, block_mask: tuple, backward: bool) -> tuple[Flops, int, int]:
    """flex_attention counted as SDPA over [B, H, S, D]; the block mask's computed blocks give the
    kept pairs (block_mask is `BlockMask.as_tuple()`: Q_LEN, KV_LEN, kv_num_blocks, kv_indices,
    full_kv_num_blocks, ..., Q_BLOCK_SIZE, KV_BLOCK_SIZE, mask_mod)."""
    heads, s_q, s_k = prod(q.shape[:-2]), q.shape[-2], k.shape[-2]
    full = heads * s_q * s_k
    kept = full
    partial, whole = block_mask[2], block_mask[4]
    if isinstance(partial, torch.Tensor) and not partial.is_meta:
        q_block, kv_block = block_mask[-3], block_mask[-2]
        blocks = int(partial.sum()) + (int(whole.sum()) if isinstance(whole, torch.Tensor) else 0)
        mask_heads = prod(partial.shape[:-1])  # [B, H, q blocks]: may broadcast over batch and heads
        fraction = min(1.0, blocks * q_block * kv_block / (mask_heads * block_mask[0] * block_mask[1]))
        kept = round(full * fraction)
    return attention_terms(1, full, kept, q.shape[-1], v.shape[-1], backward)


@contextmanager
def flex_uncompiled() -> Iterator[None]:
    """Let eager flex_attention call its operator directly instead of through torch.compile.

    Eager flex_attention compiles itself (with the eager backend), which dynamo refuses under a
    dispatch mode; torch's documented debugging switch makes it call the operator as is, where
    the counter sees it. The values may differ from the compiled kernel's; the shapes, all a
    count needs, do not.
    """
    try:
        import torch.nn.attention.flex_attention as flex
    except ImportError:
        yield
        return
    before = getattr(flex, "_FLEX_ATTENTION_DISABLE_COMPILE_DEBUG", None)
    flex._FLEX_ATTENTION_DISABLE_COMPILE_DEBUG = True
    try:
        yield
    finally:
        flex._FLEX_ATTENTION_DISABLE_COMPILE_DEBUG = before
