"""`harness count` with model sources, masks and conventions, end to end."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app

FIXTURES = Path(__file__).parent / "fixtures"


def count(*args):
    r = CliRunner().invoke(app, ["count", *args, "--format", "json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_count_a_file_function():
    out = count(f"{FIXTURES / 'user_model.py'}:build", "--batch", "2", "--seq", "3")
    assert out["model"] == "user_model.py:build"
    assert out["total_flop"] == 2 * 2 * 3 * 8 * 4  # tokens x in x out x 2


def test_count_an_hf_config_with_overrides_on_cpu():
    out = count(f"hf:{FIXTURES / 'hf' / 'llama.json'}", "--set", "num_hidden_layers=1", "--batch", "2", "--seq", "16",
                "--device", "cpu")  # fmt: skip
    assert out["model"] == "LlamaForCausalLM"
    # one layer of 36,864 weights and the 64 x 256 head, 2 FLOP each per token, 32 tokens
    assert out["by_category"]["matmul"] == 2 * 32 * (36864 + 16384)


@pytest.mark.parametrize(
    "name",
    ["llama-65b", "chinchilla-70b", "gopher-280b", "lstm-lm", "zaremba-lstm-large", "seq2seq-lstm", "openai-five", "goat"],
)
def test_causal_convention_never_crashes(name):
    out = count(name, "--attention", "causal")
    assert out["attention_convention"] == "causal"
    assert out["total_flop"] == out["total_flop_causal_attention"] <= out["total_flop_full_attention"]


def test_other_counters_run_on_cpu_for_a_meta_count():
    out = count("small-cnn", "--counters", "flopcountermode")
    assert out["device"] == "meta" and out["counters_device"] == "cpu"
    row = out["counters"][0]
    assert row["counter"] == "flopcountermode" and row["skipped"] is None and row["flop"] > 0


def test_other_counters_skip_a_model_too_large_for_cpu():
    out = count("gpt3-175b", "--counters", "fvcore")
    assert out["counters"][0]["flop"] is None
    assert "too many to build on CPU" in out["counters"][0]["skipped"]
