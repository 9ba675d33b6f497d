"""Expected figures of ptflops' tests, asserted of this counter.

Source: sovrasov/flops-counter.pytorch, tests/common_test.py at commit 2c85b93dc2838776779d44431652170baf47df2f.
Convention: ptflops reports MACs and counts a bias as one MAC per output element. This counter
puts 2 FLOP per MAC in the conv / matmul category and the bias, 1 FLOP per output element, in
elementwise; so ptflops' figure = conv-or-matmul / 2 + elementwise bias.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
from peers import Call

from harness.counting.api import count_flops


def _ptflops_macs(r, kind):
    return r.by_category[kind] // 2 + r.by_category["elementwise"]


def test_conv():  # test_conv: Conv2d(3, 2, 3) on 3 x 224 x 224: 2,759,904 MACs
    r = count_flops(nn.Sequential(nn.Conv2d(3, 2, 3, bias=True)), (torch.randn(1, 3, 224, 224),))
    assert _ptflops_macs(r, "conv") == 2_759_904  # 2 x 222 x 222 outputs x (27 MACs + 1 bias)


def test_fc():  # test_fc: Linear(3, 2) on (3,): 8; test_fc_multidim on (4, 5, 3): 8 x 4 x 5
    fc = nn.Sequential(nn.Linear(3, 2, bias=True))
    assert _ptflops_macs(count_flops(fc, (torch.randn(1, 3),)), "matmul") == 8
    assert _ptflops_macs(count_flops(fc, (torch.randn(1, 4, 5, 3),)), "matmul") == (3 * 2 + 2) * 4 * 5


def test_interpolate_is_priced():  # test_func_interpolate_args: bilinear to 20 x 20 costs more than 0
    r = count_flops(Call(lambda x: F.interpolate(x, size=(20, 20), mode="bilinear", align_corners=False)),
                    (torch.randn(1, 3, 10, 10),))  # fmt: skip
    assert r.total == 9 * 3 * 20 * 20 and not r.uncounted  # 3 lerps of 3 FLOP per output element
