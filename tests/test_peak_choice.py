"""The one peak rule (harness/hardware/peak_choice.py) and the findings' nearness test."""

from __future__ import annotations

import pytest

from harness.estimate.claims import Claim
from harness.estimate.findings import near
from harness.hardware.peak_choice import choose_peak, epoch_order, matrix_fp16, other_peaks
from harness.hardware.table import resolve


def test_the_stated_precision_wins_where_the_chip_has_it():
    c = choose_peak(resolve("A100 SXM4 40GB"), "tf32")
    assert (c.flop_per_s, c.precision, c.step) == (156e12, "tf32", "given")
    assert c.rule("the claim's precision") == "tf32 of A100 SXM4 40GB (the claim's precision): 156 TFLOP/s dense per chip"


def test_epoch_order():
    # bf16 first (A100 312), then a matrix fp16 (V100 tensor cores 125 > 2.05 x 15.7), never packed half2
    assert choose_peak(resolve("A100 SXM4 40GB")).precision == "bf16"
    v100 = choose_peak(resolve("Tesla V100 SXM2 16GB"))
    assert (v100.precision, v100.flop_per_s, v100.step) == ("fp16", 125e12, "Tensor-FP16/BF16")
    p100 = resolve("Tesla P100 PCIe 16GB")  # fp16 18.7 = 2.01 x fp32 9.3: half2, not a matrix unit
    assert not matrix_fp16(p100) and epoch_order(p100) == ("fp32", "FP32")
    missing = choose_peak(resolve("TPU v2"), "fp32")  # TPU v2 has bf16 only
    assert missing.precision == "bf16" and "fp32 not in the table for TPU v2; Epoch's order" in missing.rule()


def test_a_chip_without_a_training_peak_has_none():
    # TPU v1 has int8 only: no training precision, so no peak (int8 only when asked by name)
    tpu1 = resolve("TPU v1")
    none = choose_peak(tpu1)
    assert (none.flop_per_s, none.precision) == (None, None) and none.rule() == "TPU v1 has no peak in the table"
    assert choose_peak(tpu1, "int8").flop_per_s == 92e12


def test_other_peaks_group_precisions_sharing_a_value():
    a100 = resolve("A100 SXM4 40GB")  # fp16 = bf16 = 312, tf32 156, fp32 19.5
    assert other_peaks(a100, 312e12) == {19.5e12: "fp32", 156e12: "tf32"}
    assert other_peaks(a100, 19.5e12) == {156e12: "tf32", 312e12: "fp16/bf16"}


def test_near():
    assert near(1.04, 1.0, 0.05) and not near(1.06, 1.0, 0.05)
    assert near(0.96, 1.0, 0.05) and not near(1.0, 0.0, 0.5)  # a target of 0 is never near


def test_claim_updated_replaces_fields_and_time():
    c = Claim.from_fields("x", params=1e9, tokens=1e10, hardware="A100", count=8, hours=10)
    d = c.updated(days=1, params=2e9)
    assert (d.params, d.seconds, d.count, d.tokens) == (2e9, 86400, 8, 1e10)
    e = c.updated(chip_hours=80)
    assert e.seconds is None and e.chip_hours == 80  # new chip-hours replace the time
    with pytest.raises(ValueError, match="A1000"):
        c.updated(hardware="A1000")
    with pytest.raises(ValueError, match="unknown field"):
        c.updated(parameters=1e9)
