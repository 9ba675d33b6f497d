"""Zoo entries of the recurrent, games/control and recommendation families: analytic formulas
against the dispatch counter, device equality, a training step. (Parameter counts against the
published ones: one rule for the whole zoo, in test_zoo.py.)"""

from __future__ import annotations

import pytest
import torch

import models
from harness.analytic import breakdown, by_category
from harness.counting.api import count_flops
from models import dlrm, lstm, rl, seq2seq

ENTRIES = {e.name: e for mod in (lstm, seq2seq, rl, dlrm) for e in mod.ENTRIES}
PUBLISHED = [name for name, e in ENTRIES.items() if e.facts is not None]
# one entry per distinct tiny config (the LSTM LMs share one, so do the two DQNs)
TINY = list({(e.family, e.tiny): name for name, e in reversed(ENTRIES.items())}.values())
FAMILIES = ("lstm-lm", "seq2seq", "dqn", "alphazero", "openai-five", "curl", "goat", "dlrm")
TOLERANCE = 0.005


def _seq(entry, config, seq=None):
    if entry.default_seq is None:
        return None
    return seq if seq is not None else config.seq_len


def _compare(entry, config, batch, seq, device):
    model = entry.build(device, config)
    counted = count_flops(model, entry.inputs(batch, seq, device, config))
    analytic = by_category(breakdown(entry.family, config, batch, seq))
    assert analytic, entry.name
    assert not counted.uncounted, counted.uncounted
    for category, flop in analytic.items():
        measured = counted.by_category[category]
        if flop == measured:
            continue
        assert measured and abs(flop / measured - 1) <= TOLERANCE, (entry.name, category, flop, measured)
    # the matmul class must be in the formula whenever the model has it
    for category in ("matmul", "conv", "attention", "recurrent"):
        if counted.by_category[category]:
            assert category in analytic, (entry.name, category)


def test_registered_with_families():
    for name, entry in ENTRIES.items():
        assert models.get(name) is entry
        assert entry.family in FAMILIES
        assert entry.tiny is not None and type(entry.tiny) is type(entry.config)
    assert models.get("lstm-lm").config.d_hidden == 650


@pytest.mark.parametrize("name", PUBLISHED)
def test_analytic_matches_dispatch_full_size(name):
    """Full widths on meta. Recurrent entries run 8 steps rather than their default: a meta-device
    LSTM forward runs aten's decomposition step by step (~20 ms per layer-step), and the formulas
    are linear in the steps, which the tiny test varies."""
    entry = ENTRIES[name]
    seq = None if entry.default_seq is None else min(8, entry.default_seq)
    _compare(entry, entry.config, 2, seq, "meta")


@pytest.mark.parametrize("name", TINY)
def test_analytic_matches_dispatch_tiny(name):
    entry = ENTRIES[name]
    _compare(entry, entry.tiny, 3, _seq(entry, entry.tiny), "cpu")
    if entry.default_seq is not None:
        _compare(entry, entry.tiny, 2, 5, "cpu")  # a length other than the config's


@pytest.mark.parametrize("name", TINY)
def test_tiny_same_on_meta_and_cpu_and_trains(name):
    entry = ENTRIES[name]
    seq = _seq(entry, entry.tiny)
    counts = []
    for device in ("meta", "cpu"):
        torch.manual_seed(0)
        model, inputs = entry.build(device, entry.tiny), entry.inputs(2, seq, device, entry.tiny)
        r = count_flops(model, inputs, phase="train", optimizer="adam")
        assert not r.uncounted, r.uncounted
        assert r.by_phase["backward"] > 0
        counts.append((r.total, dict(r.by_phase_category), dict(r.by_module)))
    assert counts[0] == counts[1]


def test_agz_published_tower():
    """AlphaGo Zero's 40-block network: 39 residual blocks after the first conv block."""
    with torch.device("meta"):
        net = rl.AlphaZeroNet(rl.AGZ_40)
    assert len(net.tower) == 39
    assert net.policy_out.out_features == 19 * 19 + 1


def test_dlrm_interaction_width():
    cfg = dlrm.KAGGLE
    assert cfg.n_features == 27 and cfg.d_interaction == 27 * 26 // 2 + 16  # 367, the top MLP's input
