"""Formulas for composite functions counted as one region: attention and recurrent layers.

`F.scaled_dot_product_attention` and the recurrent functions (`torch.lstm`, `torch.gru`,
`torch.rnn_tanh`, their cells, ...) run different aten ops on different backends: a math
decomposition on the meta device, one fused kernel on CPU, another on CUDA. Counting them
op by op would give each backend another count. The engine therefore counts these calls at
the function level, from their arguments' shapes, and suppresses the ops they run inside,
in the forward and in the backward alike. The same call gives the same integer everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from harness.conventions import FLOP_PER_MAC, Category
from harness.counting.attention import AttentionHint, sdpa_counts
from harness.counting.formulas import Flops

_VF = torch._C._VariableFunctions


@dataclass(frozen=True)
class RegionCount:
    """The forward and backward FLOP of one region call."""

    forward: Flops
    backward: Flops
    causal_saved_forward: int = 0  # what the causal triangle leaves out of `forward`
    causal_saved_backward: int = 0
    recompute: int = 0  # what a fused kernel's backward recomputes (hardware FLOP only)
    notes: tuple[str, ...] = field(default_factory=tuple)


RegionFormula = Callable[[tuple, Mapping[str, Any], AttentionHint | None], RegionCount]


def _requires_grad(t: Any) -> bool:
    return isinstance(t, torch.Tensor) and t.requires_grad


# ---------------------------------------------------------------- attention

_SDPA_ARGS = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale")


def sdpa_region(args: tuple, kwargs: Mapping[str, Any], hint: AttentionHint | None = None) -> RegionCount:
    """F.scaled_dot_product_attention: see `attention.sdpa_counts` for the terms and the masks.

    Scaling, masking and dropout are not counted (they are folded into the kernels).
    With grouped-query attention (enable_gqa) every query head still scores every key.
    """
    a = dict(zip(_SDPA_ARGS, args)) | dict(kwargs)
    c = sdpa_counts(a["query"], a["key"], a["value"], a.get("attn_mask"), bool(a.get("is_causal", False)), hint)
    return RegionCount(c.forward, c.backward, c.saved_forward, c.saved_backward, c.recompute, c.notes)


# ---------------------------------------------------------------- recurrent layers

# Gate count and elementwise FLOP per hidden unit per token, with and without biases.
#   LSTM: gates summed 4 + biases 8 + 3 sigmoid, 1 tanh: 4 + c = f c + i g: 3
#         + tanh(c): 1 + h = o tanh(c): 1                      -> 21 (13 without biases)
#   GRU:  r, z: sum 1 + biases 2 + sigmoid 1 each: 8; n: biases 2, r * (.) 1, sum 1,
#         tanh 1: 5; h = (1 - z) n + z h: 4                    -> 17 (11 without biases)
#   RNN:  sum 1 + biases 2 + tanh or relu 1                    -> 4 (2 without biases)
_RNN_KIND: dict[str, tuple[int, int, int]] = {
    "lstm": (4, 21, 13),
    "gru": (3, 17, 11),
    "rnn_tanh": (1, 4, 2),
    "rnn_relu": (1, 4, 2),
}


def _rnn_totals(
    kind: str,
    tokens: int,
    groups: Sequence[Sequence[torch.Tensor]],
    has_biases: bool,
    input_requires_grad: bool,
) -> RegionCount:
    """Shape-driven count of a whole (multi-layer, bidirectional, projected) recurrent call.

    `groups` holds one layer-direction's weights each: [w_ih, w_hh, (b_ih, b_hh), (w_hr)],
    all fed by the same input (one layer); `input_requires_grad` says whether it needs one.
    Every 2-D weight multiplies one vector per token, and each direction sees every token, so
    forward matmul FLOP = 2 x tokens x (elements of all 2-D weights). Backward: the weight
    gradients cost the same again, and so do the input gradients, except the first layer's
    w_ih when the input needs no gradient (the 1:1 first layer). Elementwise gate math
    costs 2x forward in the backward (one gradient per operand).
    """
    gates, per_unit_bias, per_unit = _RNN_KIND[kind]
    mats = [w for group in groups for w in group if w.dim() == 2]
    forward_mm = FLOP_PER_MAC * tokens * sum(w.numel() for w in mats)
    hidden = sum(group[1].shape[0] // gates for group in groups)  # w_hh is [gates * H, P]
    elementwise = tokens * hidden * (per_unit_bias if has_biases else per_unit)

    weight_grad = forward_mm if any(w.requires_grad for w in mats) else 0
    skipped = 0 if input_requires_grad else sum(g[0].numel() for g in groups)  # w_ih
    input_grad = forward_mm - FLOP_PER_MAC * tokens * skipped
    return RegionCount(
        forward={Category.RECURRENT: forward_mm, Category.ELEMENTWISE: elementwise},
        backward={
            Category.RECURRENT: weight_grad + input_grad,
            Category.ELEMENTWISE: 2 * elementwise,
        },
    )


def _rnn_region(kind: str) -> RegionFormula:
    """torch.lstm / gru / rnn_*: padded (input, hx, ...) or packed (data, batch_sizes, hx, ...)."""

    def formula(args: tuple, kwargs: Mapping[str, Any], hint: AttentionHint | None = None) -> RegionCount:
        second = args[1]
        packed = isinstance(second, torch.Tensor) and not second.is_floating_point()
        if packed:
            data, batch_sizes, _hx, weights, has_biases, num_layers, _p, _train, bi = args[:9]
            tokens = int(batch_sizes.sum())
        else:
            data, _hx, weights, has_biases, num_layers, _p, _train, bi = args[:8]
            tokens = data.numel() // data.shape[-1]  # (T, B, I), (B, T, I) or (T, I)
        directions = 2 if bi else 1
        n_groups = num_layers * directions
        stride = len(weights) // n_groups
        groups = [weights[i * stride : (i + 1) * stride] for i in range(n_groups)]
        counted = _rnn_totals(kind, tokens, groups[:directions], has_biases, _requires_grad(data))
        rest = _rnn_totals(kind, tokens, groups[directions:], has_biases, True) if num_layers > 1 else None
        return counted if rest is None else _add_counts(counted, rest)

    return formula


def _add_counts(a: RegionCount, b: RegionCount) -> RegionCount:
    def add(x: Flops, y: Flops) -> Flops:
        return {c: x.get(c, 0) + y.get(c, 0) for c in x.keys() | y.keys()}

    return RegionCount(add(a.forward, b.forward), add(a.backward, b.backward))


def _cell_region(kind: str) -> RegionFormula:
    """torch.lstm_cell / gru_cell / rnn_*_cell: (input, hx, w_ih, w_hh, b_ih, b_hh)."""

    def formula(args: tuple, kwargs: Mapping[str, Any], hint: AttentionHint | None = None) -> RegionCount:
        names = ("input", "hx", "w_ih", "w_hh", "b_ih", "b_hh")
        a = dict(zip(names, args)) | dict(kwargs)
        x = a["input"]
        tokens = x.shape[0] if x.dim() == 2 else 1
        has_biases = a.get("b_ih") is not None
        return _rnn_totals(kind, tokens, [[a["w_ih"], a["w_hh"]]], has_biases, _requires_grad(x))

    return formula


def sdpa_meta_output(args: tuple, kwargs: Mapping[str, Any]) -> torch.Tensor:
    """The output of SDPA on the meta device, from shapes alone: [..., S_q, E_v]."""
    a = dict(zip(_SDPA_ARGS, args)) | dict(kwargs)
    q, v = a["query"], a["value"]
    return torch.empty((*q.shape[:-1], v.shape[-1]), dtype=q.dtype, device="meta")


def _meta_like(t: torch.Tensor, shape: Sequence[int] | None = None) -> torch.Tensor:
    return torch.empty(tuple(t.shape) if shape is None else tuple(shape), dtype=t.dtype, device="meta")


def rnn_meta_output(args: tuple, kwargs: Mapping[str, Any]) -> tuple:
    """torch.lstm / gru / rnn_* outputs from shapes: (output, h_n[, c_n]); states keep hx's shapes."""
    second = args[1]
    packed = isinstance(second, torch.Tensor) and not second.is_floating_point()
    data, hx = (args[0], args[2]) if packed else (args[0], args[1])
    bi = args[8] if packed else args[7]
    states = tuple(hx) if isinstance(hx, (tuple, list)) else (hx,)
    width = (2 if bi else 1) * states[0].shape[-1]
    out = _meta_like(data, (*data.shape[:-1], width))
    return (out, *(_meta_like(h) for h in states))


def cell_meta_output(args: tuple, kwargs: Mapping[str, Any]) -> Any:
    """torch.*_cell outputs from shapes: the new state(s) keep hx's shapes."""
    hx = args[1] if len(args) > 1 else kwargs.get("hx")
    if isinstance(hx, (tuple, list)):
        return tuple(_meta_like(h) for h in hx)
    return _meta_like(hx)


def one_hot_meta_output(args: tuple, kwargs: Mapping[str, Any]) -> torch.Tensor:
    indices = args[0]
    classes = args[1] if len(args) > 1 else kwargs.get("num_classes", -1)
    if classes < 0:
        raise ValueError("one_hot on the meta device needs num_classes: the indices hold no values")
    return torch.empty((*indices.shape, classes), dtype=torch.int64, device="meta")


def zero_region(args: tuple, kwargs: Mapping[str, Any], hint: AttentionHint | None = None) -> RegionCount:
    """A function that only moves or selects data: no arithmetic either way."""
    return RegionCount({}, {})


def rms_norm_region(args: tuple, kwargs: Mapping[str, Any], hint: AttentionHint | None = None) -> RegionCount:
    """torch.rms_norm (nn.RMSNorm): x / sqrt(mean(x^2) + eps) [* weight].

    Per element: square, mean, scale by rsqrt: 3; the weight multiply: 1. Backward: twice the
    forward (one gradient per operand). Counted as one region because backends differ: a
    decomposition on CPU and meta, a fused kernel on CUDA.
    """
    names = ("input", "normalized_shape", "weight", "eps")
    a = dict(zip(names, args)) | dict(kwargs)
    per = 3 + (1 if a.get("weight") is not None else 0)
    flop = per * a["input"].numel()
    return RegionCount({Category.NORMALISATION: flop}, {Category.NORMALISATION: 2 * flop})


def _rms_norm_meta_output(args: tuple, kwargs: Mapping[str, Any]) -> torch.Tensor:
    return _meta_like(args[0] if args else kwargs["input"])


# Functions whose meta-device output is made from shapes, without running their decomposition.
META_OUTPUTS: dict[Any, Callable[[tuple, Mapping[str, Any]], Any]] = {
    torch._C._nn.scaled_dot_product_attention: sdpa_meta_output,
    **{f: rnn_meta_output for f in (_VF.lstm, _VF.gru, _VF.rnn_tanh, _VF.rnn_relu)},
    **{f: cell_meta_output for f in (_VF.lstm_cell, _VF.gru_cell, _VF.rnn_tanh_cell, _VF.rnn_relu_cell)},
    torch._C._nn.one_hot: one_hot_meta_output,
    _VF.rms_norm: _rms_norm_meta_output,
    torch.nn.functional.rms_norm: _rms_norm_meta_output,
}

REGIONS: dict[Any, tuple[str, RegionFormula]] = {
    torch._C._nn.scaled_dot_product_attention: ("scaled_dot_product_attention", sdpa_region),
    _VF.lstm: ("lstm", _rnn_region("lstm")),
    _VF.gru: ("gru", _rnn_region("gru")),
    _VF.rnn_tanh: ("rnn_tanh", _rnn_region("rnn_tanh")),
    _VF.rnn_relu: ("rnn_relu", _rnn_region("rnn_relu")),
    _VF.lstm_cell: ("lstm_cell", _cell_region("lstm")),
    _VF.gru_cell: ("gru_cell", _cell_region("gru")),
    _VF.rnn_tanh_cell: ("rnn_tanh_cell", _cell_region("rnn_tanh")),
    _VF.rnn_relu_cell: ("rnn_relu_cell", _cell_region("rnn_relu")),
    _VF.rms_norm: ("rms_norm", rms_norm_region),
    torch.nn.functional.rms_norm: ("rms_norm", rms_norm_region),  # reaches the mode before torch.rms_norm
    # one_hot decomposes differently on meta (comparisons) and CPU (aminmax, scatter): count it whole
    torch._C._nn.one_hot: ("one_hot", zero_region),
}
