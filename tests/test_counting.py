"""The engine end to end: hand counts of whole models, invariants across devices and phases."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

import models
from harness import count_flops
from harness.conventions import OPTIMIZER_PER_PARAM
from tests.conftest import DEVICES

TINY = ["gpt2-small", "lstm-lm", "small-cnn"]  # their tiny configs cover the three engines paths


def tiny(name, device, batch=2, seq=None):
    entry = models.get(name)
    return entry.build(device, config=entry.tiny), entry.inputs(batch, seq, device, config=entry.tiny)


def gpt_hand_count(cfg, B, T):
    """GPT forward by hand (full-square attention), in FLOP.

    per layer: qkv 2BTd*3d + proj 2BTd*d + mlp 2*(2BTd*4d) = 24 B T d^2 matmul
               attention Q K^T and P V: 2 * 2 B H T T (d/H) = 4 B T^2 d
               softmax 3 per score: 3 B H T^2
               biases 3d + d + 4d + d, residual adds 2d, GELU 5 * 4d: 31 d per token
               two LayerNorms with affine: 2 * 7 d per token
    head 2 B T d V; final LayerNorm 7 d per token; wte + wpe add d per token
    """
    L, H, d, V = cfg.n_layer, cfg.n_head, cfg.d_model, cfg.vocab_size
    matmul = L * 24 * B * T * d * d + 2 * B * T * d * V
    attention = L * 4 * B * T * T * d
    softmax = L * 3 * B * H * T * T
    elementwise = B * T * (L * 31 * d + d)
    norm = B * T * 7 * d * (2 * L + 1)
    return matmul, attention, softmax, elementwise, norm


def test_gpt2_small_forward_on_cpu_matches_hand_count():
    entry = models.get("gpt2-small")
    B, T = 1, 128
    r = count_flops(entry.build("cpu"), entry.inputs(B, T, "cpu"))
    matmul, attention, softmax, elementwise, norm = gpt_hand_count(entry.config, B, T)
    assert r.by_category["matmul"] == matmul
    assert r.by_category["attention"] == attention  # fused CPU SDPA kernel counted
    assert r.by_category["softmax"] == softmax
    assert r.by_category["elementwise"] == elementwise
    assert r.by_category["normalisation"] == norm
    assert abs(r.total / (matmul + attention + softmax + elementwise + norm) - 1) < 1e-3
    assert dict(r.uncounted) == {}


def test_causal_conventions_differ_by_the_upper_triangle():
    entry = models.get("gpt2-small")
    cfg, B, T = entry.tiny, 2, 16
    net, x = tiny("gpt2-small", "cpu", B, T)
    full = count_flops(net, x)
    causal = count_flops(net, x, attention="causal")
    # per layer per head: 2 matmuls * 2 FLOP * (T^2 - T(T+1)/2) pairs * head width
    saved = cfg.n_layer * B * cfg.n_head * 2 * 2 * (T * T - T * (T + 1) // 2) * (cfg.d_model // cfg.n_head)
    assert full.total - causal.total == saved
    assert full.total_causal == causal.total and causal.total_full == full.total


def test_lstm_counted_forward_and_backward():
    entry = models.get("lstm-lm")
    cfg, B, T = entry.config, 4, 10
    H, V = cfg.d_hidden, cfg.vocab_size
    r = count_flops(entry.build("cpu"), entry.inputs(B, T, "cpu"), phase="train")
    # each layer: 4 gates of [H, H] (input) + [H, H] (hidden) per token: 2 * 4H * 2H FLOP
    recurrent = cfg.n_layer * B * T * 2 * 4 * H * 2 * H
    fwd = r.by_phase_category["forward"]
    assert fwd["recurrent"] == recurrent
    assert fwd["elementwise"] == cfg.n_layer * B * T * 21 * H + B * T * V  # gates + head bias
    assert fwd["matmul"] == 2 * B * T * H * V
    # the LSTM's input comes from an embedding, so every layer needs input and weight gradients
    assert r.by_phase_category["backward"]["recurrent"] == 2 * recurrent


@pytest.mark.parametrize("cell", [nn.LSTMCell, nn.GRUCell, nn.RNNCell])
def test_cells_match_layers(cell):
    layer = {nn.LSTMCell: nn.LSTM, nn.GRUCell: nn.GRU, nn.RNNCell: nn.RNN}[cell]

    class Unrolled(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = cell(6, 5)

        def forward(self, x):
            h = None
            for t in range(x.shape[0]):
                h = self.cell(x[t], h)
            return h[0] if isinstance(h, tuple) else h

    x = torch.randn(7, 3, 6, requires_grad=True)
    a = count_flops(Unrolled(), (x,), phase="train")
    b = count_flops(layer(6, 5), (x,), phase="train")
    for phase in ("forward", "backward"):
        assert a.by_phase_category[phase]["recurrent"] == b.by_phase_category[phase]["recurrent"]


def test_bidirectional_gru_and_packed_sequences():
    gru = nn.GRU(4, 3, num_layers=2, bidirectional=True)
    x = torch.randn(5, 2, 4)
    r = count_flops(gru, (x,))
    # layer 1: 2 directions * 3 gates * 3 * (4 + 3); layer 2: input is 2*3 wide
    per_token = 2 * 3 * 3 * (4 + 3) + 2 * 3 * 3 * (6 + 3)
    assert r.by_category["recurrent"] == 2 * 10 * per_token
    packed = nn.utils.rnn.pack_padded_sequence(x, torch.tensor([5, 3]))
    rp = count_flops(gru, (packed,))
    assert rp.by_category["recurrent"] == 2 * 8 * per_token  # 8 real tokens


def test_backward_is_one_to_one_on_the_first_layer_and_two_to_one_after():
    net = nn.Sequential(nn.Linear(10, 20, bias=False), nn.ReLU(), nn.Linear(20, 5, bias=False))
    x = torch.randn(4, 10)  # the input needs no gradient
    r = count_flops(net, (x,), phase="train")
    first, second = 2 * 4 * 10 * 20, 2 * 4 * 20 * 5
    assert r.by_phase_category["forward"]["matmul"] == first + second
    assert r.by_phase_category["backward"]["matmul"] == first + 2 * second  # 1:1 then 2:1
    x.requires_grad_(True)
    r = count_flops(net, (x,), phase="train")
    assert r.by_phase_category["backward"]["matmul"] == 2 * (first + second)


def test_conv_first_layer_backward_skips_input_gradient():
    net = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.Conv2d(4, 4, 3, bias=False))
    r = count_flops(net, (torch.randn(1, 3, 8, 8),), phase="train")
    c1, c2 = 2 * 36 * 4 * 27, 2 * 16 * 4 * 36
    assert r.by_phase_category["backward"]["conv"] == c1 + 2 * c2


def test_optimizer_costs_per_parameter():
    net = nn.Linear(10, 3)  # 33 parameters
    x = torch.randn(2, 10)
    for name, (per, _) in OPTIMIZER_PER_PARAM.items():
        r = count_flops(net, (x,), phase="train", optimizer=name)
        assert r.by_phase["optimizer"] == per * 33
    assert net.weight.grad is None  # the count leaves no gradients behind


def test_frozen_parameters_get_no_update_and_no_weight_gradient():
    net = nn.Sequential(nn.Linear(8, 8, bias=False), nn.Linear(8, 8, bias=False))
    net[0].weight.requires_grad_(False)
    r = count_flops(net, (torch.randn(2, 8),), phase="train", optimizer="sgd")
    assert r.by_phase["optimizer"] == 2 * 64
    # layer 1 is frozen and its input needs no gradient, so nothing upstream of layer 2 does:
    # the only backward matmul is layer 2's weight gradient, 2 * 2 * 8 * 8
    assert r.by_phase_category["backward"]["matmul"] == 2 * 2 * 8 * 8


@pytest.mark.parametrize("name", TINY)
@pytest.mark.parametrize("phase", ["forward", "train"])
def test_same_count_on_every_device(name, phase):
    counts = []
    for device in DEVICES:
        torch.manual_seed(0)
        r = count_flops(*tiny(name, device), phase=phase,
                        optimizer="adam" if phase == "train" else None)
        counts.append((r.total, dict(r.by_category), dict(r.by_phase), dict(r.by_module), r.causal_saved_flop))
    assert all(c == counts[0] for c in counts)


@pytest.mark.parametrize("name", TINY)
def test_modules_partition_the_model(name):
    r = count_flops(*tiny(name, "cpu"), phase="train")
    net, x = tiny(name, "meta")
    out = net(*x)
    # everything but the loss (a sum: one add per output element) is inside the model
    assert r.by_module[""] == r.total - out.numel()
    children = [k for k in r.by_module if k and "." not in k]
    assert sum(r.by_module[k] for k in children) <= r.by_module[""]


def test_backward_attributed_to_modules():
    fwd = count_flops(*tiny("gpt2-small", "cpu"))
    train = count_flops(*tiny("gpt2-small", "cpu"), phase="train")
    # the MLP's input needs gradients, so its backward is twice its forward
    mlp_fwd = fwd.by_module["blocks.1.mlp.fc"]
    assert train.by_module["blocks.1.mlp.fc"] > 2.5 * mlp_fwd


def test_matmul_and_conv_agree_with_flop_counter_mode():
    """Where FlopCounterMode has formulas (mm, addmm, bmm, conv), the two counts are equal."""
    entry = models.get("small-cnn")
    net, x = entry.build("cpu"), entry.inputs(device="cpu")
    ours = count_flops(net, x, phase="train")
    with FlopCounterMode(display=False) as fcm:
        net(*x).sum().backward()
    assert ours.by_category["conv"] + ours.by_category["matmul"] == fcm.get_total_flops()


def test_math_attention_and_fused_attention_count_alike():
    q = torch.randn(1, 2, 8, 4, requires_grad=True)

    class Fused(nn.Module):
        def forward(self, q):
            return F.scaled_dot_product_attention(q, q, q)

    with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH):
        math = count_flops(Fused(), (q,), phase="train")
    fused = count_flops(Fused(), (q,), phase="train")
    assert dict(math.by_category) == dict(fused.by_category)
    assert fused.recompute_flop == 2 * 2 * 8 * 8 * 4  # Q K^T again in the flash-style backward
    assert math.recompute_flop == 0


def test_rejects_bad_arguments():
    net = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="phase"):
        count_flops(net, (torch.randn(1, 2),), phase="inference")
    with pytest.raises(ValueError, match="optimizer"):
        count_flops(net, (torch.randn(1, 2),), phase="train", optimizer="lamb")


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw"])
def test_optimizer_table_matches_torchs_own_step(name):
    """The per-parameter table equals torch.optim's single-tensor step counted op by op."""
    from harness.conventions import Phase
    from harness.counting.engine import Tally, _OpCounter

    p = torch.nn.Parameter(torch.randn(1000))
    p.grad = torch.randn(1000)
    make = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name]
    opt = make([p], lr=0.1, foreach=False)
    opt.step()  # the first step creates the state
    tally = Tally(phase=Phase.OPTIMIZER)
    with _OpCounter(tally):
        opt.step()
    per_element = {op: flop for op, (calls, flop) in tally.by_op.items()}
    step_counter = 1 if name != "sgd" else 0  # Adam's step += 1 on a one-element tensor
    assert sum(per_element.values()) - step_counter == OPTIMIZER_PER_PARAM[name][0] * 1000
