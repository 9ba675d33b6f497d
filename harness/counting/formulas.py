"""Per-op FLOP formulas: pure functions of shapes, registered by aten op.

Each formula takes the op's arguments by name (normalised from its schema) and its output,
and returns ``{Category: flop}``. Matmul-class formulas are exact (2 FLOP per MAC); the
others use the stated per-element costs of `harness.conventions.PER_ELEMENT`.

Ops that do no arithmetic are in `ZERO_COST` (or are views, found from the schema);
pointwise ops without a formula of their own get the default pointwise cost, found from
torch's `Tag.pointwise`. Everything else is uncounted and reported as such.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from harness.conventions import FLOP_PER_MAC, PER_ELEMENT, Category
from harness.counting.outputs import first_tensor

aten = torch.ops.aten

Flops = dict[Category, int]
Formula = Callable[[Mapping[str, Any], Any], Flops]

FORMULAS: dict[Any, Formula] = {}


def register(*ops: Any) -> Callable[[Formula], Formula]:
    """Register a formula for one or more ops (an overload packet covers all overloads)."""

    def wrap(fn: Formula) -> Formula:
        for op in ops:
            overloads = (
                [getattr(op, name) for name in op.overloads()]
                if isinstance(op, torch._ops.OpOverloadPacket)
                else [op]
            )
            for overload in overloads:
                if overload in FORMULAS:
                    raise ValueError(f"duplicate FLOP formula for {overload}")
                FORMULAS[overload] = fn
        return fn

    return wrap


def cost(name: str) -> int:
    return PER_ELEMENT[name][0]


def prod(shape: Sequence[int]) -> int:
    return math.prod(int(s) for s in shape)


def numel(t: Any) -> int:
    return t.numel() if isinstance(t, torch.Tensor) else 0


# ---------------------------------------------------------------- shape formulas (no torch)


def mm_flop(a_shape: Sequence[int], b_shape: Sequence[int]) -> int:
    """[m, k] @ [k, n] -> [m, n]: 2 m k n."""
    m, k = a_shape
    k2, n = b_shape
    assert k == k2, (a_shape, b_shape)
    return FLOP_PER_MAC * m * k * n


def bmm_flop(a_shape: Sequence[int], b_shape: Sequence[int]) -> int:
    """[b, m, k] @ [b, k, n] -> [b, m, n]: 2 b m k n."""
    b, m, k = a_shape
    _, _, n = b_shape
    return FLOP_PER_MAC * b * m * k * n


def conv_flop(
    x_shape: Sequence[int],
    w_shape: Sequence[int],
    out_shape: Sequence[int],
    transposed: bool,
) -> int:
    """Convolution of any dimension, grouped or transposed: 2 x MACs.

    Normal: every output element is a dot product of length (C_in / groups) x prod(kernel),
    and w is [C_out, C_in / groups, *kernel], so MACs = N x prod(out spatial) x numel(w).
    Transposed: every *input* element scatters into (C_out / groups) x prod(kernel) outputs,
    and w is [C_in, C_out / groups, *kernel], so MACs = N x prod(in spatial) x numel(w).
    """
    batch = x_shape[0]
    spatial = x_shape[2:] if transposed else out_shape[2:]
    return FLOP_PER_MAC * batch * prod(spatial) * prod(w_shape)


# ---------------------------------------------------------------- matmul class


@register(aten.mm)
def _mm(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.MATMUL: mm_flop(a["self"].shape, a["mat2"].shape)}


@register(aten.addmm, aten._addmm_activation)
def _addmm(a: Mapping[str, Any], out: Any) -> Flops:
    # bias add counted as elementwise, so addmm == mm + add on every backend
    return {
        Category.MATMUL: mm_flop(a["mat1"].shape, a["mat2"].shape),
        Category.ELEMENTWISE: numel(out),
    }


@register(aten.bmm)
def _bmm(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.MATMUL: bmm_flop(a["self"].shape, a["mat2"].shape)}


@register(aten.baddbmm)
def _baddbmm(a: Mapping[str, Any], out: Any) -> Flops:
    return {
        Category.MATMUL: bmm_flop(a["batch1"].shape, a["batch2"].shape),
        Category.ELEMENTWISE: numel(out),
    }


@register(aten.mv)
def _mv(a: Mapping[str, Any], out: Any) -> Flops:
    """[m, k] @ [k] -> [m]: 2 m k."""
    m, k = a["self"].shape
    return {Category.MATMUL: FLOP_PER_MAC * m * k}


@register(aten.addmv)
def _addmv(a: Mapping[str, Any], out: Any) -> Flops:
    """self + [m, k] @ [k]: 2 m k, and the add as elementwise (as addmm's bias)."""
    m, k = a["mat"].shape
    return {Category.MATMUL: FLOP_PER_MAC * m * k, Category.ELEMENTWISE: numel(out)}


@register(aten.dot, aten.vdot)
def _dot(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.MATMUL: FLOP_PER_MAC * numel(a["self"])}


@register(aten.convolution, aten._convolution)
def _conv(a: Mapping[str, Any], out: Any) -> Flops:
    flops = {
        Category.CONV: conv_flop(a["input"].shape, a["weight"].shape, out.shape, a["transposed"])
    }
    if a.get("bias") is not None:
        flops[Category.ELEMENTWISE] = numel(out)
    return flops


@register(aten.convolution_backward)
def _conv_backward(a: Mapping[str, Any], out: Any) -> Flops:
    """grad_input is a convolution of the same MACs (transposed role), so is grad_weight."""
    grad_input, grad_weight, grad_bias = a["output_mask"]
    transposed = a["transposed"]
    x_shape, w_shape, g_shape = a["input"].shape, a["weight"].shape, a["grad_output"].shape
    one = conv_flop(x_shape, w_shape, g_shape, transposed)
    flops = {Category.CONV: one * (int(grad_input) + int(grad_weight))}
    if grad_bias:
        flops[Category.ELEMENTWISE] = numel(a["grad_output"])  # sum over N and space
    return flops


# ---------------------------------------------------------------- normalisation


def _norm(x: torch.Tensor, affine: bool) -> Flops:
    per = cost("norm") + (cost("norm_affine") if affine else 0)
    return {Category.NORMALISATION: per * numel(x)}


@register(aten.native_layer_norm)
def _layer_norm(a: Mapping[str, Any], out: Any) -> Flops:
    return _norm(a["input"], a.get("weight") is not None)


@register(aten.native_layer_norm_backward, aten.native_group_norm_backward)
def _norm_backward(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.NORMALISATION: cost("norm_backward") * numel(a["grad_out"])}


@register(aten.native_group_norm)
def _group_norm(a: Mapping[str, Any], out: Any) -> Flops:
    return _norm(a["input"], a.get("weight") is not None)


@register(
    aten.native_batch_norm,
    aten._native_batch_norm_legit,
    aten._native_batch_norm_legit_no_training,
    aten._native_batch_norm_legit_functional,
    aten.cudnn_batch_norm,
    aten.miopen_batch_norm,
)
def _batch_norm(a: Mapping[str, Any], out: Any) -> Flops:
    return _norm(a["input"], a.get("weight") is not None)


@register(
    aten.native_batch_norm_backward,
    aten.cudnn_batch_norm_backward,
    aten.miopen_batch_norm_backward,
)
def _batch_norm_backward(a: Mapping[str, Any], out: Any) -> Flops:
    g = a.get("grad_out", a.get("grad_output"))
    return {Category.NORMALISATION: cost("norm_backward") * numel(g)}


if hasattr(aten, "_fused_rms_norm"):

    @register(aten._fused_rms_norm)
    def _rms_norm(a: Mapping[str, Any], out: Any) -> Flops:
        return _norm(a["input"], a.get("weight") is not None)


# ---------------------------------------------------------------- softmax


@register(aten._softmax, aten._log_softmax, aten._safe_softmax)
def _softmax(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.SOFTMAX: cost("softmax") * numel(a["self"])}


@register(aten._softmax_backward_data, aten._log_softmax_backward_data)
def _softmax_backward(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.SOFTMAX: cost("softmax_backward") * numel(a["grad_output"])}


# ---------------------------------------------------------------- embedding


@register(aten.embedding)
def _embedding(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.EMBEDDING: 0}  # a gather: no arithmetic


@register(aten.embedding_dense_backward)
def _embedding_backward(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.EMBEDDING: cost("embedding_backward") * numel(a["grad_output"])}


# ---------------------------------------------------------------- reductions, pooling, losses


@register(
    aten.sum, aten.mean, aten.amax, aten.amin, aten.max, aten.min, aten.argmax, aten.argmin,
    aten.prod, aten.any, aten.all, aten.logsumexp, aten.norm, aten.linalg_vector_norm,
    aten.cumsum,
)  # fmt: skip
def _reduction(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.REDUCTION: cost("reduction") * numel(a["self"])}


@register(aten.aminmax)
def _aminmax(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.REDUCTION: 2 * cost("reduction") * numel(a["self"])}  # a min and a max compare


@register(aten.scatter_add, aten.scatter_add_, aten.index_add, aten.index_add_, aten.scatter_reduce, aten.scatter_reduce_)
def _scatter_accumulate(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.ELEMENTWISE: numel(a.get("src", a.get("source")))}  # one add per value scattered


@register(aten._embedding_bag, aten._embedding_bag_forward_only)
def _embedding_bag(a: Mapping[str, Any], out: Any) -> Flops:
    """Sum or mean of the looked-up rows: one add per looked-up element (gathers cost 0)."""
    return {Category.EMBEDDING: cost("embedding_backward") * numel(a["indices"]) * a["weight"].shape[1]}


@register(aten._embedding_bag_backward, aten._embedding_bag_dense_backward)
def _embedding_bag_backward(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.EMBEDDING: cost("embedding_backward") * numel(a["indices"]) * a["grad"].shape[1]}


@register(aten.var, aten.std, aten.var_mean, aten.std_mean)
def _variance(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.REDUCTION: cost("variance") * numel(a["self"])}


def _window(a: Mapping[str, Any], dims: int) -> int:
    """Window elements; a one-number kernel_size means a cube of that side."""
    k = a["kernel_size"]
    return prod(k) if len(k) > 1 else k[0] ** dims


@register(aten.max_pool2d_with_indices, aten.avg_pool2d)
def _pool2d(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.REDUCTION: cost("pool") * _window(a, 2) * numel(first_tensor(out))}


@register(aten.avg_pool3d, aten.max_pool3d_with_indices)  # LocalResponseNorm runs avg_pool3d
def _pool3d(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.REDUCTION: cost("pool") * _window(a, 3) * numel(first_tensor(out))}


@register(
    aten.max_pool2d_with_indices_backward,
    aten.avg_pool2d_backward,
    aten.avg_pool3d_backward,
    aten.max_pool3d_with_indices_backward,
)
def _pool2d_backward(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.REDUCTION: cost("pool") * numel(a["grad_output"])}


@register(aten._adaptive_avg_pool2d, aten.adaptive_max_pool2d, aten._adaptive_avg_pool3d)
def _adaptive_pool(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.REDUCTION: cost("pool") * numel(a["self"])}


@register(
    aten._adaptive_avg_pool2d_backward,
    aten.adaptive_max_pool2d_backward,
    aten._adaptive_avg_pool3d_backward,
)
def _adaptive_pool_backward(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.REDUCTION: cost("pool") * numel(a["self"])}


@register(aten.nll_loss_forward, aten.nll_loss2d_forward)
def _nll(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.REDUCTION: numel(a["target"])}  # pick and add one log-prob per target


@register(aten.nll_loss_backward, aten.nll_loss2d_backward)
def _nll_backward(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.REDUCTION: numel(a["target"])}  # scatter one scaled value per target


@register(aten.mse_loss, aten.mse_loss_backward, aten.binary_cross_entropy_with_logits)
def _elementwise_loss(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.ELEMENTWISE: cost("loss_per_element") * numel(a["self"])}


@register(aten.native_dropout)
def _dropout(a: Mapping[str, Any], out: Any) -> Flops:
    return {Category.ELEMENTWISE: cost("dropout") * numel(a["input"])}


# ---------------------------------------------------------------- pointwise with own costs

_POINTWISE_COST = {
    aten.gelu: "gelu",
    aten.gelu_: "gelu",
    aten.gelu_backward: "gelu_backward",
    aten.silu: "silu",
    aten.silu_: "silu",
    aten.silu_backward: "silu_backward",
    aten.lerp: "lerp",
    aten.lerp_: "lerp",
}


def _with_scale(op_cost: int, scale_arg: str) -> Formula:
    """An op whose scalar multiplier (add's alpha, addcmul's value) is one more multiply unless 1."""

    def formula(a: Mapping[str, Any], out: Any) -> Flops:
        scaled = a.get(scale_arg, 1) not in (1, None)
        return {Category.ELEMENTWISE: (op_cost + int(scaled)) * numel(first_tensor(out))}

    return formula


for _op in (aten.add, aten.add_, aten.sub, aten.sub_):
    register(_op)(_with_scale(cost("pointwise"), "alpha"))  # a + alpha * b
for _op, _name in ((aten.addcmul, "addcmul"), (aten.addcmul_, "addcmul"), (aten.addcdiv, "addcdiv"), (aten.addcdiv_, "addcdiv")):
    register(_op)(_with_scale(cost(_name), "value"))  # a + value * b * c


def _pointwise_formula(per: int) -> Formula:
    def formula(a: Mapping[str, Any], out: Any) -> Flops:
        return {Category.ELEMENTWISE: per * numel(first_tensor(out))}

    return formula


for _op, _name in _POINTWISE_COST.items():
    register(_op)(_pointwise_formula(cost(_name)))

DEFAULT_POINTWISE = _pointwise_formula(cost("pointwise"))

# ---------------------------------------------------------------- no arithmetic

ZERO_COST_NAMES = {
    # copies, casts, creation, fills, random draws
    "copy_", "_to_copy", "clone", "contiguous", "fill_", "zero_", "zeros", "ones", "full",
    "empty", "empty_like", "empty_strided", "zeros_like", "ones_like", "full_like", "new_empty",
    "new_empty_strided", "new_zeros", "new_ones", "new_full", "scalar_tensor", "arange",
    "lift_fresh", "lift_fresh_copy", "_local_scalar_dense", "bernoulli_", "uniform_", "normal_",
    "randn", "rand", "randint", "randperm", "_unsafe_view", "resize_", "set_", "detach_",
    "_to_dense", "item", "_assert_async", "_assert_tensor_metadata", "_has_compatible_shallow_copy_type",
    # gathers, scatters of values, layout changes, masks
    "index", "index_select", "gather", "index_put_", "index_put", "_index_put_impl_",
    "_unsafe_index", "_unsafe_index_put", "cat", "stack", "constant_pad_nd", "repeat",
    "flip", "roll", "tril", "triu", "tril_", "triu_", "slice_backward", "select_backward",
    "unfold_backward", "where", "masked_fill", "masked_fill_", "split_with_sizes_copy",
    "slice_scatter", "select_scatter", "diagonal_scatter", "as_strided_scatter",
    "masked_scatter", "scatter", "scatter_", "expand_copy", "permute_copy", "view_copy", "t_copy", "transpose_copy",
    "unsqueeze_copy", "squeeze_copy", "alias_copy", "_pin_memory", "is_pinned", "_foreach_copy_",
    "_fused_dropout", "detach_copy", "_reshape_alias_copy", "pad", "reflection_pad2d",
    "replication_pad2d", "_cudnn_init_dropout_state", "_efficientzerotensor", "sort", "topk",
    "record_stream", "set_.source_Storage", "_conj", "_neg_view", "_resolve_conj",
    "_resolve_neg", "one_hot", "device",
    # views that rewrite their own metadata in place
    "squeeze_", "unsqueeze_", "transpose_", "t_", "as_strided_", "swapdims_", "swapaxes_",
    # selections whose output size depends on values: data movement, no arithmetic
    "nonzero", "nonzero_static", "argwhere", "masked_select", "_unique2", "unique_dim",
    "unique_consecutive", "argsort", "msort", "kthvalue", "repeat_interleave",
    "upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d", "_upsample_nearest_exact1d",
    "_upsample_nearest_exact2d", "_upsample_nearest_exact3d",
}  # fmt: skip


def is_view(func: Any) -> bool:
    """Ops that return an alias of an input without writing to it: no arithmetic."""
    schema = func._schema
    return not schema.is_mutable and any(r.alias_info is not None for r in schema.returns)


def is_zero_cost(func: Any) -> bool:
    return func._overloadpacket.__name__ in ZERO_COST_NAMES or is_view(func)


def is_pointwise(func: Any) -> bool:
    return torch.Tag.pointwise in func.tags


def normalise_args(func: Any, args: tuple, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Map positional and keyword arguments to their schema names."""
    named: dict[str, Any] = {}
    for arg, value in zip(func._schema.arguments, args):
        named[arg.name] = value
    named.update(kwargs)
    for arg in func._schema.arguments:
        if arg.name not in named and arg.has_default_value():
            named[arg.name] = arg.default_value
    return named


def op_name(func: Any) -> str:
    return f"aten.{func._overloadpacket.__name__}.{func._overloadname}"
