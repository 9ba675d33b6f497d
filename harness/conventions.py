"""The FLOP convention of the harness, decided once, here.

* 1 multiply-accumulate (MAC) = 2 FLOP, as accelerator datasheets count an FMA (Epoch AI 2022,
  "Estimating Training Compute of Deep Learning Models"). Tools that report MACs are converted
  inside their adapter.
* Every count is broken down by op category and by phase.
* Matmul-class ops (mm, bmm, linear, conv, attention, recurrent gates) are exact: 2 x MACs.
  A bias add fused into a matmul (addmm, conv with bias) is counted apart, as elementwise,
  so that `addmm` and `mm` + `add` give the same categories on every backend.
* Pointwise, normalisation, softmax and reduction ops get the per-element costs of
  `PER_ELEMENT` below, each with the decomposition it stands for. They live in their own
  categories so a user can include or exclude them.
* Ops that move data and do no arithmetic (views, copies, gathers, fills) cost 0 and are
  known to cost 0; an op with no rule is *uncounted* and listed with its call count.
* Attention: the model-FLOP convention. Forward = the two matmuls Q K^T and P V.
  Backward = the four matmuls of the gradient (dV, dP, dQ, dK), twice the forward,
  whatever kernel runs. Flash-style kernels also recompute Q K^T in the backward: that
  recomputation is reported apart as `recompute_flop` (hardware FLOP, for HFU), never in
  the model count.
* Causal attention is reported both ways: the full square (PaLM, nanoGPT, torchtitan) and
  the causal lower triangle, diagonal included (Megatron halves it). `.total` uses the
  convention the caller picks (full square by default); the other is always available.
"""

from __future__ import annotations

from enum import Enum

FLOP_PER_MAC = 2


class Category(str, Enum):
    """What kind of arithmetic an op does. Values are the keys shown to users."""

    MATMUL = "matmul"
    CONV = "conv"
    ATTENTION = "attention"
    RECURRENT = "recurrent"
    NORMALISATION = "normalisation"
    SOFTMAX = "softmax"
    ELEMENTWISE = "elementwise"
    EMBEDDING = "embedding"
    REDUCTION = "reduction"
    OPTIMIZER = "optimizer"


class Phase(str, Enum):
    FORWARD = "forward"
    BACKWARD = "backward"
    OPTIMIZER = "optimizer"


class AttentionConvention(str, Enum):
    FULL = "full"  # every (query, key) pair of the square, masked or not
    CAUSAL = "causal"  # the lower triangle, diagonal included


MATMUL_CLASS = (Category.MATMUL, Category.CONV, Category.ATTENTION, Category.RECURRENT)

# FLOP per element of the op's output (or input, where `per` says so), with what it stands for.
# Softmax follows Chinchilla (Hoffmann et al. 2022, App. F): 3 per element.
PER_ELEMENT: dict[str, tuple[int, str]] = {
    "pointwise": (1, "one arithmetic or transcendental op per output element"),
    "addcmul": (2, "a + b * c: multiply, add (+1 when a scalar v multiplies)"),
    "addcdiv": (2, "a + b / c: divide, add (+1 when a scalar v multiplies)"),
    "lerp": (3, "a + w * (b - a): subtract, multiply, add"),
    "gelu": (5, "x * 0.5 * (1 + erf(x / sqrt 2)): divide, erf, add, multiply, multiply"),
    "gelu_backward": (8, "derivative of the erf form: 8 ops per element"),
    "silu": (2, "x * sigmoid(x): sigmoid, multiply"),
    "silu_backward": (5, "g * s * (1 + x (1 - s)): 5 ops per element"),
    "softmax": (3, "exp, sum, divide (Chinchilla App. F)"),
    "softmax_backward": (4, "y * (g - sum(g * y)): multiply, sum, subtract, multiply"),
    "norm": (5, "per element: mean, subtract, square, mean, scale by rsqrt"),
    "norm_affine": (2, "per element: weight multiply, bias add"),
    "norm_backward": (10, "twice the forward's 5 per element"),
    "reduction": (1, "one add or compare per input element"),
    "variance": (3, "subtract mean, square, add per input element"),
    "pool": (1, "one add or compare per window element"),
    "dropout": (2, "draw a mask, multiply"),
    "embedding_backward": (1, "one add per gradient element scattered into the table"),
    "loss_per_element": (3, "subtract, square or log-prob pick, add"),
    "interpolate_lerp": (3, "a + w (b - a) per lerp; per output element linear 1, bilinear 3, trilinear 7 lerps"),
    "interpolate_cubic": (7, "4 taps, 4 multiply + 3 add per 1-D cubic; bicubic 5 per output element"),
}

# Optimizer update cost per parameter element, derived op by op from torch.optim's
# single-tensor implementations, every scalar multiply counted (a test counts torch's own step
# with the formulas above and finds these figures). Hobbhahn & Sevilla (2021) quote ~2 for SGD
# and ~18 for Adam as rough figures.
OPTIMIZER_PER_PARAM: dict[str, tuple[int, str]] = {
    "sgd": (2, "p -= lr * g: multiply, subtract"),
    "adam": (
        13,
        "m = lerp(m, g, 1-b1): 3; v = b2 v + (1-b2) g^2: 4; "
        "denom = sqrt(v) / sqrt(bc2) + eps: 3; p -= (lr / bc1) * m / denom: 3",
    ),
    "adamw": (14, "Adam's 13, plus p *= 1 - lr * wd: 1"),
}
