"""Counted method 1: one counted step scaled to the run, by hand; self-play; active parameters."""

from __future__ import annotations

import pytest

from harness.estimate.active import active_parameters
from harness.estimate.counted import StepCount, counted_estimate
from harness.estimate.runs import Moe, SelfPlay, Stage, TrainingRun


def test_convnet_per_example_by_hand():
    # AlexNet-like: 1.5 GFLOP forward and 3 GFLOP backward per image, counted at the run's batch 128;
    # SGD's 2 FLOP per parameter on 61M parameters once per step
    step = StepCount(forward_flop=128 * 1.5e9, backward_flop=128 * 3e9, optimizer_flop=2 * 61e6, batch=128,
                     optimizer="sgd")
    run = TrainingRun("x", examples=1.2e6, epochs=90, batch_size=128, optimizer="sgd")
    c = counted_estimate(run, step, params=61e6)
    per_example = 1.5e9 + 3e9 + 2 * 61e6 / 128  # 4.500953e9
    assert c.per_unit == "example"
    assert c.per_unit_flop == pytest.approx(per_example)
    assert c.flop == pytest.approx(per_example * 1.2e6 * 90)  # 4.861e17
    assert c.closed_form_flop == pytest.approx(6 * 61e6 * 1.2e6 * 90)  # 2 x connections x 3 x examples = 3.953e16
    assert c.ratio_to_closed_form == pytest.approx(per_example / (6 * 61e6))  # 12.3: the convolutions' weight sharing


def test_language_model_per_token_by_hand():
    # 8 sequences of 2048 tokens; forward 2 x 1e9 FLOP per token, backward twice that; AdamW 14 FLOP/param
    B, T, N = 8, 2048, 1e9
    step = StepCount(forward_flop=2 * N * B * T, backward_flop=4 * N * B * T, optimizer_flop=14 * N, batch=B,
                     seq_len=T, optimizer="adamw")
    run = TrainingRun("lm", tokens=1e12, batch_size=B, seq_len=T, optimizer="adamw")
    c = counted_estimate(run, step, params=N)
    per_token = 6 * N + 14 * N / (B * T)  # 6.000854e9
    assert c.per_unit == "token" and c.per_unit_flop == pytest.approx(per_token)
    assert c.phases_per_unit == pytest.approx({"forward": 2 * N, "backward": 4 * N, "optimizer": 14 * N / (B * T)})
    assert c.flop == pytest.approx(per_token * 1e12)
    assert c.closed_form_flop == pytest.approx(6e21)  # 6 N D
    assert c.ratio_to_closed_form == pytest.approx(per_token / (6 * N))


def test_optimizer_left_out_when_the_batch_is_unknown():
    step = StepCount(forward_flop=10.0, backward_flop=20.0, optimizer_flop=1000.0, batch=1, optimizer="adam")
    c = counted_estimate(TrainingRun("x", examples=100, epochs=2), step, params=1.0)
    assert c.flop == pytest.approx(30 * 100 * 2)  # (10 + 20) per example, no optimizer share
    assert any("optimizer step left out" in n for n in c.notes)


def test_stages_sum_their_steps():
    # BERT-like: 900 steps at 128 tokens, 100 at 512; each stage's step counted at its own shape
    s128 = StepCount(forward_flop=2 * 256 * 128, backward_flop=4 * 256 * 128, optimizer_flop=0.0, batch=256,
                     seq_len=128)
    s512 = StepCount(forward_flop=3 * 256 * 512, backward_flop=6 * 256 * 512, optimizer_flop=0.0, batch=256,
                     seq_len=512)
    run = TrainingRun("b", tokens=1.0, stages=(Stage(900, 256, 128), Stage(100, 256, 512)))
    c = counted_estimate(run, s128, params=1.0, stage_steps=(s128, s512))
    total = 900 * 6 * 256 * 128 + 100 * 9 * 256 * 512  # 1.769e8 + 1.180e8
    assert c.flop == pytest.approx(total)
    assert c.per_unit_flop == pytest.approx(total / (900 * 256 * 128 + 100 * 256 * 512))
    assert c.closed_form_flop == pytest.approx(6 * (900 * 256 * 128 + 100 * 256 * 512))  # the stages' tokens


def test_alphago_zero_self_play_by_hand():
    # one position's forward: 2 x 17,048,888,774 connections (the dataset's own count of the 40-block net)
    fwd = 2 * 17_048_888_774
    step = StepCount(forward_flop=2048 * fwd, backward_flop=2048 * 2 * fwd, optimizer_flop=0.0, batch=2048,
                     single_forward_flop=fwd)
    run = TrainingRun("agz", steps=3.1e6, batch_size=2048,
                      self_play=SelfPlay(games=29e6, moves_per_game=211, simulations_per_move=1600))
    c = counted_estimate(run, step, params=46.4e6)
    assert c.part("self-play").flop == pytest.approx(29e6 * 211 * 1600 * fwd)  # 3.338e23
    assert c.part("gradient steps").flop == pytest.approx(3 * fwd * 3.1e6 * 2048)  # 6.494e20
    assert c.flop == pytest.approx(29e6 * 211 * 1600 * fwd + 3 * fwd * 3.1e6 * 2048)
    assert c.flop / 3.41e23 == pytest.approx(0.981, abs=0.001)  # the dataset's AlphaGo Zero figure


def test_moe_closed_form_uses_active_parameters():
    run = TrainingRun("sw", tokens=5.76e11, moe=Moe(experts=2048, top_k=1, active_parameters=1.5e9))
    step = StepCount(forward_flop=1.0, backward_flop=2.0, optimizer_flop=0.0, batch=1, seq_len=1)
    c = counted_estimate(run, step, params=1.571e12)
    assert c.closed_form_flop == pytest.approx(6 * 1.5e9 * 5.76e11)  # 5.18e21, not 6 x 1.571e12 x 5.76e11 = 5.43e24
    assert "N_active" in c.closed_form


@pytest.mark.parametrize("model, total, note, active", [
    ("DeepSeek-V3", 671e9, "Mixture-of-Experts (MoE) language model with 671B total parameters with 37B activated "
     "for each token.", 37e9),
    ("Llama 4 Maverick", 400e9, '"Llama 4 Maverick models have 17B active parameters and 400B total parameters."', 17e9),
    ("Qwen3-235B-A22B", 235e9, "", 22e9),
    ("Dense-7B", 7e9, "7 billion parameters", None),
])
def test_active_parameters_read_from_the_row(model, total, note, active):
    a = active_parameters(model, total, note)
    assert (a.parameters if a else None) == active


def test_dataset_row_6nd_on_active_parameters():
    from harness.estimate.apply import estimate_row
    from harness.estimate.dataset import SystemRow

    row = SystemRow(model="DeepSeek-V3", parameters=671e9, dataset_size=14.8e12, compute=3.4078e24,
                    parameters_notes="671B total parameters with 37B activated for each token.")
    out = estimate_row(row, [])
    assert out["compute_method1"] == pytest.approx(6 * 37e9 * 14.8e12)  # 3.286e24: 0.96x the dataset, not 17x
    assert "moe_active_parameters" in out["flags"] and "37B activated" in out["method1_parameters"]


def test_alphago_zero_counted_from_the_zoo_within_3x_of_the_dataset():
    from harness.zoo_compute import count_step, counted_for

    one = count_step("alphago-zero", batch=1).single_forward_flop
    assert one / (2 * 17_048_888_774) == pytest.approx(1.0, abs=0.03)  # the counter vs the dataset's connections
    c = counted_for("alphago-zero")
    assert 1 / 3 < c.flop / 3.41e23 < 3  # self-play included; 0.96 with 211 moves per game
    assert c.part("self-play").flop > 100 * c.part("gradient steps").flop


def test_nasv3_search_counts_the_child():
    from harness.estimate.runs import run_for
    from harness.zoo_compute import count_step, counted_for

    child = count_step("nasv3-search-child", run_for("nasv3-cifar10"), batch=1)
    c = counted_for("nasv3-cifar10")
    per_example = child.forward_flop + child.backward_flop  # optimizer left out: momentum SGD has no row
    assert c.part("architecture search").flop == pytest.approx(12800 * 50 * 45000 * per_example)
