"""Encoder and encoder-decoder zoo entries: Transformer, BERT, DistilBERT, T5, ProtT5, GShard dense, Switch.

For every entry: the analytic formula of
harness/analytic/families/encoders.py against the dispatch counter (full size on meta, tiny on
CPU), the same count on meta and CPU, a train step on the tiny config. Then the Switch layer:
its routing against a token-by-token reference, and its counted expert FLOP. Parameter counts
against the published ones: one rule for the whole zoo, in test_zoo.py.
"""

from __future__ import annotations

import functools
import math

import pytest
import torch

import models
from harness import count_flops
from harness.analytic import FAMILIES, breakdown, by_category
from models import moe

FAMILY_KEYS = {"transformer", "gshard", "bert", "t5", "switch"}
NAMES = sorted(n for n, e in models.REGISTRY.items() if e.family in FAMILY_KEYS)
# entries that share a tiny config (t5-3b, t5-11b, prott5-xxl; the BERTs; the Transformers) run it once
_FIRST_WITH_TINY = {(models.get(n).family, repr(models.get(n).tiny)): n for n in reversed(NAMES)}
TINY_NAMES = sorted(_FIRST_WITH_TINY.values())
TOLERANCE = 0.005  # analytic vs dispatch, per included category
TINY_BATCH, TINY_SEQ = 2, 16


def test_the_families_are_registered():
    expected = {
        "transformer-base", "transformer-big", "bert-base", "bert-large", "distilbert",
        "t5-3b", "t5-11b", "prott5-xxl", "gshard-dense", "switch-c",
    }  # fmt: skip
    assert expected <= set(NAMES)
    assert FAMILY_KEYS <= set(FAMILIES)


@functools.cache
def meta_model(name: str) -> torch.nn.Module:
    return models.get(name).build("meta")


def _compare(entry, config, batch, seq, counted):
    analytic = by_category(breakdown(entry.family, config, batch, seq))
    assert {"matmul", "attention"} <= set(analytic)
    for category, flop in analytic.items():
        got = counted.by_category[category]
        assert got > 0, category
        assert abs(flop / got - 1) <= TOLERANCE, (entry.name, category, flop, got)


@pytest.mark.parametrize("name", NAMES)
def test_analytic_matches_dispatch_at_full_size_on_meta(name):
    entry = models.get(name)
    counted = count_flops(meta_model(name), entry.inputs(device="meta"))
    assert dict(counted.uncounted) == {}
    _compare(entry, entry.config, entry.default_batch, entry.default_seq, counted)


@pytest.mark.parametrize("name", TINY_NAMES)
def test_tiny_config_analytic_and_devices_agree(name):
    entry = models.get(name)
    counts = {}
    for device in ("meta", "cpu"):
        torch.manual_seed(0)
        model = entry.build(device, config=entry.tiny)
        inputs = entry.inputs(TINY_BATCH, TINY_SEQ, device, config=entry.tiny)
        train = count_flops(model, inputs, phase="train", optimizer="adamw")
        counts[device] = (count_flops(model, inputs), train)
    (meta_f, meta_t), (cpu_f, cpu_t) = counts["meta"], counts["cpu"]
    _compare(entry, entry.tiny, TINY_BATCH, TINY_SEQ, cpu_f)
    assert dict(meta_f.by_category) == dict(cpu_f.by_category)
    assert dict(meta_t.by_phase_category) == dict(cpu_t.by_phase_category)
    assert cpu_t.by_phase["backward"] > cpu_t.by_phase["forward"] > 0
    assert cpu_t.by_phase_category["backward"]["matmul"] >= cpu_f.by_category["matmul"]


def test_bert_mlm_head_runs_at_the_masked_positions():
    entry = models.get("bert-base")
    cfg = entry.tiny
    ids, types, positions = entry.inputs(3, 40, "cpu", config=cfg)
    assert positions.shape == (3, 6)  # ceil(0.15 x 40)
    mlm, nsp = entry.build("cpu", config=cfg)(ids, types, positions)
    assert mlm.shape == (3, 6, cfg.vocab_size) and nsp.shape == (3, 2)
    distil = models.get("distilbert")
    (ids,) = distil.inputs(3, 40, "cpu", config=distil.tiny)
    assert distil.build("cpu", config=distil.tiny)(ids).shape == (3, 40, distil.tiny.vocab_size)


# ---------------------------------------------------------------- the Switch layer


def _reference(layer: moe.SwitchFFN, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Token by token: top-1 expert, its ReLU FFN, scaled by the router probability."""
    probs = torch.softmax(layer.router(x), dim=-1)
    gate, expert = probs.max(dim=-1)
    out = torch.stack([torch.relu(t @ layer.wi[e]) @ layer.wo[e] for t, e in zip(x, expert.tolist())])
    return out * gate[:, None], expert


def test_switch_layer_routes_every_token_when_capacity_allows():
    torch.manual_seed(0)
    layer = moe.SwitchFFN(8, 12, n_experts=3, capacity_factor=3.0)  # 3T slots: no expert overflows
    x = torch.randn(10, 8)
    expected, _ = _reference(layer, x)
    torch.testing.assert_close(layer(x), expected)


@pytest.mark.parametrize("tokens", [2, 7, 9, 12])  # fewer tokens than experts, uneven, even
def test_switch_layer_drops_overflow_and_keeps_the_rest(tokens):
    torch.manual_seed(1)
    E = 4
    layer = moe.SwitchFFN(8, 12, n_experts=E, capacity_factor=1.0)
    x = torch.randn(tokens, 8)
    expected, expert = _reference(layer, x)
    y = layer(x)
    S, c, r = moe.expert_slots(tokens, E, 1.0)
    capacity = [c + (e < r) for e in range(E)]
    seen = [0] * E
    for t, e in enumerate(expert.tolist()):
        if seen[e] < capacity[e]:  # earlier tokens claim the slots first
            torch.testing.assert_close(y[t], expected[t])
        else:
            assert torch.all(y[t] == 0)
        seen[e] += 1


@pytest.mark.parametrize("tokens", [5, 8, 13])
@pytest.mark.parametrize("device", ["meta", "cpu"])
def test_switch_layer_counts_one_expert_per_routed_token(tokens, device):
    d, f, E = 8, 12, 4
    with torch.device(device):
        layer = moe.SwitchFFN(d, f, n_experts=E, capacity_factor=1.0)
        x = torch.randn(1, tokens, d)
    counted = count_flops(layer, (x,))
    router = 2 * tokens * d * E
    experts = tokens * 2 * (2 * d * f)  # whatever the routing decided
    assert counted.by_category["matmul"] == router + experts
    assert counted.by_category["softmax"] == 3 * tokens * E
    assert math.ceil(1.0 * tokens) == moe.expert_slots(tokens, E, 1.0)[0]
