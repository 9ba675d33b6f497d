"""The zoo reconciled against the dataset: ratios, reasons, implied utilisation, the command's guards."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.estimate.counted import CountedEstimate, Part
from harness.estimate.dataset import SystemRow
from harness.estimate.runs import TrainingRun
from harness.estimate.zoo_vs_dataset import reconcile, summary_markdown, utilisation_evidence
from harness.hardware.table import resolve


def _counted(name: str, flop: float) -> CountedEstimate:
    return CountedEstimate(name, flop, (Part("gradient steps", flop, "by hand"),), flop / 1e6, "example",
                           {"forward": 1.0, "backward": 2.0, "optimizer": 0.0}, flop / 2, "6 x N x D")


def test_ratio_reason_and_implied_utilisation():
    a100 = resolve("NVIDIA A100")
    rows = [
        SystemRow(model="A", compute=1e20, estimation_method="Operation counting",
                  estimation_methods=frozenset({"operation counting"})),
        SystemRow(model="B", compute=1e21, estimation_method="Hardware", estimation_methods=frozenset({"hardware"}),
                  quantity=10, hours=100, accelerators=(a100,), precision="bf16"),
        SystemRow(model="C", compute=None),
    ]
    counted = {"a": _counted("a", 1.5e20), "b": _counted("b", 1e20), "c": _counted("c", 1.0)}
    runs = {n: TrainingRun(n) for n in counted}
    runs["a"] = TrainingRun("a", dataset_note="never shown: the two agree")
    out = reconcile(counted, runs, {"a": "A", "b": "B", "c": "C"}, rows)
    assert [r.zoo_name for r in out] == ["a", "b"]  # C has no dataset figure
    a, b = out
    assert (a.ratio, a.agrees, a.reason) == (pytest.approx(1.5), True, "")
    assert b.ratio == pytest.approx(0.1) and not b.agrees
    peak = 312e12  # A100 dense BF16
    assert b.implied_utilisation == pytest.approx(1e20 / (10 * 100 * 3600 * peak))  # 0.0890
    assert "hardware method" in b.reason and f"{b.implied_utilisation:.3f}" in b.reason
    (ev,) = utilisation_evidence(out)
    assert ev["system"] == "B" and ev["utilisation"] == b.implied_utilisation and ev["chips"] == 10
    md = summary_markdown(out, "made by hand")
    assert "1 within [0.5, 2]" in md and "**b** (0.1x)" in md


def test_no_reason_is_said_so():
    rows = [SystemRow(model="A", compute=1e20, estimation_methods=frozenset({"operation counting"}))]
    (r,) = reconcile({"a": _counted("a", 1e22)}, {"a": TrainingRun("a")}, {"a": "A"}, rows)
    assert r.ratio == pytest.approx(100) and r.reason == "no reason found"


@pytest.mark.parametrize("args, message", [
    (["--out", "x.txt"], "must be a .csv path"),
    (["--only", "nope"], "unknown zoo system"),
])
def test_command_rejects_bad_input(tmp_path, args, message):
    data = tmp_path / "d.csv"
    data.write_text("Model,Training compute (FLOP),Training hardware,Hardware quantity,Training time (hours)\n"
                    "AlexNet,4.7e17,,,\n")
    r = CliRunner().invoke(app, ["reconcile-dataset", "--dataset", str(data), *args])
    assert r.exit_code == 2 and message in r.output


def test_command_writes_csv_and_summary(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("Model,Training compute (FLOP),Training hardware,Hardware quantity,Training time (hours),"
                    "Training compute estimation method\nLeNet-5,2.81e12,,,,Operation counting\n")
    out = tmp_path / "z.csv"
    r = CliRunner().invoke(app, ["reconcile-dataset", "--dataset", str(data), "--out", str(out)])
    assert r.exit_code == 0, r.output
    lines = out.read_text().splitlines()
    assert len(lines) == 2 and lines[1].startswith("lenet-5,LeNet-5,")
    assert "1 zoo systems with a dataset figure" in out.with_suffix(".md").read_text()
