"""Ops and calls the counter once missed: each golden number derived by hand beside it."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from peers import Call
from torch.nn.attention.flex_attention import create_block_mask, flex_attention
from torch.utils.flop_counter import FlopCounterMode

from harness.counting import attention as A
from harness.counting import formulas as fm
from harness.counting import kernels as K
from harness.counting.api import CountError, count_flops

aten = torch.ops.aten


# ---------------------------------------------------------------- grouped and scaled matmuls


def test_grouped_mm_flop_does_not_depend_on_the_expert_count():
    assert K.grouped_mm_flop((6, 4), (3, 4, 5)) == 2 * 6 * 4 * 5  # S K N
    assert K.grouped_mm_flop((6, 4), (8, 4, 5)) == 2 * 6 * 4 * 5  # E = 8 changes nothing
    assert K.grouped_mm_flop((4, 6), (6, 5)) == 2 * 4 * 6 * 5  # K grouped: the weight gradient
    assert K.grouped_mm_flop((3, 2, 4), (3, 4, 5)) == 2 * 3 * 2 * 4 * 5  # batched


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_grouped_mm_forward_and_backward(device):
    a = torch.randn(6, 4, device=device, requires_grad=True)
    w = nn.Parameter(torch.randn(3, 4, 8, device=device))  # CPU kernel: rows of 16 bytes
    offs = torch.tensor([2, 4, 6], dtype=torch.int32, device=device)
    net = Call(lambda x: torch._grouped_mm(x, w, offs=offs) * 2)  # * 2: a dense gradient, as the CPU kernel needs
    net.w = w
    fwd = count_flops(net, (a,))
    assert fwd.by_category["matmul"] == 384 and not fwd.uncounted  # 2*6*4*8
    train = count_flops(net, (a,), phase="train")
    # grad a: [6, 8] x [3, 8, 4]: 2*6*8*4; grad w: [4, 6] x [6, 8] grouped along 6: 2*4*6*8
    assert train.by_phase_category["backward"]["matmul"] == 384 + 384


def test_scaled_mm_formula():
    a = {"self": torch.empty(16, 32, device="meta"), "mat2": torch.empty(32, 8, device="meta"), "bias": None}
    out = torch.empty(16, 8, device="meta")
    assert fm.FORMULAS[aten._scaled_mm.default](a, out) == {fm.Category.MATMUL: 2 * 16 * 32 * 8}
    a["bias"] = torch.empty(8, device="meta")
    assert fm.FORMULAS[aten._scaled_mm.default](a, out)[fm.Category.ELEMENTWISE] == 16 * 8


def test_mv_and_addmv():
    m, v, b = torch.randn(4, 5), torch.randn(5), torch.randn(4)
    assert count_flops(Call(torch.mv), (m, v)).by_category["matmul"] == 40  # 2*4*5
    r = count_flops(Call(torch.addmv), (b, m, v))
    assert (r.by_category["matmul"], r.by_category["elementwise"]) == (40, 4)


# ---------------------------------------------------------------- attention kernels and calls


def test_kept_pairs_with_windows():
    assert A.kept_pairs(4, 4, True) == 10  # 1+2+3+4
    assert A.kept_pairs(6, 6, True, left=1) == 1 + 2 * 5  # each row: itself and one before
    assert A.kept_pairs(5, 5, False, left=1, right=1) == 2 + 3 * 3 + 2  # a band of width 3
    assert A.kept_pairs(16, 16, True, left=3) == 1 + 2 + 3 + 4 * 13  # a window of 4 keys


def test_flash_attention_direct_call_in_bshd_layout():
    q = torch.empty(2, 16, 4, 8, device="meta")  # [B, S, H, D]
    net = Call(lambda q: aten._flash_attention_forward(q, q, q, None, None, 16, 16, 0.0, True, False)[0])
    r = count_flops(net, (q,))
    full = 2 * 2 * 4 * 16 * 16 * (8 + 8)  # 2 x B H S S (d + e)
    assert r.by_category["attention"] == full
    assert r.total_full - r.total_causal == 2 * 2 * 4 * (16 * 16 - 16 * 17 // 2) * 16


def test_varlen_attention_sums_over_sequences():
    q = torch.empty(8, 2, 8)  # [T, H, D]: sequences of 3 and 5 tokens
    cum = torch.tensor([0, 3, 8], dtype=torch.int32)
    args = {"query": q, "key": q, "value": q, "cum_seq_q": cum, "cum_seq_k": cum, "is_causal": True}
    flops, saved, recompute = A.ATTENTION_KERNELS[aten._flash_attention_forward](args)
    assert flops[fm.Category.ATTENTION] == 2 * 2 * (9 + 25) * 16  # 2 x H x (3^2 + 5^2) x (d + e)
    assert saved == 2 * 2 * ((9 - 6) + (25 - 15)) * 16  # the triangles keep 6 and 15 pairs
    window = dict(args, is_causal=False, window_size_left=1, window_size_right=0)
    _, saved_w, _ = A.ATTENTION_KERNELS[aten._flash_attention_forward](window)
    assert saved_w == 2 * 2 * ((9 - 5) + (25 - 9)) * 16  # itself and one before: 1+2+2, 1+2+2+2+2
    eff = {"query": q[None], "key": q[None], "value": q[None], "cu_seqlens_q": cum, "cu_seqlens_k": cum,
           "custom_mask_type": 1, "window_size": None}  # fmt: skip
    assert A.ATTENTION_KERNELS[aten._efficient_attention_forward](eff)[:2] == (flops, saved)
    backward = A.ATTENTION_KERNELS[aten._flash_attention_backward](dict(args, grad_out=q))
    assert backward[0][fm.Category.ATTENTION] == 2 * flops[fm.Category.ATTENTION]
    assert backward[2] == 2 * 2 * (9 + 25) * 8  # Q K^T recomputed


def test_varlen_lengths_on_meta_are_uncounted_with_a_note():
    q = torch.empty(8, 2, 8, device="meta")
    cum = torch.empty(3, dtype=torch.int32, device="meta")
    net = Call(lambda q: aten._flash_attention_forward(q, q, q, cum, cum, 5, 5, 0.0, True, False)[0])
    r = count_flops(net, (q,))
    assert r.uncounted == {"aten._flash_attention_forward.default": 1}
    assert any("cumulative sequence lengths" in n for n in r.notes)


def test_nested_jagged_sdpa_is_the_sum_over_sequences():
    x = torch.nested.nested_tensor([torch.randn(3, 16), torch.randn(5, 16)], layout=torch.jagged)
    q = x.unflatten(-1, (2, 8)).transpose(1, 2)  # [B, H, j, D]
    r = count_flops(Call(lambda q: F.scaled_dot_product_attention(q, q, q)), (q,))
    assert r.by_category["attention"] == 2 * 2 * (9 + 25) * 16  # 2 x H x (3^2 + 5^2) x (d + e)
    assert r.by_category["softmax"] == 3 * 2 * (9 + 25)


def test_flex_attention_counts_as_sdpa_with_its_block_mask():
    q = torch.randn(1, 2, 256, 16)
    full = 2 * 1 * 2 * 256 * 256 * (16 + 16)  # 8,388,608
    plain = count_flops(Call(lambda q: flex_attention(q, q, q)), (q,))
    assert plain.by_category["attention"] == full and not plain.uncounted
    causal = create_block_mask(lambda b, h, i, j: i >= j, None, None, 256, 256, device="cpu")
    masked = count_flops(Call(lambda q: flex_attention(q, q, q, block_mask=causal)), (q,))
    # 128 x 128 blocks: the causal mask computes 3 of the 4 (the diagonal ones whole)
    assert masked.total_full - masked.total_causal == full // 4
    assert any("block granularity" in n for n in masked.notes)


def test_boolean_masks_are_counted_exactly_on_a_real_device():
    q = torch.randn(1, 2, 16, 8)
    window = torch.ones(16, 16, dtype=torch.bool).tril().triu(-3)  # causal, 4 keys
    r = count_flops(Call(lambda q: F.scaled_dot_product_attention(q, q, q, attn_mask=window)), (q,))
    full = 2 * 2 * 16 * 16 * 16  # 2 x H S S (d + e)
    assert r.by_category["attention"] == full
    assert r.total_full - r.total_causal == 2 * 2 * (256 - (1 + 2 + 3 + 4 * 13)) * 16
    causal_r = count_flops(Call(lambda q: F.scaled_dot_product_attention(q, q, q, attn_mask=window)), (q,), attention="causal")
    assert causal_r.total == r.total_causal


def test_boolean_masks_on_meta_use_the_declared_window_or_say_unknown():
    q = torch.empty(1, 2, 16, 8, device="meta")
    mask = torch.empty(16, 16, dtype=torch.bool, device="meta")
    net = Call(lambda q: F.scaled_dot_product_attention(q, q, q, attn_mask=mask))
    unknown = count_flops(net, (q,))
    assert unknown.total_full == unknown.total_causal and A.MASK_UNKNOWN in unknown.notes
    declared = count_flops(net, (q,), hint=A.AttentionHint(causal=True, window=4))
    assert declared.total_full - declared.total_causal == 2 * 2 * (256 - 58) * 16  # as the CPU mask above


def test_float_masks_are_the_full_square_and_say_so():
    q = torch.randn(1, 2, 4, 8)
    r = count_flops(Call(lambda q: F.scaled_dot_product_attention(q, q, q, attn_mask=torch.zeros(4, 4))), (q,))
    assert r.total_full == r.total_causal and A.FLOAT_MASK in r.notes


# ---------------------------------------------------------------- interpolation, selections, views


def test_upsampling():
    x = torch.randn(1, 2, 4, 4, requires_grad=True)
    bilinear = count_flops(Call(lambda x: F.interpolate(x, scale_factor=2, mode="bilinear")), (x,), phase="train")
    assert bilinear.by_phase_category["forward"]["elementwise"] == 9 * 1 * 2 * 8 * 8  # 3 lerps of 3 per output
    assert bilinear.by_phase_category["backward"]["elementwise"] == 9 * 128  # the same weights, scattered back
    nearest = count_flops(Call(lambda x: F.interpolate(x, scale_factor=2, mode="nearest")), (x,))
    assert nearest.total == 0 and not nearest.uncounted
    bicubic = count_flops(Call(lambda x: F.interpolate(x, size=(6, 6), mode="bicubic")), (x,))
    assert bicubic.by_category["elementwise"] == 35 * 2 * 36  # 5 cubic interpolations of 7
    assert not bilinear.uncounted and not bicubic.uncounted


def test_histograms_selections_and_inplace_views_have_rules():
    x = torch.randn(64)

    def ops(x):
        h = torch.histc(x, bins=8)  # 64 bin increments
        d = torch.floor_divide(x, 2.0)  # 64 divides
        nz = torch.nonzero(x > 0)  # data movement (the compare is elementwise: 64)
        y = x.view(8, 8, 1).squeeze_(-1)  # a view
        s = torch.bucketize(x, torch.tensor([0.0, 1.0, 2.0]))  # 2 halvings of 3 boundaries per value
        return h, d, nz, y, s

    r = count_flops(Call(ops), (x,))
    assert not r.uncounted
    assert r.by_category["reduction"] == 64 + 2 * 64
    assert r.by_category["elementwise"] == 64 + 64


# ---------------------------------------------------------------- composites under inference mode


class _Basic(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.down is None else self.down(x)))


class ResNet18(nn.Module):
    """torchvision's resnet18, layer for layer (basic blocks 2-2-2-2, 1x1 strided downsampling)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        blocks, cin = [], 64
        for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            blocks += [_Basic(cin, cout, stride), _Basic(cout, cout, 1)]
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(512, 1000)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1), 1))


def test_inference_mode_decomposes_composites():
    net, x = ResNet18().eval(), torch.randn(1, 3, 224, 224)
    with torch.inference_mode():
        inference = count_flops(net, (x,))
    plain = count_flops(net, (x,))
    assert inference.total == plain.total and not inference.uncounted
    # PyTorch's FlopCounterMode reports 3,628,146,688 for torchvision resnet18 at 1x3x224x224 (convs and
    # the classifier's matmul, test/test_flop_counter.py); ours splits the fc bias off as elementwise
    assert inference.by_category["conv"] + inference.by_category["matmul"] == 3_628_146_688
    with torch.inference_mode(), FlopCounterMode(display=False) as peer:
        net(x)
    assert peer.get_total_flops() == 3_628_146_688


# ---------------------------------------------------------------- uncounted share, meta values, conventions


def test_uncounted_share_is_reported_by_size():
    def ops(x):
        small = torch.linalg.inv(x[:2, :2])  # no formula: 4 elements written
        return small, x * 2  # counted: 10,000 elements

    r = count_flops(Call(ops), (torch.randn(100, 100),))
    assert "aten.linalg_inv_ex.default" in r.uncounted
    assert r.uncounted_elements["aten.linalg_inv_ex.default"] >= 4
    assert r.uncounted_size_share == pytest.approx(sum(r.uncounted_elements.values()) / (sum(r.uncounted_elements.values()) + r.counted_elements))
    assert r.uncounted_size_share < 0.01 < r.uncounted_share  # few elements, many calls


def test_reading_values_on_meta_is_one_clear_line():
    net = Call(lambda x: x * float(x.sum()))
    with pytest.raises(CountError) as e:
        count_flops(net, (torch.empty(4, device="meta"),))
    assert "--device cpu" in str(e.value) and "\n" not in str(e.value)


def test_causal_convention_on_models_without_attention():
    lstm = nn.LSTM(8, 8)
    r = count_flops(lstm, (torch.randn(3, 1, 8),), attention="causal")
    assert r.total == r.total_full > 0
