"""Expected figures of PyTorch's own FLOP-counter tests, asserted of this counter.

Source: pytorch/pytorch, test/test_flop_counter.py at commit 067f1d9d1fec00506e2b6f2bcdb95005e8cbd2ba.
Convention: FlopCounterMode counts 2 FLOP per multiply-accumulate of matmuls, convolutions and
attention, and nothing else (no bias add, no elementwise op): its figures are compared with the
matmul-class categories here (matmul + conv + attention + recurrent), whose convention is the same.
Its flash and memory-efficient backward figures include the Q K^T recomputation, which this
counter reports apart as `recompute_flop`.
"""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from peers import Call, matmul_class

from harness.counting import attention as A
from harness.counting.api import count_flops
from harness.conventions import Category


def T(*shape, grad=False):
    return torch.randn(*shape, requires_grad=grad)


def test_variety():  # test_flop_counter_variety: 3012
    lin = nn.Linear(9, 10)

    def ops():
        torch.mm(T(4, 5), T(5, 6))
        torch.addmm(T(4, 6), T(4, 5), T(5, 6), beta=0.5, alpha=0.5)
        torch.matmul(T(5, 6), T(6, 7))
        torch.einsum("ab,bc->ac", T(6, 7), T(7, 8))
        return lin(T(8, 9))

    net = Call(ops)
    net.lin = lin
    assert matmul_class(count_flops(net, ())) == 3012


@pytest.mark.parametrize(
    "fn, expected",
    [
        (lambda: torch.mm(T(4, 5), T(5, 6)), 240),  # test_op
        (lambda: torch.bmm(T(3, 4, 5), T(3, 5, 6)), 720),
        (lambda: (torch.addmm(T(4, 6), T(4, 5), T(5, 6)), torch.addmm(T(4, 1), T(4, 5), T(5, 6)),
                  torch.addmm(T(6), T(4, 5), T(5, 6))), 720),  # fmt: skip
        (lambda: torch.baddbmm(T(3, 4, 6), T(3, 4, 5), T(3, 5, 6)), 720),
        (lambda: torch.conv2d(T(2, 3, 6, 6), T(6, 3, 4, 4), padding=1), 28800),
        (lambda: torch.conv1d(T(2, 3, 6), T(6, 3, 4), padding=1), 1440),
        (lambda: torch.mm(T(10, 10), T(10, 10), out=torch.zeros(10, 10)), 2000),  # test_addmm_out
    ],
)
def test_op(fn, expected):
    assert matmul_class(count_flops(Call(fn), ())) == expected


def test_backward():  # test_backward: 5184
    def fn(a):
        a = torch.mm(a, T(5, 6)).unsqueeze(0).expand(7, 4, 6)
        return torch.bmm(a, T(7, 6, 7))

    assert matmul_class(count_flops(Call(fn), (T(4, 5, grad=True),), phase="train")) == 5184


def test_backward_twice():  # test_backward_reset: 960 over two steps
    a = T(4, 5, grad=True)
    one = matmul_class(count_flops(Call(lambda a: a.mm(a.t())), (a,), phase="train"))
    assert 2 * one == 960


def test_custom_autograd_function():  # test_autograd_op: 750
    class Op(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return torch.mm(x, x)

        @staticmethod
        def backward(ctx, g):
            return torch.mm(g, g) + torch.mm(g, g)

    assert matmul_class(count_flops(Call(Op.apply), (T(5, 5, grad=True),), phase="train")) == 750


@pytest.mark.parametrize(
    "fn, x, w, forward",
    [
        (F.conv_transpose2d, (1, 1, 2, 2), (1, 1, 2, 2), 32),  # test_convs
        (F.conv2d, (1, 1, 2, 2), (1, 1, 1, 1), 8),
        (F.conv2d, (1, 3, 4, 4), (7, 3, 2, 2), None),
        (F.conv2d, (1, 4, 4, 4), (2, 2, 2, 2), None),  # groups 2
        (F.conv_transpose2d, (1, 3, 4, 4), (3, 7, 2, 2), None),
    ],
)
def test_conv_backward_is_twice_the_forward(fn, x, w, forward):
    groups = x[1] // w[1] if fn is F.conv2d else 1
    r = count_flops(Call(lambda x, w: fn(x, w, groups=groups)), (T(*x, grad=True), T(*w, grad=True)), phase="train")
    fwd, bwd = r.by_phase_category["forward"]["conv"], r.by_phase_category["backward"]["conv"]
    assert bwd == 2 * fwd
    if forward is not None:
        assert fwd == forward


def test_conv_transpose_loop():  # test_conv_transpose_loop: 1,536,000 over 50 steps
    net = nn.ConvTranspose2d(4, 8, (2, 2), stride=2)
    one = count_flops(net, (T(1, 4, 30, 2),), phase="train")
    assert 50 * one.by_category["conv"] == 1_536_000


def test_resnet18_forward_and_backward():  # test_module: 10,884,440,064; layer1 924,844,032 / 1,849,688,064
    from test_counter_gaps import ResNet18, _Basic

    r = count_flops(ResNet18(), (T(1, 3, 224, 224, grad=True),), phase="train")
    assert matmul_class(r) == 10_884_440_064
    layer1 = nn.Sequential(_Basic(64, 64, 1), _Basic(64, 64, 1))
    l1 = count_flops(layer1, (T(1, 64, 56, 56, grad=True),), phase="train")
    assert l1.by_phase_category["forward"]["conv"] == 924_844_032
    assert l1.by_phase_category["backward"]["conv"] == 1_849_688_064


@pytest.mark.parametrize(
    "s_k, forward, math_total, fused_total",
    [(128, 134_217_728, 3 * 134_217_728, 134_217_728 * 7 // 2), (256, 268_435_456, 805_306_368, 939_524_096)],
)
def test_sdpa(s_k, forward, math_total, fused_total):
    # test_sdpa: batch 4, 8 heads, 128 queries, head dim 64, is_causal=True (counted as the full square)
    q, k = (4, 8, 128, 64), (4, 8, s_k, 64)
    fwd, _, _ = A.attention_flops(q, k, k, True, backward=False)
    bwd, _, recompute = A.attention_flops(q, k, k, True, backward=True)
    assert fwd[Category.ATTENTION] == forward
    assert fwd[Category.ATTENTION] + bwd[Category.ATTENTION] == math_total
    assert fwd[Category.ATTENTION] + bwd[Category.ATTENTION] + recompute == fused_total  # flash / mem-efficient
    meta = torch.empty(q, device="meta"), torch.empty(k, device="meta")
    r = count_flops(Call(lambda q, k: F.scaled_dot_product_attention(q, k, k, is_causal=True)), meta)
    assert r.by_category["attention"] == forward


def test_sdpa_nested_equals_the_dense_sum():
    # test_sdpa_nested_tensor: jagged lengths 32, 64, 96, 128 of 8 heads x 64 give the sum of the dense counts
    lengths = [32, 64, 96, 128]
    x = torch.nested.nested_tensor([torch.randn(n, 8 * 64) for n in lengths], layout=torch.jagged)
    q = x.unflatten(-1, (8, 64)).transpose(1, 2)
    sdpa = Call(lambda q: F.scaled_dot_product_attention(q, q, q))
    nested = count_flops(sdpa, (q,)).by_category["attention"]
    dense = sum(count_flops(sdpa, (torch.randn(1, 8, n, 64),)).by_category["attention"] for n in lengths)
    assert nested == dense == 2 * 8 * sum(n * n for n in lengths) * 128


def test_pytrees():  # test_pytrees: 12,000 (two Foo) and 6,000 (one mm), forward and backward
    class Foo(nn.Module):
        def forward(self, x):
            x = x["a"].relu_()
            return {"a": torch.mm(x, x)}

    class Mod(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = Foo(), Foo()

        def forward(self, x):
            return self.b(self.a(x))

    x = {"a": T(10, 10, grad=True).clone()}
    r = count_flops(Mod(), (x,), phase="train", loss_fn=lambda out: out["a"].sum())
    assert r.by_category["matmul"] == 12_000
    r2 = count_flops(Call(lambda x: (torch.mm(x, x),)), (T(10, 10, grad=True),), phase="train")
    assert r2.by_category["matmul"] == 6_000
