"""The zoo as a whole: every entry is complete, joins the dataset, and lists in seconds.

Family files test their own analytic agreement at full size (tests/test_zoo_*.py); this file
holds what every entry, present and future, must satisfy.
"""

import json
import re

import pytest
from typer.testing import CliRunner

import models
from harness.analytic import FAMILIES
from harness.cli import app
from harness.estimate.runs import run_for

SYSTEMS = [e for e in models.REGISTRY.values() if e.facts is not None]
REQUIRED = [
    "lenet-5", "alexnet", "vgg-16", "googlenet", "resnet-50", "resnet-152", "mobilenetv2", "efficientnet-b0",
    "efficientnet-l2", "vit-b-16", "transformer-base", "transformer-big", "bert-base", "bert-large", "distilbert",
    "gpt2-small", "gpt2-xl", "gpt3-175b", "megatron-lm-8.3b", "turing-nlg", "t5-3b", "t5-11b", "prott5-xxl",
    "gshard-dense", "switch-c", "gpt-j-6b", "pangu-alpha", "hyperclova-204b", "gopher-280b", "chinchilla-70b",
    "palm-540b", "llama-65b", "lstm-lm", "seq2seq-lstm", "igpt-xl", "dall-e-12b", "dqn", "alphago-zero",
    "alphazero", "openai-five", "curl", "goat", "dlrm-criteo-kaggle",
]  # fmt: skip


def test_every_required_system_is_in_the_zoo():
    missing = [n for n in REQUIRED if n not in models.REGISTRY]
    assert not missing


@pytest.mark.parametrize("entry", models.REGISTRY.values(), ids=lambda e: e.name)
def test_every_entry_has_an_analytic_formula_and_a_tiny_config(entry):
    assert entry.family in FAMILIES or entry.facts is None
    assert entry.tiny is not None


@pytest.mark.parametrize("entry", SYSTEMS, ids=lambda e: e.name)
def test_facts_are_sourced(entry):
    f = entry.facts
    assert f.dataset_name and f.parameters_source and f.year >= 1950
    t = run_for(entry.name)
    if any(v is not None for v in (t.tokens, t.examples, t.hardware, t.compute_flop, t.hours)):
        assert t.source, "training figures need their source"


# the difference a note states: its first signed percentage, e.g. "-18.6%" or "+0.05%"
_STATED = re.compile(r"(?<![\w.])([+-]\d+(?:\.\d+)?)%")


def parameter_count_problem(instantiated: int, published: float, note: str) -> str | None:
    """The one parameter-count rule of the zoo; None when the entry satisfies it.

    Within 1% of the published count, or a note that states the measured difference (a signed
    percentage with at least one decimal, its first) and the instantiated count in full, beside its
    cause. Whatever difference a note states must be the measured one, at the precision stated.
    """
    diff = instantiated / published - 1
    stated = _STATED.search(note)
    if stated is not None:
        decimals = len(stated.group(1).partition(".")[2])
        if round(diff * 100, decimals) != float(stated.group(1)):
            return f"the note states {stated.group(1)}%, the model measures {diff * 100:+.{max(decimals, 1)}f}%"
    if abs(diff) <= 0.01:
        return None
    if not note:
        return f"{instantiated:,} vs {published:,.0f} ({diff:+.1%}) needs a note that states the difference and why"
    if stated is None or "." not in stated.group(1):
        return f"the note must state the measured difference ({diff:+.1%})"
    if f"{instantiated:,}" not in note:
        return f"the note must state the instantiated count in full ({instantiated:,})"
    return None


def test_the_parameter_rule_itself():
    note = "-18.6%: 680,770 instantiated (convs 4,112 + 8,224, ...); the dataset counts a 10x10 map"
    assert parameter_count_problem(680_770, 836_096, note) is None  # 680770 / 836096 - 1 = -18.58%
    assert "states -18.6%" in parameter_count_problem(700_000, 836_096, note)  # -16.28% measured
    assert "needs a note" in parameter_count_problem(680_770, 836_096, "")
    assert "in full" in parameter_count_problem(680_770, 836_096, "-18.6%: 0.68M instantiated")
    assert "measured difference" in parameter_count_problem(680_770, 836_096, "680,770: the dataset is off")
    assert parameter_count_problem(1_005, 1_000, "") is None  # +0.5%: within 1%, no note needed
    assert "states -0.9%" in parameter_count_problem(992, 1_000, "-0.9%: ...")  # -0.8% measured


@pytest.mark.parametrize("entry", SYSTEMS, ids=lambda e: e.name)
def test_parameters_within_1_percent_or_the_note_states_the_difference(entry):
    f = entry.facts
    n = sum(p.numel() for p in entry.build("meta").parameters())  # tied weights once
    problem = parameter_count_problem(n, f.published_parameters, f.parameters_note)
    assert problem is None, f"{entry.name}: {problem}"


def test_zoo_command_lists_every_entry_as_json():
    out = CliRunner().invoke(app, ["zoo", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert [r["name"] for r in rows] == list(models.REGISTRY)
    for key in ("name", "family", "domain", "year", "parameters", "published_parameters", "dataset_name"):
        assert key in rows[0]
    gpt3 = next(r for r in rows if r["name"] == "gpt3-175b")
    assert gpt3["parameters"] == 174_604_259_328  # 96 x (12 d^2 + 13 d) + (V + T + 2) d, d = 12288


def test_names_join_the_dataset_snapshot():
    """Every dataset_name the snapshot should hold is there (entries not in it say so)."""
    import csv
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "shared" / "data" / "epoch" / "all_ml_systems.csv"
    if not path.exists():
        pytest.skip("the dataset snapshot is not beside the project")
    with path.open(newline="", encoding="utf-8") as f:
        names = {row["Model"] for row in csv.DictReader(f)}
    missing = [
        e.name
        for e in SYSTEMS
        if e.facts.dataset_name not in names and "not in the 2025-06 snapshot" not in run_for(e.name).notes.lower()
    ]
    assert not missing


GPT_ENTRIES = [e for e in models.REGISTRY.values() if e.family == "gpt"]


def _shrunk(cfg):
    """The same architecture (norm, MLP, positions, parallel, MQA, tying) at a CPU-friendly size."""
    from dataclasses import replace

    return replace(
        cfg, n_layer=2, n_head=4, d_model=64, vocab_size=100, block_size=64,
        d_ff=None if cfg.d_ff is None else 160,
        d_head=None if cfg.d_head is None else 16,
        n_kv_head=None if cfg.n_kv_head is None else 1,
    )


def _agrees(entry, config, batch, seq, device):
    from harness import count_flops
    from harness.analytic import breakdown, by_category

    counted = count_flops(entry.build(device, config=config), entry.inputs(batch, seq, device, config=config))
    analytic = by_category(breakdown(entry.family, config or entry.config, batch, seq))
    return {c: (f, counted.by_category[c]) for c, f in analytic.items() if f != counted.by_category[c]}


@pytest.mark.parametrize("entry", GPT_ENTRIES, ids=lambda e: e.name)
def test_gpt_family_analytic_is_exact_at_each_architectures_small_size(entry):
    assert _agrees(entry, _shrunk(entry.config), 2, 16, "cpu") == {}


@pytest.mark.parametrize("name", ["gpt3-175b", "palm-540b", "llama-65b"])
def test_gpt_family_analytic_is_exact_at_full_size(name):
    """Dense GPT-3, PaLM (SwiGLU, multi-query, parallel, rotary) and LLaMA (RMSNorm, untied)."""
    entry = models.get(name)
    assert _agrees(entry, None, 1, None, "meta") == {}
