"""Expected figures of fvcore's FLOP-counter tests, asserted of this counter.

Source: facebookresearch/fvcore, tests/test_flop_count.py at commit 1856b63f7067a987470999876d7d38ee241a6a32.
Convention: fvcore reports multiply-accumulates (its "flop" is one MAC) and leaves bias adds out;
each figure below is fvcore's, and this counter's matmul-class FLOP are 2x it. Where fvcore prices
an op by its own per-element rule (batch norm, group norm, bilinear upsampling) the two rules are
stated side by side on the same shapes.
"""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from peers import Call, matmul_class

from harness.counting.formulas import cost
from harness.counting.api import count_flops

MAC = 2  # FLOP per fvcore unit


def test_linear():  # test_nn / test_linear: batch x in x out
    assert matmul_class(count_flops(nn.Linear(8, 4), (torch.randn(5, 8),))) == MAC * 5 * 8 * 4
    lin = nn.Linear(10, 20)
    assert matmul_class(count_flops(lin, (torch.randn(5, 10),))) == MAC * 5 * 10 * 20
    assert matmul_class(count_flops(lin, (torch.randn(5, 5, 10),))) == MAC * 5 * 10 * 5 * 20


# test_conv: (dims, batch, in, out, spatial, kernel, padding, stride, groups, transposed, output_padding)
CONVS = [
    (2, 5, 10, 3, 15, 3, 1, 1, 1, False, 0),
    (2, 2, 10, 6, 20, 3, 1, 2, 1, False, 0),
    (2, 5, 16, 8, 15, 5, 2, 1, 4, False, 0),
    (2, 5, 16, 8, 15, 3, 1, 1, 8, False, 0),
    (1, 5, 10, 3, 15, 3, 1, 1, 1, False, 0),
    (3, 5, 10, 3, 15, 3, 1, 1, 1, False, 0),
    (2, 5, 10, 3, 15, 3, 1, 1, 1, True, 0),
    (2, 5, 10, 3, 15, 3, 1, 2, 1, True, 0),
    (2, 5, 10, 3, 15, 3, 1, 3, 1, True, 2),
]


@pytest.mark.parametrize("dims, n, cin, cout, s, k, pad, stride, groups, transposed, outpad", CONVS)
def test_conv(dims, n, cin, cout, s, k, pad, stride, groups, transposed, outpad):
    kinds = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d) if transposed else (nn.Conv1d, nn.Conv2d, nn.Conv3d)
    extra = {"output_padding": outpad} if transposed else {}
    conv = kinds[dims - 1](cin, cout, k, stride, pad, groups=groups, **extra)
    r = count_flops(conv, (torch.randn(n, cin, *([s] * dims)),))
    # fvcore: batch x in x out x k^d x out_spatial^d / groups (a transposed conv: the input's spatial size)
    spatial = s if transposed else (s + 2 * pad - k) // stride + 1
    expected_macs = n * cin * cout * k**dims * spatial**dims // groups
    assert r.by_category["conv"] == MAC * expected_macs


@pytest.mark.parametrize(
    "x, y, macs",
    [((20, 10), (10, 100), 20 * 10 * 100), ((1, 20, 10), (1, 10, 100), 20 * 10 * 100),  # test_matmul(_broadcast)
     ((2, 2, 20, 10), (2, 2, 10, 100), 4 * 20 * 10 * 100), ((1, 20, 10), (10, 100), 20 * 10 * 100),
     ((2, 20, 10), (10, 100), 2 * 20 * 10 * 100)],
)  # fmt: skip
def test_matmul(x, y, macs):
    assert matmul_class(count_flops(Call(torch.matmul), (torch.randn(x), torch.randn(y)))) == MAC * macs


def test_bmm_and_einsum():
    assert matmul_class(count_flops(Call(torch.bmm), (torch.randn(2, 5, 2), torch.randn(2, 2, 12)))) == MAC * 2 * 2 * 12 * 5
    eins = lambda eq: Call(lambda x, y: torch.einsum(eq, x, y))  # noqa: E731
    assert matmul_class(count_flops(eins("nct,ncp->ntp"), (torch.randn(1, 5, 2), torch.randn(1, 5, 12)))) == MAC * 2 * 12 * 5
    assert matmul_class(count_flops(eins("ntg,ncg->nct"), (torch.randn(1, 2, 6), torch.randn(1, 5, 6)))) == MAC * 2 * 6 * 5
    # test_complicated_einsum: "nc,nchw->hw" on [3, 4] and [3, 4, 2, 3]: 72
    assert matmul_class(count_flops(eins("nc,nchw->hw"), (torch.randn(3, 4), torch.randn(3, 4, 2, 3)))) == MAC * 72


def test_three_net():  # test_threeNet: conv 4x5x2x10x10, linears 4x5x3 and 4x3x1
    class ThreeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.linear1, self.linear2 = nn.Conv2d(2, 5, 1), nn.Linear(5, 3), nn.Linear(3, 1)

        def forward(self, x):
            return self.linear2(self.linear1(torch.flatten(F.adaptive_avg_pool2d(self.conv(x), 1), 1)))

    r = count_flops(ThreeNet(), (torch.randn(4, 2, 10, 10),))
    assert r.by_category["conv"] == MAC * 4 * 5 * 2 * 10 * 10
    assert r.by_category["matmul"] == MAC * (4 * 5 * 3 + 4 * 3 * 1)
    # fvcore prices the pool at 2e-6 GFLOP = 2,000 (one per input element: 4 x 5 x 10 x 10); so do we
    assert r.by_category["reduction"] == 2_000 == 4 * 5 * 10 * 10


def test_per_element_rules_side_by_side():
    x = torch.randn(10, 10, 5, 5)
    bn = count_flops(nn.BatchNorm2d(10, affine=False), (x,))
    # fvcore: 4 per element (training batch norm); here: the stated norm cost, 5 per element
    assert bn.by_category["normalisation"] == cost("norm") * x.numel() and cost("norm") == 5
    up = count_flops(Call(lambda x: F.interpolate(x, scale_factor=2, mode="bilinear")), (torch.rand(2, 2, 2, 2),))
    # fvcore test_upsample: 2**4 * 4 * 4 = 256, i.e. 4 per output element of [2, 2, 4, 4]; here 3 lerps of 3 = 9
    assert up.by_category["elementwise"] == 9 * 64 and 256 == 4 * 64
