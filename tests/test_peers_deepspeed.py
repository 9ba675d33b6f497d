"""Expected figures of DeepSpeed's flops-profiler tests, asserted of this counter.

Source: deepspeedai/DeepSpeed, tests/unit/profiling/flops_profiler/test_flops_profiler.py at commit
223c6b8b78f8deece379c274816612b5ea16cf25.
Convention: DeepSpeed reports MACs and FLOP (2 per MAC, plus one per bias add and per elementwise
output). Its MACs x 2 are this counter's matmul-class FLOP; its bias and elementwise FLOP are in
this counter's elementwise category.
"""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from peers import Call, matmul_class

from harness.counting.api import count_flops


def test_sdpa():  # test_repeated_profile_restores_operations: (65,536 FLOP, 32,768 MACs) for [2, 4, 16, 8]
    q = torch.randn(2, 4, 16, 8)
    r = count_flops(Call(lambda q, k, v: F.scaled_dot_product_attention(q, k, v)), (q, q.clone(), q.clone()))
    assert r.by_category["attention"] == 65_536 == 2 * 32_768


@pytest.mark.parametrize("groups", [1, 2, 4])
@pytest.mark.parametrize("stride, padding, output_padding", [(1, 0, 0), (2, 1, 1)])
def test_conv_transpose(groups, stride, padding, output_padding):
    # test_conv_transpose_flops: MACs = N H W x in x out / groups x k^2; bias once per output element
    conv = nn.ConvTranspose2d(4, 8, 3, stride=stride, padding=padding, output_padding=output_padding, groups=groups)
    x = torch.randn(2, 4, 8, 8)
    r = count_flops(conv, (x,))
    out = conv(x)
    macs = 2 * 8 * 8 * 4 * (8 // groups) * 3 * 3
    assert r.by_category["conv"] == 2 * macs
    assert r.by_category["elementwise"] == out.numel()  # DeepSpeed: out_channels x N x H_out x W_out


def test_lenet5_inference():  # test_flops_profiler_in_inference: 426,516,480 MACs (within 5%), batch 1024
    net = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10),
    )  # fmt: skip
    r = count_flops(net, (torch.randn(1024, 1, 32, 32),))
    assert abs(matmul_class(r) / 2 - 426_516_480) / 426_516_480 < 0.05
    assert abs(r.total - 866_076_672) / 866_076_672 < 0.05  # its FLOP, bias, tanh and pooling included


@pytest.mark.parametrize("lhs, rhs", [((2, 3, 4), (4,)), ((4,), (2, 3, 4)), ((8,), (2, 8)), ((3, 4), (4,)),
                                      ((2, 3, 4), (2, 3, 4)), ((4, 1, 7), (1, 5, 7))])  # fmt: skip
def test_elementwise_broadcast(lhs, rhs):  # test_elementwise_broadcast_flops: one per output element
    a, b = torch.randn(lhs), torch.randn(rhs)
    assert count_flops(Call(torch.mul), (a, b)).total == torch.mul(a, b).numel()


def test_shared_module_counted_per_call():  # test_flops_profiler_counts_shared_module_once: 60,000
    shared = nn.Linear(100, 100, bias=False)
    net = Call(lambda x: tuple(shared(p) for p in torch.split(x, 100, dim=1)))
    net.shared = shared
    assert count_flops(net, (torch.randn(1, 300),)).total == 60_000


@pytest.mark.parametrize("bias", [True, False])
def test_linear_bias(bias):  # test_linear_bias_flops: MACs 4 x 8 x 16, bias once per output element
    r = count_flops(nn.Linear(8, 16, bias=bias), (torch.randn(4, 8),))
    assert r.by_category["matmul"] == 2 * 4 * 8 * 16
    assert r.by_category["elementwise"] == (4 * 16 if bias else 0)


@pytest.mark.parametrize("lhs, rhs", [((8,), (8,)), ((4, 8), (8,)), ((8,), (8, 5)), ((4, 8), (8, 5)),
                                      ((3, 4, 8), (3, 8, 5)), ((2, 1, 4, 8), (3, 8, 5))])  # fmt: skip
def test_matmul(lhs, rhs):  # test_matmul_flops: MACs = max(output elements, 1) x contracted length
    a, b = torch.randn(lhs), torch.randn(rhs)
    macs = max(torch.matmul(a, b).numel(), 1) * lhs[-1]
    assert matmul_class(count_flops(Call(torch.matmul), (a, b))) == 2 * macs


@pytest.mark.parametrize("bias_shape", [(4, 5), (5,), (1, 5), (4, 1), (1,)])
def test_addmm_broadcast_bias(bias_shape):  # test_addmm_broadcast_bias_flops: 2 x 160 + 20
    r = count_flops(Call(torch.addmm), (torch.randn(bias_shape), torch.randn(4, 8), torch.randn(8, 5)))
    assert r.by_category["matmul"] == 2 * 4 * 8 * 5
    assert r.by_category["elementwise"] == 4 * 5
