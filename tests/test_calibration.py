"""Calibration evidence, the pooled model, and its evaluation against the fixed rule."""

import csv
import math

import pytest

from harness.estimate import calibrate as C
from harness.estimate import evaluation as V
from harness.estimate import evidence as E
from harness.estimate.dataset import load_systems
from harness.estimate.defaults import SystemKeys, utilisation_default

HEADER = ["Model", "Domain", "Publication date", "Parameters", "Training compute (FLOP)",
          "Training dataset size (datapoints)", "Epochs", "Training time (hours)", "Training hardware",
          "Hardware quantity", "Hardware utilization (MFU)", "Numerical format", "Training compute estimation method"]
ROWS = [
    # a hardware-method row recounted: 6 x 1e10 x 2e11 = 1.2e22 FLOP over 256 A100 x 240 h at 312e12
    ["Recounted LM", "Language", "2022-01-01", "1e10", "2.07e22", "2e11", "1", "240", "NVIDIA A100", "256", "",
     "BF16", "Hardware"],
    ["Big-MoE", "Language", "2022-01-01", "1e12", "2.07e22", "2e11", "1", "240", "NVIDIA A100", "256", "", "BF16",
     "Hardware"],
    ["Broken LM", "Language", "2022-01-01", "1e12", "2.07e22", "2e12", "1", "24", "NVIDIA A100", "256", "", "BF16",
     "Hardware"],
    ["Vision hw", "Vision", "2022-01-01", "3e8", "4e20", "3e8", "7", "100", "Google TPU v3", "64", "", "", "Hardware"],
    ["MFU only", "Language", "2023-01-01", "", "3e22", "", "", "240", "NVIDIA A100", "256", "0.5", "BF16",
     "Hardware"],
]


@pytest.fixture
def systems(tmp_path):
    path = tmp_path / "systems.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(ROWS)
    return load_systems(path)


def test_recount_golden_and_drops(systems):
    kept, dropped = E.from_dataset(systems)
    by = {(e.system, e.kind): e for e in kept}
    u = by[("Recounted LM", "recount")].utilisation
    assert u == pytest.approx(1.2e22 / (256 * 240 * 3600 * 312e12))  # 0.1738
    why = {d.system: d.reason for d in dropped}
    assert "mixture of experts" in why["Big-MoE"]
    assert "> 1" in why["Broken LM"]  # 6 x 1e12 x 2e12 over 24 h: utilisation 174
    assert "no 6ND recount" in why["Vision hw"]  # 6ND undercounts convnets: not recounted
    assert by[("MFU only", "reported MFU")].utilisation == 0.5


def _run(name, u, gen="ampere", year=2022, kind="dataset count", domain="language"):
    return E.Evidence(name, u, kind, SystemKeys(gen, "bf16", domain, 256, 1e10, year))


def test_mfu_relation_is_the_median_ratio_of_systems_with_both():
    items = []
    for i, ratio in enumerate((0.8, 0.9, 1.0)):
        items += [_run(f"s{i}", 0.4 * ratio), _run(f"s{i}", 0.4, kind="reported MFU")]
    rel = E.mfu_relation(items)
    assert rel.n == 3 and rel.ratio == pytest.approx(0.9)


def test_benchmark_throughput_becomes_6n_utilisation():
    text = ("system,hardware,chips,precision,parameters,year,metric,value,source\n"
            "x,H100 SXM5 80GB,8,bf16,1e9,2023,tokens_per_second_per_chip,50000,s\n"
            "y,TPU v5p,64,bf16,3.2e10,2024,mfu,0.7,s\n")
    x, y = E.benchmark_evidence(text)
    assert x.utilisation == pytest.approx(6 * 1e9 * 5e4 / 989.4e12)  # 0.3032
    assert x.keys.generation == "hopper" and y.utilisation == 0.7 and y.kind == "benchmark"


def test_shipped_benchmarks_have_one_source_each_and_plausible_values():
    items = E.benchmark_evidence()
    assert len(items) >= 80 and all(e.source for e in items)
    assert all(0.1 < e.utilisation < 0.8 for e in items)


def _noisy(name, centre, n, gen):
    return [_run(f"{name}{i}", centre * (1.15 if i % 2 else 0.87), gen) for i in range(n)]


def test_a_group_of_two_moves_the_estimate_little():
    items = _noisy("a", 0.3, 40, "ampere") + [_run("v0", 0.1, "volta"), _run("v1", 0.11, "volta")]
    model = C.fit(items, C.Settings(("generation",), 8.0, 0.0))
    volta = 10 ** model.predict_log10(SystemKeys("volta", domain="language"))
    assert 0.1 < volta < 0.3
    assert math.log10(volta / 0.3) > 0.5 * math.log10(0.105 / 0.3)  # less than half of the way to its data


def test_evaluation_predicts_through_the_shipped_lookup():
    items = _noisy("a", 0.3, 12, "ampere") + _noisy("b", 0.15, 12, "volta")
    model = C.fit(items)
    table = C.defaults_table(model)
    keys = SystemKeys("volta", domain="language")
    assert utilisation_default(keys, table).central == pytest.approx(10 ** model.predict_log10(keys), rel=1e-3)
    ev = V.leave_one_system_out(items)
    assert ev.n == 24 and set(ev.scores) == set(V.METHODS)
    cal = ev.scores[V.METHODS[0]]
    assert cal.median_abs_log10 < ev.scores[V.METHODS[1]].median_abs_log10  # volta's 0.15 is learnt


def test_choose_falls_back_to_the_rule_when_the_model_loses():
    items = _noisy("a", 0.3, 12, "ampere")
    lose = V.Evaluation("e", {V.METHODS[0]: V.Score(9, 0.2, 0.5, 0.8), V.METHODS[1]: V.Score(9, 0.1, 0.9, 0.8)}, [])
    table, why = V.choose(items, [lose])
    assert [r.group for r in table] == ["rule/domain=language", "rule/domain=other"]
    assert "lost" in why and table[0].utilisation == pytest.approx(0.3)
    # the interval is the rule's own errors: half the runs at 0.3 x 0.87, half at 0.3 x 1.15
    assert (table[0].low, table[0].high) == pytest.approx((0.3 * 0.87, 0.3 * 1.15))
    assert not V.beats_rule(V.Evaluation("empty", {}, []))  # an evaluation that could not run proves nothing


def test_time_split_fits_only_on_the_past():
    items = _noisy("old", 0.3, 10, "ampere") + [_run(f"new{i}", 0.4, year=2024) for i in range(4)]
    ev = V.time_split(items)
    assert ev.n == 4


def test_benchmark_rows_use_the_harness_count_where_the_zoo_has_the_model():
    text = ("system,hardware,chips,precision,parameters,year,metric,value,zoo,source\n"
            "g,H100 SXM5 80GB,512,fp8,175e9,2024,tokens_per_second_per_chip,1000,gpt3-175b,s\n")
    from harness.cli.calibrate import zoo_flop_per_token

    per_token = zoo_flop_per_token({"gpt3-175b"})["gpt3-175b"]
    # GPT-3 175B at 2048 tokens: attention and logits add ~2.5% to 6N (Chinchilla App. F)
    assert per_token / (6 * 175e9) == pytest.approx(1.025, abs=0.005)
    (g,) = E.benchmark_evidence(text, {"gpt3-175b": per_token})
    assert g.utilisation == pytest.approx(per_token * 1000 / 1979e12)
    assert "counted by the harness" in g.source
    assert E.benchmark_zoo_names() == {"gpt3-175b"}


def test_counted_evidence_from_a_reconciliation_table_wins_over_the_recount():
    text = ("dataset_model,implied_utilisation,hardware,precision,domain,chips,parameters,year\n"
            "Recounted LM,0.25,NVIDIA A100,bf16,Language,256,1e10,2022\n"
            "No figure,,NVIDIA A100,bf16,Language,256,1e10,2022\n")
    counted = E.counted_from_csv(text)
    assert [(e.system, e.kind, e.keys.generation) for e in counted] == [("Recounted LM", "counted", "ampere")]
    recount = _run("Recounted LM", 0.17, kind="recount")
    kept = C.best_runs([recount, *counted])
    assert kept == counted  # one training-run figure per system: the harness's count


def test_notes_say_where_the_rule_ties_and_coverage_misses():
    scores = {V.METHODS[0]: V.Score(30, 0.15, 0.8, 0.6), V.METHODS[1]: V.Score(30, 0.16, 0.8, 0.6),
              V.METHODS[2]: V.Score(30, 0.16, 0.8, 0.6), V.METHODS[3]: V.Score(30, 0.13, 0.8, None)}
    said = " ".join(V.notes(V.Evaluation("e", scores, [])))
    assert "at least as good as the fixed rule here (0.150 vs 0.160)" in said
    assert "tie on the share within 2x (80%)" in said
    assert "covers 60%" in said and "0.375 median does better" in said
