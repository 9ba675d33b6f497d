"""Reconciliation: coverage measured by probes, differences explained in words."""

import torch
import torch.nn as nn
import torch.nn.functional as F

import models
from harness import count_flops
from harness.conventions import Category
from harness.counting.adapters.base import CounterReading
from harness.counting.reconcile import PROBES, explain, probes_for, reconcile


class AttnOnly(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(32, 96, bias=False)

    def forward(self, x):
        q, k, v = self.qkv(x).view(2, 16, 3, 4, 8).permute(2, 0, 3, 1, 4)
        return F.scaled_dot_product_attention(q, k, v)


def test_attention_gap_of_flop_counter_mode_on_cpu_is_explained():
    net, x = AttnOnly(), torch.randn(2, 16, 32)
    ours = count_flops(net, (x,))
    (row,) = reconcile(net, (x,), ["flopcountermode"], ours=ours)
    share = (ours.by_category["attention"]) / ours.total
    assert row.flop == ours.by_category["matmul"]  # 2*32*32*96: only the projection
    assert f"does not count attention: {-share:+.1%}" in row.explanations
    assert not any("unexplained" in e for e in row.explanations)


def test_explain_words_for_units_and_partial_coverage():
    net, x = AttnOnly(), torch.randn(2, 16, 32)
    ours = count_flops(net, (x,))
    forward = ours.by_phase_category["forward"]
    reading = CounterReading("fake", forward["matmul"] * 2, unit_note="reports MACs: converted x2")
    lines = explain(ours, reading, {Category.MATMUL: 2.0, Category.ATTENTION: 0.0, Category.SOFTMAX: 0.0})
    assert lines[0] == "reports MACs: converted x2"
    assert any(line.startswith("counts matmul at 2.00x ours") for line in lines)
    assert not any("unexplained" in line for line in lines)


def test_unexplained_residual_is_reported():
    net, x = AttnOnly(), torch.randn(2, 16, 32)
    ours = count_flops(net, (x,))
    reading = CounterReading("fake", ours.total * 2)
    assert any("unexplained" in line for line in explain(ours, reading, {}))


def test_probes_follow_the_model():
    cnn = models.get("small-cnn").build("meta")
    chosen = {p.category: p for p in probes_for(cnn)}
    assert chosen[Category.NORMALISATION].kind is nn.modules.batchnorm._BatchNorm
    assert chosen[Category.ELEMENTWISE].kind is nn.ReLU
    gpt = models.get("gpt2-small").build("meta")
    chosen = {p.category: p for p in probes_for(gpt)}
    assert chosen[Category.NORMALISATION].kind is None  # LayerNorm, the default
    assert len(chosen) == len({p.category for p in PROBES})


def test_every_probe_is_dominated_by_its_category():
    for probe in PROBES:
        r = count_flops(probe.make(), (torch.randn(probe.shape),))
        assert r.by_category[probe.category.value] >= 0.5 * r.total, probe
