"""Formulas for grouped and scaled matmuls, interpolation, histograms and bucketing.

Importing this module registers them into `formulas.FORMULAS`. Fused attention kernels are in
`attention.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from harness.conventions import FLOP_PER_MAC, Category
from harness.counting.formulas import Flops, cost, first_tensor, numel, register

aten = torch.ops.aten


# ---------------------------------------------------------------- grouped and scaled matmuls


def grouped_mm_flop(a_shape: Sequence[int], b_shape: Sequence[int]) -> int:
    """torch._grouped_mm: every output element is one dot product over its group's slice of K.

    2-D a [S, K] x 3-D b [E, K, N] -> [S, N] (MoE experts, rows routed by `offs`): 2 S K N;
                               the number of experts E does not enter: each row meets one expert.
    3-D a [E, M, K] x 2-D b [K, N] -> [M, N] (columns grouped by `offs`):         2 M K N
    2-D a [M, K] x 2-D b [K, N] -> [E, M, N] (K grouped by `offs`; the weight
                               gradient of the first case):                        2 M K N
    3-D a [E, M, K] x 3-D b [E, K, N] -> [E, M, N] (a batched matmul):            2 E M K N
    """
    if len(a_shape) == 3 and len(b_shape) == 3:
        e, m, k = a_shape
        return FLOP_PER_MAC * e * m * k * b_shape[-1]
    return FLOP_PER_MAC * a_shape[-2] * a_shape[-1] * b_shape[-1]


@register(aten._grouped_mm, aten._scaled_grouped_mm)
def _grouped_mm(a: Mapping[str, Any], out: Any) -> Flops:
    flops = {Category.MATMUL: grouped_mm_flop(a["self"].shape, a["mat2"].shape)}
    if a.get("bias") is not None:
        flops[Category.ELEMENTWISE] = numel(out)
    return flops


def grouped_mm_output(args: tuple, kwargs: Mapping[str, Any]) -> torch.Tensor:
    """`_grouped_mm`'s output from shapes, for the meta device (whose kernel accepts only bf16)."""
    named = dict(zip(("self", "mat2", "offs", "bias", "out_dtype"), args)) | dict(kwargs)
    a, b, offs = named["self"], named["mat2"], named.get("offs")
    if a.dim() == 2 and b.dim() == 2:
        shape = (offs.shape[0], a.shape[0], b.shape[1])
    elif a.dim() == 2:
        shape = (a.shape[0], b.shape[-1])
    elif b.dim() == 2:
        shape = (a.shape[1], b.shape[1])
    else:
        shape = (a.shape[0], a.shape[1], b.shape[-1])
    return torch.empty(shape, dtype=named.get("out_dtype") or a.dtype, device=a.device)


# ops whose meta kernel refuses inputs the CPU and CUDA kernels take: output made from shapes
META_KERNELS: dict[Any, Callable[[tuple, Mapping[str, Any]], Any]] = {aten._grouped_mm.default: grouped_mm_output}


@register(*(getattr(aten, n) for n in ("_scaled_mm", "_scaled_mm_v2") if hasattr(aten, n)))
def _scaled_mm(a: Mapping[str, Any], out: Any) -> Flops:
    """fp8 matmul [m, k] @ [k, n] with scales: 2 m k n. The scales are applied in the kernel's
    epilogue and not counted (as attention's scaling is not); a bias is elementwise."""
    m, k = a["self"].shape
    flops = {Category.MATMUL: FLOP_PER_MAC * m * k * a["mat2"].shape[1]}
    if a.get("bias") is not None:
        flops[Category.ELEMENTWISE] = numel(first_tensor(out))
    return flops


# ---------------------------------------------------------------- interpolation

# lerps (linear kinds) or 1-D cubic interpolations (bicubic) per output element
_INTERPOLATION: dict[str, tuple[str, int]] = {
    "upsample_linear1d": ("interpolate_lerp", 1),
    "upsample_bilinear2d": ("interpolate_lerp", 3),  # two along a row pair, one between them
    "_upsample_bilinear2d_aa": ("interpolate_lerp", 3),
    "upsample_trilinear3d": ("interpolate_lerp", 7),  # 4 + 2 + 1
    "upsample_bicubic2d": ("interpolate_cubic", 5),  # four rows, then one column
    "_upsample_bicubic2d_aa": ("interpolate_cubic", 5),
}


def _interpolation(kind: str, times: int, backward: bool) -> Callable[[Mapping[str, Any], Any], Flops]:
    def formula(a: Mapping[str, Any], out: Any) -> Flops:
        elements = numel(a["grad_output"]) if backward else numel(first_tensor(out))
        return {Category.ELEMENTWISE: cost(kind) * times * elements}

    return formula


def _nearest_backward(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.ELEMENTWISE: numel(a["grad_output"])}  # one add per gradient scattered back


for _name, (_kind, _times) in _INTERPOLATION.items():
    if hasattr(aten, _name):
        register(getattr(aten, _name))(_interpolation(_kind, _times, False))
    if hasattr(aten, _name + "_backward"):
        register(getattr(aten, _name + "_backward"))(_interpolation(_kind, _times, True))
for _name in ("upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d",
              "_upsample_nearest_exact1d", "_upsample_nearest_exact2d", "_upsample_nearest_exact3d"):  # fmt: skip
    if hasattr(aten, _name + "_backward"):
        register(getattr(aten, _name + "_backward"))(_nearest_backward)


# ---------------------------------------------------------------- counting, bucketing


@register(aten.histc, aten.bincount)
def _histogram(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.REDUCTION: cost("reduction") * numel(a["self"])}  # one bin increment per input


@register(aten.searchsorted, aten.bucketize)
def _binary_search(a: Mapping[str, Any], out: Any) -> Flops:
    """One compare per halving of the boundaries, for each value looked up."""
    boundaries = a.get("sorted_sequence", a.get("boundaries"))
    values = a["self"]
    steps = max(1, int(boundaries.shape[-1]).bit_length())
    return {Category.REDUCTION: steps * (numel(values) if isinstance(values, torch.Tensor) else 1)}


@register(aten.floor_divide, aten.floor_divide_)
def _floor_divide(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.ELEMENTWISE: cost("pointwise") * numel(first_tensor(out))}
