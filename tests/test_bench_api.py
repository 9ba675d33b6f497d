"""`harness.bench`: any module or source from Python, giving the rows `harness bench` stores."""

from pathlib import Path

import pytest
import torch
import torch.nn as nn

import harness
from harness import count_flops
from harness.store import Store, run_key_for

FIXTURES = Path(__file__).parent / "fixtures"


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))


def test_a_module_gives_the_row_the_store_keeps(tmp_path):
    net, x = _mlp(), torch.randn(8, 16)
    counted = count_flops(_mlp(), (torch.randn(8, 16),), phase="train", optimizer="adamw").total
    db = tmp_path / "r.sqlite"
    (row,) = harness.bench(net, (x,), steps=2, warmup=1, db=str(db))
    assert row["status"] == "ok", row["error"]
    assert row["flop_per_step"] == counted  # counted on a meta copy: the same integer
    assert row["batch"] == 8 and row["model"] == "Sequential" and row["device_kind"] == "cpu"
    assert row["source"] == "module:torch.nn.modules.container.Sequential"
    assert row["flop_per_s"] == pytest.approx(counted / row["seconds_median"])
    assert row["utilisation"] is None and row["utilisation_ceiling"] > 0  # a CPU: no datasheet peak
    with Store(db) as store:
        (stored,) = store.rows()
    assert stored == row  # returned as stored: run_key, utc, run_id and all
    assert stored["run_key"] == run_key_for(stored)


def test_precisions_and_a_source_spec(tmp_path):
    rows = harness.bench(f"{FIXTURES / 'user_model.py'}:build", batch=[2, 4], seq=3, steps=1, warmup=0,
                         phase="inference")
    assert [r["batch"] for r in rows] == [2, 4]
    # a bias-free Linear 8 -> 4 on [batch, 3, 8]: 2 * batch * 3 * 8 * 4 FLOP forward
    assert [r["flop_per_step"] for r in rows] == [2 * 2 * 3 * 8 * 4, 2 * 4 * 3 * 8 * 4]
    assert rows[0]["source"].endswith("user_model.py:build") and rows[0]["model"] == "user_model.py:build"
    assert rows[0]["seconds_cv"] is None  # one step: no spread to speak of


def test_an_hf_config_trains_with_its_own_loss():
    pytest.importorskip("transformers")
    spec = f"hf:{FIXTURES / 'hf' / 'llama.json'}"
    (row,) = harness.bench(spec, batch=1, seq=8, steps=1, warmup=0, overrides=["num_hidden_layers=1"])
    assert row["status"] == "ok", row["error"]
    assert row["model"] == "LlamaForCausalLM" and row["source"].startswith("hf:")
    assert row["flop_backward"] > row["flop_forward"] > 0


@pytest.mark.parametrize("call, message", [
    (lambda: harness.bench(_mlp()), "pass the inputs"),
    (lambda: harness.bench(_mlp(), (torch.randn(2, 16),), batch=4), "drop `batch` and `seq`"),
    (lambda: harness.bench(_mlp(), (torch.randn(2, 16),), steps=0), "steps must be at least 1"),
    (lambda: harness.bench(_mlp(), (torch.randn(2, 16),), precision="fp16"), "GPU precision"),
    (lambda: harness.bench(_mlp(), (torch.randn(2, 16),), device="tpu"), "unknown device 'tpu'"),
    (lambda: harness.bench(_mlp(), (torch.randn(2, 16),), phase="inference", checkpointing=True), "inference has none"),
    (lambda: harness.bench("lenet-5", (torch.randn(2, 16),)), "drop `inputs`"),
    (lambda: harness.bench("no-such-model"), "unknown model 'no-such-model'"),
    (lambda: harness.bench(42), "not int"),
])
def test_what_cannot_run_is_refused_in_one_line(call, message):
    with pytest.raises(ValueError, match=message) as err:
        call()
    assert "\n" not in str(err.value)
