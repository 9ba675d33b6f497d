"""Estimation: the two methods, the defaults lookup, calibration and its evaluation, the commands."""

import csv
import json

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.estimate import calibrate as C
from harness.estimate.methods import (
    Utilisation,
    fixed_rule,
    implied_utilisation,
    method1_examples,
    method1_tokens,
    method2_hardware,
)


def test_method1_golden():
    assert method1_tokens(175e9, 300e9).flop == pytest.approx(3.15e23)  # 6 * 175e9 * 300e9
    assert method1_examples(25.6e6, 1.28e6, 90).flop == pytest.approx(2 * 25.6e6 * 3 * 1.28e6 * 90)


def test_method2_golden_with_range():
    u = Utilisation(0.4, 0.3, 0.5, "test")
    e = method2_hardware(1000, 10 * 86400, 312e12, u)
    assert e.flop == pytest.approx(1000 * 864000 * 312e12 * 0.4)  # 1.078e23
    assert (e.low, e.high) == pytest.approx((e.flop * 0.75, e.flop * 1.25))
    assert any("0.40" in a for a in e.assumptions)


def test_implied_utilisation_golden():
    assert implied_utilisation(1e20, 8, 100 * 3600, 312e12) == pytest.approx(0.11129, rel=1e-4)


def test_bad_inputs():
    with pytest.raises(ValueError, match="positive"):
        method1_tokens(-1, 10)
    with pytest.raises(ValueError):
        Utilisation(0.5, 0.6, 0.7, "low above central")


def test_fixed_rule():
    assert fixed_rule("Language").central == 0.3
    assert fixed_rule("vision").central == 0.4


FIXTURE = [
    # Model, Domain, date, params, compute, size, epochs, hours, hardware, qty, MFU, format, method
    ["Counted LM", "Language", "2022-01-01", "1e10", "1.2e22", "2e11", "1", "240", "NVIDIA A100", "256", "", "BF16", "Operation counting"],
    ["Circular LM", "Language", "2022-01-01", "1e10", "2.07e22", "", "", "240", "NVIDIA A100", "256", "", "", "Hardware"],
    ["Counted ViT", "Vision", "2021-06-01", "3e8", "4e20", "3e8", "7", "100", "Google TPU v3", "64", "", "", "Operation counting"],
]
HEADER = ["Model", "Domain", "Publication date", "Parameters", "Training compute (FLOP)",
          "Training dataset size (datapoints)", "Epochs", "Training time (hours)", "Training hardware",
          "Hardware quantity", "Hardware utilization (MFU)", "Numerical format", "Training compute estimation method"]


@pytest.fixture
def dataset(tmp_path):
    path = tmp_path / "systems.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(FIXTURE)
        for i in range(6):  # more counted systems so calibration has something to fit
            w.writerow([f"LM {i}", "Language", "2023-01-01", "7e9", f"{(2 + i) * 1e21}", "", "", "100",
                        "NVIDIA A100", "64", "", "BF16", "Operation counting"])
    return path


def test_circular_rows_are_not_learned_from(dataset):
    from harness.estimate.dataset import load_systems

    obs, dropped = C.observations_from_systems(load_systems(dataset))
    assert "Circular LM" in [m for m, _ in dropped]
    assert "Counted LM" in [o.system for o in obs]


def invoke(*args):
    return CliRunner().invoke(app, list(args))


def test_calibrate_and_estimate_commands(dataset, tmp_path):
    out = tmp_path / "defaults.csv"
    r = invoke("calibrate", "--dataset", str(dataset), "--out", str(out), "--boots", "20")
    assert r.exit_code == 0, r.output
    assert "fixed 0.3/0.4 rule" in r.output
    rows = list(csv.DictReader(out.open()))
    assert rows[0]["group"] in ("all", "rule/domain=language")
    assert {"utilisation", "low", "high", "n", "source"} <= set(rows[0])
    r = invoke("estimate", "--dataset", str(dataset), "--defaults", str(out), "--format", "json")
    assert r.exit_code == 0, r.output
    est = {e["Model"]: e for e in json.loads(r.output)}
    counted = est["Counted LM"]
    assert counted["compute_method1"] == pytest.approx(6 * 1e10 * 2e11)  # 6 N D
    assert counted["compute_method2_low"] <= counted["compute_method2"] <= counted["compute_method2_high"]
    # 1.2e22 / (256 chips x 240 h x 3600 x 312e12 bf16) = 0.1738
    assert counted["implied_utilisation"] == pytest.approx(1.2e22 / (256 * 240 * 3600 * 312e12))
    assert "hardware_method_circular" in est["Circular LM"]["flags"]


def test_check_command_json_keys():
    r = invoke("check", "--params", "175e9", "--tokens", "300e9", "--claimed", "3.14e23", "--format", "json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert {"estimates", "implied_utilisation", "verdict", "reasons"} <= set(out)
    assert out["estimates"][0]["flop"] == pytest.approx(3.15e23)


@pytest.mark.parametrize(
    "args, needle",
    [
        (("estimate", "--dataset", "/nonexistent.csv"), "error:"),
        (("check", "--params", "1e9", "--hours", "2", "--days", "1"), "one training time"),
        (("check", "--hardware", "A1000", "--count", "8", "--hours", "10"), "A100"),
        (("check",), "give exactly one of"),
    ],
)
def test_bad_input_is_one_line(args, needle):
    r = invoke(*args)
    assert r.exit_code == 2, r.output
    assert needle in r.output and len(r.output.strip().splitlines()) == 1
