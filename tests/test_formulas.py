"""Per-op formulas on shapes, each golden number derived by hand beside it."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from harness import count_flops
from harness.conventions import Category
from harness.counting import attention as attn
from harness.counting import formulas as fm


def test_mm_is_two_flop_per_mac():
    assert fm.mm_flop((4, 5), (5, 6)) == 240  # 2*4*5*6


def test_bmm():
    assert fm.bmm_flop((3, 4, 5), (3, 5, 6)) == 720  # 2*3*4*5*6


def test_conv2d():
    # [1,3,8,8] * [16,3,3,3] pad 1 -> [1,16,8,8]; MACs = 64 outputs * 16 * 27
    assert fm.conv_flop((1, 3, 8, 8), (16, 3, 3, 3), (1, 16, 8, 8), False) == 2 * 64 * 16 * 27


def test_conv_grouped_depthwise():
    # depthwise: groups=8, w [8,1,3,3]; out [2,8,6,6]: MACs = 2*36 * 8*9
    assert fm.conv_flop((2, 8, 8, 8), (8, 1, 3, 3), (2, 8, 6, 6), False) == 2 * 2 * 36 * 72


def test_conv_transposed_counts_input_positions():
    # transposed: x [1,4,5,5], w [4,2,3,3]: each of 25 inputs scatters 4 * 2*9 MACs
    assert fm.conv_flop((1, 4, 5, 5), (4, 2, 3, 3), (1, 2, 11, 11), True) == 2 * 25 * 72


def test_conv3d_and_conv1d():
    assert fm.conv_flop((1, 2, 4, 4, 4), (3, 2, 1, 1, 1), (1, 3, 4, 4, 4), False) == 2 * 64 * 6
    assert fm.conv_flop((2, 3, 10), (5, 3, 3), (2, 5, 8), False) == 2 * 2 * 8 * 45


def test_attention_pairs():
    assert attn.attention_pairs(4, 4, False) == 16
    assert attn.attention_pairs(4, 4, True) == 10  # 1+2+3+4
    assert attn.attention_pairs(2, 5, True) == 3  # rows see 1, 2 keys
    assert attn.attention_pairs(5, 2, True) == 1 + 2 + 2 + 2 + 2


@pytest.mark.parametrize(
    "conv, shape",
    [
        (nn.Conv2d(3, 8, 3, padding=1, bias=False), (2, 3, 8, 8)),
        (nn.Conv2d(8, 8, 3, groups=4, bias=False), (1, 8, 7, 7)),
        (nn.ConvTranspose2d(4, 6, 3, stride=2, bias=False), (1, 4, 5, 5)),
        (nn.Conv1d(3, 5, 3, bias=False), (2, 3, 10)),
        (nn.Conv3d(2, 3, 2, bias=False), (1, 2, 4, 4, 4)),
    ],
)
def test_conv_modules_match_shape_formula(conv, shape):
    x = torch.randn(shape)
    out = conv(x)
    expected = fm.conv_flop(shape, conv.weight.shape, out.shape, isinstance(conv, nn.modules.conv._ConvTransposeNd))
    assert count_flops(conv, (x,)).total == expected


def test_conv_bias_is_elementwise():
    conv = nn.Conv2d(3, 4, 1)
    r = count_flops(conv, (torch.randn(1, 3, 5, 5),))
    assert r.by_category["conv"] == 2 * 25 * 4 * 3  # 25 positions, 4x3 weights
    assert r.by_category["elementwise"] == 4 * 25  # one add per output element


def test_linear_with_bias_is_addmm_split():
    lin = nn.Linear(6, 5)
    r = count_flops(lin, (torch.randn(3, 6),))
    assert r.by_category["matmul"] == 2 * 3 * 6 * 5
    assert r.by_category["elementwise"] == 3 * 5


def test_einsum_and_matmul_counted_as_matmul():
    class M(nn.Module):
        def forward(self, a, b):
            return torch.einsum("bij,bjk->bik", a, b) + a @ b

    r = count_flops(M(), (torch.randn(2, 3, 4), torch.randn(2, 4, 5)))
    assert r.by_category["matmul"] == 2 * (2 * 2 * 3 * 4 * 5)  # two bmm of 2*b*m*k*n
    assert r.by_category["elementwise"] == 2 * 3 * 5  # the add


def test_softmax_and_layernorm_per_element_costs():
    x = torch.randn(4, 10)
    assert count_flops(nn.Softmax(dim=-1), (x,)).by_category["softmax"] == 3 * 40
    assert count_flops(nn.LayerNorm(10), (x,)).by_category["normalisation"] == 7 * 40  # 5 + affine 2
    assert count_flops(nn.LayerNorm(10, elementwise_affine=False), (x,)).total == 5 * 40


def test_pointwise_default_and_own_costs():
    x = torch.randn(8)
    assert count_flops(nn.ReLU(), (x,)).by_category["elementwise"] == 8  # 1 per element
    assert count_flops(nn.GELU(), (x,)).by_category["elementwise"] == 5 * 8  # erf form
    assert count_flops(nn.SiLU(), (x,)).by_category["elementwise"] == 2 * 8


def test_views_and_copies_cost_nothing_and_are_not_uncounted():
    class M(nn.Module):
        def forward(self, x):
            return x.view(2, 8).transpose(0, 1).contiguous().clone()

    r = count_flops(M(), (torch.randn(16),))
    assert r.total == 0
    assert dict(r.uncounted) == {}


def test_op_without_formula_is_listed_not_zeroed():
    class M(nn.Module):
        def forward(self, x):
            return torch.linalg.inv(x) @ x  # inv has no formula

    r = count_flops(M(), (torch.randn(4, 4),))
    assert r.by_category["matmul"] == 2 * 4 * 4 * 4
    assert any("linalg_inv" in name for name in r.uncounted)
    assert r.uncounted_share > 0


def test_registry_rejects_duplicates():
    with pytest.raises(ValueError, match="duplicate"):
        fm.register(torch.ops.aten.mm.default)(lambda a, out: {})


def test_sdpa_formula_terms():
    # B=2, H=3, S=5, T=7, D=4, E=6: Q K^T 2*6*5*7*4 = 1680, P V 2*6*5*7*6 = 2520
    flops, saved, _ = attn.attention_flops((2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6), False, False)
    assert flops[Category.ATTENTION] == 1680 + 2520
    assert flops[Category.SOFTMAX] == 3 * 6 * 5 * 7
    assert saved == 0
    bwd, saved_b, recompute = attn.attention_flops((2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6), True, True)
    assert bwd[Category.ATTENTION] == 2 * (1680 + 2520)
    assert recompute == 1680
    assert saved_b == 2 * 2 * 6 * (35 - 15) * (4 + 6)  # causal keeps 1+2+3+4+5 = 15 of 35 pairs


def test_gqa_counts_every_query_head():
    q = torch.randn(1, 8, 16, 4)
    kv = torch.randn(1, 2, 16, 4)

    class M(nn.Module):
        def forward(self, q, k, v):
            return F.scaled_dot_product_attention(q, k, v, enable_gqa=True)

    r = count_flops(M(), (q, kv, kv))
    assert r.by_category["attention"] == 2 * 2 * 8 * 16 * 16 * 4


def test_pooling_windows():
    x = torch.randn(1, 2, 8, 8)
    # 2x2 max pool: 2*4*4 outputs, each compares a 4-element window
    assert count_flops(nn.MaxPool2d(2), (x,)).by_category["reduction"] == 4 * 2 * 16
    # LRN over 5 channels runs avg_pool3d with a 5x1x1 window on [1, 1, 2, 8, 8]
    r = count_flops(nn.LocalResponseNorm(5), (x.requires_grad_(),), phase="train")
    assert dict(r.uncounted) == {}
    # plus the loss: a sum over the 128 outputs
    assert r.by_phase_category["forward"]["reduction"] == 5 * 2 * 64 + 128


def test_gather_backward_and_embedding_bag_are_counted():
    x = torch.randn(4, 6, requires_grad=True)
    j = torch.randint(0, 6, (4, 2))

    class Gather(nn.Module):
        def forward(self, x):
            return x.gather(1, j)

    r = count_flops(Gather(), (x,), phase="train")
    assert dict(r.uncounted) == {}
    assert r.by_phase_category["backward"]["elementwise"] == 8  # scatter_add of 8 values
    bag = nn.EmbeddingBag(100, 8, mode="sum")
    r = count_flops(bag, (torch.randint(0, 100, (4, 3)),), phase="train")
    assert dict(r.uncounted) == {}
    assert r.by_phase_category["forward"]["embedding"] == 12 * 8  # 12 rows of 8 summed


@pytest.mark.parametrize("device", ["meta", "cpu"])
def test_one_hot_and_rms_norm_count_alike_everywhere(device):
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = nn.RMSNorm(5)

        def forward(self, i):
            return self.norm(F.one_hot(i, 5).float())

    with torch.device(device):
        r = count_flops(M(), (torch.randint(0, 5, (8,)),), phase="train")
    assert dict(r.uncounted) == {}
    assert r.by_phase_category["forward"]["normalisation"] == 4 * 40  # square, mean, rsqrt scale, weight
    assert r.by_phase_category["backward"]["normalisation"] == 2 * 4 * 40
