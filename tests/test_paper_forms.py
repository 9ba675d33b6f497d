"""The papers' closed forms beside a count: arithmetic by hand, and the count command shows them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from harness.analytic.paper_forms import paper_forms
from harness.cli import app


def test_gpt_forms_by_hand():
    cfg = SimpleNamespace(n_layer=2, n_head=2, d_model=8, vocab_size=10, ff=32, head_dim=4)
    forms = {f.name: f for f in paper_forms("gpt", cfg, batch=1, seq=4, params_non_embedding=100)}
    assert forms["Kaplan 6N"].flop == 2400  # 4 tokens x 6 x 100
    assert forms["PaLM 6N + 12 L H Q T"].flop == 4 * (600 + 12 * 2 * 2 * 4 * 4)  # 5472
    assert forms["Kaplan 2N + 2 L n_ctx d_attn"].flop == 4 * (200 + 2 * 2 * 4 * 8)  # 1312
    assert forms["Kaplan 6N"].phase == "train" and forms["Chinchilla App. F"].phase == "forward"
    assert forms["Chinchilla App. F x 3"].flop == pytest.approx(3 * forms["Chinchilla App. F"].flop)


def test_other_families_get_their_layer_forms_and_unknown_none():
    (f,) = paper_forms("alexnet", __import__("models").get("alexnet").config, batch=1, seq=None, params_non_embedding=0)
    assert f.phase == "forward" and f.flop > 1e9  # 2 x 0.72 G multiply-adds
    assert paper_forms("no-such-family", None, 1, None, 0) == []


def test_count_shows_the_forms_with_ratios():
    r = CliRunner().invoke(app, ["count", "alexnet"])
    assert r.exit_code == 0, r.output
    line = next(ln for ln in r.output.splitlines() if "per-layer forms (alexnet)" in ln)
    assert "0.995x the count" in line  # the matmul-class layers are 99.5% of AlexNet's forward (ReLU, LRN, pools apart)
