"""Cross-checking compute claims (harness/estimate/claims.py) and the catalogue (claims.csv)."""

from __future__ import annotations

import csv
import json
import math
import sys
from dataclasses import replace
from types import SimpleNamespace

import pytest

from harness.estimate.claims import (
    CATALOGUE_PATH,
    DETECTORS,
    Claim,
    check,
    check_catalogue,
    load_claims,
)
from harness.estimate.runs import TrainingRun
from harness.hardware.table import UnknownHardware
from harness.report.claims_view import results_json, results_rows, results_table
from models._entry import Facts


def zoo_claim(name: str) -> Claim:
    """A zoo entry's recorded run as a claim, uncounted (the CLI passes the counted one)."""
    import models

    return Claim.from_entry(models.get(name))


C = Claim.from_fields  # CLI-style: hours / days / seconds, hardware checked
RULE = []  # an empty defaults table: Epoch's fixed rule (0.3 [0.25, 0.5] language, 0.4 [0.25, 0.62] other)
DAY = 86400
T = 1e12


def m1(result):
    return next(e for e in result.estimates if e.method == "operation counting")


def m2(result):
    return next(e for e in result.estimates if e.method == "hardware")


def codes(result):
    return [r.code for r in result.reasons]


def text(result):
    return " ".join(r.message for r in result.reasons)


# ------------------------------------------------------------------------------------- the estimates


def test_gpt3_six_n_d():
    r = check(C("GPT-3", params=175e9, tokens=300e9, claimed=3.14e23), RULE)
    assert m1(r).flop == pytest.approx(3.15e23)  # 6 x 175e9 x 300e9
    assert m1(r).formula == "6 x N x D"
    assert r.factor == pytest.approx(3.14e23 / 3.15e23)
    assert r.verdict == "consistent"
    assert r.checks["claimed_within_2x_of_method1"] is True


def test_method1_from_examples_says_so():
    r = check(C(params=1e6, examples=1e5, epochs=10), RULE)
    assert m1(r).flop == pytest.approx(6e12)  # 2 x 1e6 connections x 3 x 1e5 examples x 10 epochs
    assert m1(r).formula.startswith("2 x connections x 3")
    assert any("connections = parameters" in a for a in m1(r).assumptions)


def test_method1_counted_flop_per_example():
    r = check(C(examples=1.28e6, epochs=90, flop_per_example=2.28e10), RULE)
    assert m1(r).flop == pytest.approx(2.626e18, rel=1e-3)  # 2.28e10 x 1.28e6 x 90


def test_method2_a100_claimed_utilisation():
    c = Claim.from_fields("run", hardware="A100", count=1000, days=10, utilisation=0.4)
    r = check(c, RULE)
    assert m2(r).flop == pytest.approx(1.078e23, rel=1e-3)  # 1000 x 10 x 86400 s x 312e12 x 0.4
    assert m2(r).low == pytest.approx(1.078e23 * 0.5, rel=1e-3)  # a claimed MFU: wall-clock may be half of it
    assert r.precision == "bf16" and r.peak_flop_per_s == 312 * T  # Epoch's order: BF16 tensor first


def test_method2_default_utilisation_fixed_rule():
    r = check(C(hardware="A100", count=8, seconds=1e5, domain="language"), RULE)
    base = 8 * 1e5 * 312 * T  # 2.496e20
    assert (m2(r).flop, m2(r).low, m2(r).high) == pytest.approx((0.3 * base, 0.25 * base, 0.5 * base))
    assert "fixed rule" in " ".join(m2(r).assumptions)


def test_chip_hours_replace_count_times_time():
    r = check(C(params=70e9, tokens=2e12, hardware="A100 80GB", chip_hours=1720320, domain="language"), RULE)
    assert m2(r).flop == pytest.approx(1720320 * 3600 * 312 * T * 0.3)  # Llama 2 70B's GPU-hours
    assert r.implied_utilisation == pytest.approx(8.4e23 / (1720320 * 3600 * 312 * T))  # 6ND / capacity = 0.435
    assert r.implied_from == "method 1"
    assert r.verdict == "consistent"


def test_implied_utilisation_of_the_claimed_figure():
    c = Claim(hardware="A100", count=1000, seconds=10 * DAY, claimed=1.0783e23)
    r = check(c, RULE)
    assert r.implied_utilisation == pytest.approx(0.4, rel=1e-3)  # 1.0783e23 / (1000 x 864000 x 312e12)
    assert r.implied_from == "claimed"


def test_precision_given_and_missing_from_table():
    r = check(C(hardware="TPU v3", count=4, hours=1, precision="fp16"), RULE)
    assert r.precision == "bf16" and "fp16 not in the table" in r.peak_rule
    r = check(C(hardware="A100", count=1, hours=1, precision="fp32"), RULE)
    assert r.peak_flop_per_s == 19.5 * T


def test_active_parameters_for_a_mixture_of_experts():
    r = check(C(params=671e9, active_params=37e9, tokens=14.8e12), RULE)
    assert m1(r).flop == pytest.approx(6 * 37e9 * 14.8e12)  # 3.29e24: the active parameters
    assert "mixture_of_experts" in codes(r) and "18.1x" in text(r)  # 671 / 37


# ------------------------------------------------------------------------------------- detectors


def test_board_peak_named():
    # TPU v3: 420 TFLOP/s quoted per 4-chip board, 123 per chip
    c = Claim(hardware="TPU v3", count=64, seconds=DAY, peak=420 * T, utilisation=0.35, claimed=64 * DAY * 420 * T * 0.35)
    r = check(c, RULE)
    assert "board_peak" in codes(r)
    assert "board" in text(r) and "123 TFLOP/s per chip" in text(r)


def test_board_count_from_claimed_only():
    # 16 "Cloud TPUs" (boards) given as the chip count; the run was 64 chips at utilisation 0.4
    claimed = 64 * 4 * DAY * 123 * T * 0.4
    r = check(C("bert-like", hardware="TPU v3", count=16, days=4, claimed=claimed), RULE)
    assert r.implied_utilisation == pytest.approx(1.6)  # 4 x 0.4
    assert r.verdict == "inconsistent"
    assert "board_peak" in codes(r) and "boards, not chips" in text(r)


def test_per_core_peak():
    r = check(C(hardware="TPU v3", count=8, hours=1, peak=61.5 * T), RULE)  # 123 / 2 TensorCores
    assert "core_peak" in codes(r) and "TensorCores" in text(r)


def test_sparse_peak_named():
    c = Claim(hardware="H100", count=1, seconds=1, precision="bf16", peak=1979 * T, utilisation=0.243, claimed=4.8e14)
    r = check(c, RULE)
    assert codes(r)[0] == "sparse_peak"
    assert "2:4-sparse" in text(r) and "989.4" in text(r)
    assert "0.486" in text(r)  # 0.243 x 1979 / 989.4


def test_sparse_peak_from_claimed_only():
    claimed = 100 * 1e5 * 1979 * T * 0.4  # the claim used H100's sparse bf16 headline at utilisation 0.4
    r = check(C(hardware="H100", count=100, seconds=1e5, precision="bf16", claimed=claimed), RULE)
    assert r.implied_utilisation == pytest.approx(0.8, rel=1e-3)  # 0.4 x 1979 / 989.4
    assert "sparse_peak" in codes(r)


def test_other_chips_peak_named():
    r = check(C(hardware="H100", count=1, seconds=1, precision="bf16", peak=312 * T, utilisation=1.04,
                    claimed=1.04 * 312 * T), RULE)
    assert "claimed_utilisation_above_1" in codes(r) and "other_chip_peak" in codes(r)
    assert "A100" in text(r)
    assert r.verdict == "inconsistent"


def test_chip_hours_given_as_hours():
    claimed = 6400 * 3600 * 312 * T * 0.4  # 6400 GPU-hours at 0.4 = 2.875e21
    r = check(C(hardware="A100", count=64, hours=6400, claimed=claimed), RULE)
    assert r.implied_utilisation == pytest.approx(0.4 / 64)  # 0.00625
    assert "hours_look_like_chip_hours" in codes(r)
    assert "0.4 if 6.4e+03 are chip-hours" in text(r)


def test_wall_clock_beyond_years_is_chip_hours():
    r = check(C(hardware="A100", count=256, hours=150000), RULE)  # Stable Diffusion v1's card
    assert "hours_look_like_chip_hours" in codes(r) and "17.1 years" in text(r)
    assert r.verdict == "inconsistent"


def test_precision_fp32_vs_bf16():
    claimed = 8 * 1e5 * 19.5 * T * 0.4  # an fp32 run on 8 A100 at 0.4 = 6.24e18
    r = check(C(hardware="A100", count=8, seconds=1e5, precision="bf16", claimed=claimed), RULE)
    assert r.implied_utilisation == pytest.approx(0.025)  # 0.4 x 19.5 / 312
    assert "precision_peak" in codes(r)
    assert "fp32" in text(r) and "16x" in text(r)


def test_impossible_utilisation():
    r = check(C(hardware="A100", count=1, hours=1, claimed=2e18), RULE)
    assert r.implied_utilisation == pytest.approx(1.781, rel=1e-3)  # 2e18 / (3600 x 312e12)
    assert "utilisation_above_1" in codes(r) and r.verdict == "inconsistent"


def test_implausibly_low_utilisation():
    r = check(C(hardware="A100", count=1, hours=1, claimed=0.01 * 3600 * 312 * T), RULE)
    assert "utilisation_implausibly_low" in codes(r) and r.verdict == "inconsistent"


def test_utilisation_one_assumed():
    # Vaswani et al.: 8 P100 x 3.5 days x 9.5 TFLOP/s = 2.3e19
    r = check(C(params=213e6, hardware="P100", count=8, days=3.5, peak=9.5e12, claimed=2.3e19), RULE)
    assert "utilisation_one_assumed" in codes(r)


def test_tokens_per_epoch():
    r = check(C(params=1e9, tokens=1e10, epochs=4, claimed=2.4e20), RULE)  # 4 x 6 x 1e9 x 1e10
    assert r.verdict == "inconsistent" and r.factor == pytest.approx(4)
    assert "tokens_per_epoch" in codes(r)


def test_parameters_include_experts():
    r = check(C(params=1.6e12, tokens=5e11, claimed=4.5e21), RULE)  # claimed = 6 x 1.5e9 active x 5e11
    assert "parameters_not_all_active" in codes(r) and "experts" in text(r)


def test_weight_sharing_convnet():
    r = check(C(params=25.6e6, examples=1.28e6, epochs=90, claimed=2.6e18, domain="vision"), RULE)
    assert "weight_sharing" in codes(r)


def test_downtime_below_reported_mfu():
    # PaLM 540B: 8,404,992 chip-hours on TPU v4 at 275e12, MFU 0.462, claimed 2.5272e24 -> 0.304
    c = Claim(params=540.35e9, tokens=780e9, hardware="TPU v4", chip_hours=8404992, utilisation=0.462, claimed=2.5272e24)
    r = check(c, RULE)
    assert r.implied_utilisation == pytest.approx(0.3037, rel=1e-3)
    assert "downtime" in codes(r) and r.verdict == "consistent"


def test_detectors_are_pure_functions_of_a_context():
    assert len({d.__name__ for d in DETECTORS}) == len(DETECTORS)
    assert all(d.__name__.startswith("detect_") for d in DETECTORS)


# ------------------------------------------------------------------------------------- verdicts


def test_unverifiable_with_one_figure():
    r = check(C(params=1e9, tokens=1e10), RULE)
    assert r.verdict == "unverifiable" and r.factor is None


def test_json_keys():
    r = check(C("GPT-3", params=175e9, tokens=300e9, hardware="V100", count=10000, days=14.8, claimed=3.14e23), RULE)
    d = json.loads(json.dumps(r.to_dict()))
    assert {"estimates", "implied_utilisation", "verdict", "reasons"} <= set(d)
    assert [e["method"] for e in d["estimates"]] == ["operation counting", "hardware"]
    assert set(d["estimates"][0]) == {"method", "formula", "flop", "low", "high", "inputs", "assumptions"}
    assert isinstance(d["reasons"], list)


# ------------------------------------------------------------------------------------- bad input


def test_two_time_units():
    with pytest.raises(ValueError, match=r"one training time") as e:
        Claim.from_fields("x", hours=10, days=2)
    assert "\n" not in str(e.value)


def test_negative_count():
    with pytest.raises(ValueError, match=r"count must be a positive number, not -3") as e:
        Claim.from_fields("x", count=-3)
    assert "\n" not in str(e.value)


def test_unknown_hardware_names_candidates():
    with pytest.raises(UnknownHardware) as e:
        Claim.from_fields("x", hardware="H1000", count=8, hours=1)
    assert isinstance(e.value, ValueError) and "\n" not in str(e.value)
    assert "H100" in str(e.value) and e.value.candidates


def test_time_and_chip_hours_together():
    with pytest.raises(ValueError, match="chip-hours, not both"):
        Claim.from_fields("x", hours=1, chip_hours=10)


def test_unknown_precision():
    with pytest.raises(ValueError, match="unknown precision"):
        Claim.from_fields("x", precision="fp4")


# ------------------------------------------------------------------------------------- files and entries


def test_csv_file_round_trip(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("name,params,tokens,hardware,count,days,claimed\nA,1e9,1e10,A100,8,1,6e19\n")
    (c,) = load_claims(p)
    assert (c.params, c.count, c.seconds, c.claimed) == (1e9, 8, DAY, 6e19)


def test_csv_bad_cell_names_line(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("name,params\nA,175B\n")
    with pytest.raises(ValueError, match=r"c.csv line 2 \(A\): params '175B' holds a unit \('B'\); write a bare number"):
        load_claims(p)


def test_yaml_file(tmp_path):
    pytest.importorskip("yaml")
    p = tmp_path / "c.yaml"
    p.write_text("claims:\n  - name: B\n    params: 7e9\n    tokens: 1e12\n    hardware: A100\n    count: 440\n    days: 9.5\n")
    (c,) = load_claims(p)
    assert c.name == "B" and c.seconds == 9.5 * DAY


def test_yaml_without_pyyaml(tmp_path, monkeypatch):
    p = tmp_path / "c.yml"
    p.write_text("name: B\n")
    monkeypatch.setitem(sys.modules, "yaml", None)  # import yaml now raises ImportError
    with pytest.raises(ValueError, match="pip install pyyaml"):
        load_claims(p)


def test_from_entry_uses_training_facts():
    t = TrainingRun("bert-large", tokens=128e9, epochs=40, hardware="Google TPU v2", chip_count=64, hours=96.0,
                    mfu=0.3, compute_flop=2.85e20, source="Devlin et al. 2018, App. A.2")
    entry = SimpleNamespace(name="bert-large", domain="language",
                            facts=Facts("BERT-Large", 2018, 340e6, "Devlin et al. 2018"))
    c = Claim.from_entry(entry, run=t)
    assert (c.params, c.tokens, c.count, c.seconds, c.utilisation, c.claimed) == (340e6, 128e9, 64, 96 * 3600, 0.3, 2.85e20)
    assert c.hardware == "Google TPU v2" and "Devlin" in c.sources
    r = check(c, RULE)
    assert m1(r).flop == pytest.approx(2.611e20, rel=1e-3)  # 6 x 340e6 x 128e9


def test_from_entry_unknown_hardware_is_noted_not_raised():
    t = TrainingRun("x", examples=1e6, epochs=1, hardware="Imaginary Chip 9000", chip_count=2, hours=1)
    entry = SimpleNamespace(name="x", domain="vision", facts=Facts("X", 2020, 1e6, "s"))
    c = Claim.from_entry(entry, run=t)
    assert c.hardware is None and "hardware left out" in c.notes


def test_from_entry_without_facts():
    with pytest.raises(ValueError, match="no published facts"):
        Claim.from_entry(SimpleNamespace(name="small-cnn", domain="vision", facts=None))


def test_claim_for_zoo_model():
    import models

    c = Claim.from_entry(models.get("palm-540b"))
    # the zoo's record: 540.35B parameters, 780B tokens, 6144 TPU v4 and App. B's chip-hours
    # 6144 x 1200 + 3072 x 336 = 8,404,992 (not 6144 x 1536 h), bf16, MFU 0.462, 2.5272e24 FLOP
    assert (c.params, c.tokens, c.count, c.hours, c.chip_hours) == (540.35e9, 780e9, 6144, None, 8_404_992)
    assert (c.precision, c.utilisation, c.claimed) == ("bf16", 0.462, 2.5272e24)
    r = check(c, RULE)
    assert m1(r).flop == pytest.approx(2.528838e24)  # 6 x 540.35e9 x 780e9
    # 8,404,992 chip-h x 3600 s x 275e12 FLOP/s (TPU v4 bf16) = 8.3209e24 FLOP at utilisation 1
    assert r.implied_utilisation == pytest.approx(2.5272e24 / (8_404_992 * 3600 * 275e12))  # 0.3037
    # method 2 at the claimed MFU: 8.3209e24 x 0.462 = 3.8443e24, range x0.5 to x1.25
    assert (m2(r).flop, m2(r).low, m2(r).high) == pytest.approx((3.84425e24, 1.92213e24, 4.80532e24), rel=1e-5)
    # claimed / 6ND = 0.9994 (within 2x) and 2.5272e24 >= 1.922e24 / 1.1: both comparisons pass
    assert r.checks == {"claimed_within_2x_of_method1": True, "claimed_inside_method2_range": True,
                        "method1_inside_method2_range": None}
    assert r.verdict == "consistent"
    # 0.3 x 0.462 = 0.139 <= 0.3037 < 0.8 x 0.462 = 0.370: below the MFU by downtime, the only reason
    assert codes(r) == ["downtime"]


# ------------------------------------------------------------------------------------- the catalogue


def test_catalogue_has_30_sourced_rows():
    with CATALOGUE_PATH.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 30
    assert len({r["name"] for r in rows}) == len(rows)
    assert all(r["sources"].strip() for r in rows), [r["name"] for r in rows if not r["sources"].strip()]
    assert {"sources", "notes"} <= set(rows[0])


def test_every_catalogue_row_checks():
    results = check_catalogue(defaults=RULE, zoo_claim=zoo_claim)
    assert len(results) == len(load_claims(CATALOGUE_PATH))
    for r in results:
        done = [v for v in r.checks.values() if v is not None]
        u = r.implied_utilisation
        impossible = ((u is not None and not 0.05 <= u <= 1) or (r.claim.utilisation or 0) > 1
                      or (r.claim.hours or 0) > 3 * 8766)
        # the verdict rule, restated: any failed comparison or impossibility is inconsistent; all of
        # at least one comparison passing is consistent; nothing to compare is unverifiable
        want = ("inconsistent" if impossible or (done and not all(done))
                else "consistent" if done else "unverifiable")
        assert r.verdict == want, r.claim.name
        if r.verdict == "inconsistent":
            assert r.reasons, r.claim.name  # an inconsistent claim always says why
        logs = [math.log(e.flop) for e in r.estimates]
        if r.claim.claimed is not None and logs:
            assert r.factor == pytest.approx(r.claim.claimed / math.exp(sum(logs) / len(logs)))
        json.dumps(r.to_dict())


def test_catalogue_gpt3_by_hand():
    r = next(x for x in check_catalogue(defaults=RULE, zoo_claim=zoo_claim) if x.claim.name == "GPT-3 175B")
    # the run's V100 (DGXS 32 GB, an SXM2 alias) has no bf16: Epoch's order takes its fp16 tensor-core peak, 125 TFLOP/s
    assert r.precision == "fp16" and r.peak_flop_per_s == 125e12
    # 10,000 chips x 14.8 days x 86,400 s = 1.27872e10 chip-seconds; x 125e12 = 1.5984e24
    assert r.implied_utilisation == pytest.approx(3.14e23 / 1.5984e24)  # 0.1964
    assert m1(r).flop == pytest.approx(3.15e23)  # 6 x 175e9 x 300e9
    # method 2 at the claimed 0.1968: 3.1457e23 [x0.5, x1.25] = [1.5728e23, 3.9321e23], claimed inside
    assert (m2(r).flop, m2(r).low, m2(r).high) == pytest.approx((3.14565e23, 1.57283e23, 3.93206e23), rel=1e-5)
    assert r.verdict == "consistent"
    # the claim's peak is the dense one (no peak finding) and 0.1964 >= 0.8 x 0.1968 (no downtime)
    assert r.reasons == ()


def test_catalogue_stable_diffusion_by_hand():
    r = next(x for x in check_catalogue(defaults=RULE, zoo_claim=zoo_claim) if x.claim.name == "Stable Diffusion v1")
    # 150,000 "hours" on 256 A100s: 17.1 years > 3 years of wall clock, impossible on its face
    assert r.claim.hours == 150_000 and r.verdict == "inconsistent"
    assert codes(r) == ["hours_look_like_chip_hours"]
    assert "586 h" in text(r)  # 150,000 / 256 = 585.9 h wall-clock


def test_catalogue_known_problems_are_flagged():
    by_name = {r.claim.name: r for r in check_catalogue(defaults=RULE, zoo_claim=zoo_claim)}
    known = [n for n, r in by_name.items() if "Known problem" in r.claim.notes]
    assert len(known) >= 3
    for n in known:
        assert by_name[n].verdict == "inconsistent" and by_name[n].reasons, n
    assert "utilisation_one_assumed" in codes(by_name["Transformer (big)"])
    assert "hours_look_like_chip_hours" in codes(by_name["Stable Diffusion v1"])
    assert "sparse_peak" in codes(by_name["fms-fsdp 7B on H100 (sparse peak)"])
    assert "board_peak" in codes(by_name["GPT-J-6B"])  # 13.4 PFLOP/s / 128 chips = 420 / 4
    assert by_name["GPT-3 175B"].verdict == "consistent"


def test_rendering():
    from rich.console import Console

    results = check_catalogue(defaults=RULE, zoo_claim=zoo_claim)[:5]
    console = Console(record=True, width=200)
    console.print(results_table(results))
    assert "GPT-3 175B" in console.export_text()
    rows = results_rows(results)
    assert rows[0]["name"] == "GPT-3 175B" and rows[0]["method1_flop"] == pytest.approx(3.15e23)
    assert json.loads(results_json(results))[0]["verdict"] == results[0].verdict


def test_catalogue_rows_refer_to_zoo_runs():
    by_name = {r.claim.name: r for r in check_catalogue(defaults=RULE, zoo_claim=zoo_claim)}
    t5 = by_name["T5-11B"].claim  # the catalogue row holds only the name of the zoo entry
    assert t5 == replace(zoo_claim("t5-11b"), name="T5-11B")
    assert (t5.count, t5.hours, t5.claimed, t5.peak) == (512, 480, 4.05e22, 1.23e14)  # from training_runs.toml
    with pytest.raises(ValueError, match="refer to zoo entries"):
        check_catalogue(defaults=RULE)


# ------------------------------------------- check NAME and check --catalogue judge a zoo run alike


def _zoo_rows() -> list[tuple[str, str]]:
    return [(c.name, c.zoo) for c in load_claims(CATALOGUE_PATH) if c.zoo]


@pytest.fixture(scope="module")
def cli_catalogue():
    """`check --catalogue --format json` through the CLI, with each zoo entry counted once for the
    module (the count is deterministic; both paths below call the same counting function)."""
    import functools

    from typer.testing import CliRunner

    import harness.zoo_compute as zc
    from harness.cli import app

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(zc, "counted_for", functools.cache(zc.counted_for))
        runner = CliRunner()

        def invoke(*args: str) -> dict | list:
            r = runner.invoke(app, ["check", *args, "--format", "json"])
            assert r.exit_code == 0, r.output
            return json.loads(r.stdout)

        yield {d["name"]: d for d in invoke("--catalogue")}, invoke


def test_catalogue_refers_to_every_zoo_run_it_checks():
    # the nine rows that repeated zoo figures now refer to the entries, beside the five done before
    assert {z for _, z in _zoo_rows()} >= {
        "gpt3-175b", "palm-540b", "gopher-280b", "chinchilla-70b", "llama-65b", "bert-large", "megatron-lm-8.3b",
        "dall-e-12b", "gshard-dense", "t5-11b", "gpt-j-6b", "switch-c", "transformer-big", "transformer-base"}


@pytest.mark.parametrize(("row", "zoo"), _zoo_rows())
def test_check_name_and_catalogue_judge_alike(cli_catalogue, row, zoo):
    by_row, invoke = cli_catalogue
    one, listed = invoke(zoo), by_row[row]
    assert listed["claim"]["zoo"] == zoo and one["claim"]["name"] == zoo and listed["name"] == row
    assert listed["verdict"] == one["verdict"]
    assert listed["reason_codes"] == one["reason_codes"]
    assert (listed["factor"] is None) == (one["factor"] is None)
    if one["factor"] is not None:
        assert listed["factor"] == pytest.approx(one["factor"], rel=1e-12)
    assert [e["flop"] for e in listed["estimates"]] == [e["flop"] for e in one["estimates"]]
