"""The defaults table as package data, the one lookup, and where `harness calibrate` writes."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.estimate import defaults as U
from harness.estimate.defaults import DefaultRow, SystemKeys, group_keys, utilisation_default

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["Model", "Domain", "Publication date", "Parameters", "Training compute (FLOP)",
          "Training dataset size (datapoints)", "Epochs", "Training time (hours)", "Training hardware",
          "Hardware quantity", "Hardware utilization (MFU)", "Numerical format", "Training compute estimation method"]
CHECK = ["check", "--params", "70e9", "--tokens", "1.4e12", "--hardware", "NVIDIA A100", "--count", "2048",
         "--days", "21", "--claimed", "5.5e23", "--format", "json"]


def invoke(*args):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def dataset(tmp_path):
    path = tmp_path / "systems.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(8):
            w.writerow([f"LM {i}", "Language", "2022-01-01", "7e9", f"{(2 + i) * 1e21}", "", "", "100",
                        "NVIDIA A100", "64", "", "BF16", "Operation counting"])
    return path


def test_group_keys_bucket_in_one_place():
    keys = group_keys(SystemKeys("ampere", "bf16", "Multimodal,Language", chips=2048, parameters=7e10, year=2023))
    assert keys == {"generation": "ampere", "family": "nvidia-gpu", "precision": "bf16", "domain": "multimodal",
                    "scale": "512-4095", "size": ">30B", "era": "2023+"}
    assert group_keys(SystemKeys("tpu-v4", chips=4096))["family"] == "google-tpu"
    assert group_keys(SystemKeys("tpu-v4", chips=4096))["scale"] == "4096+"
    assert "generation" not in group_keys(SystemKeys("mixed"))


def test_lookup_adds_effects_in_log_space_and_takes_the_widest_interval():
    table = [DefaultRow("all", 0.3, 0.15, 0.5, 50, "t"), DefaultRow("generation=ampere", 0.36, 0.2, 0.5, 20, "t"),
             DefaultRow("size=<1B", 0.15, 0.05, 0.3, 5, "t"), DefaultRow("offset/evidence=mfu", 0.9, 0.8, 1, 9, "t")]
    u = utilisation_default(SystemKeys("ampere", parameters=1e8), table)
    assert u.central == pytest.approx(0.3 * (0.36 / 0.3) * (0.15 / 0.3))  # 0.18
    # widest relative interval of the rows used: size's [0.05/0.15, 0.3/0.15] = [1/3, 2]
    assert (u.low, u.high) == pytest.approx((0.18 / 3, 0.36))
    assert utilisation_default(SystemKeys("volta"), table).central == 0.3  # no match: the overall default


def test_rule_rows_and_no_table():
    rule = [DefaultRow("rule/domain=language", 0.3, 0.12, 0.55, 80, "t"),
            DefaultRow("rule/domain=other", 0.4, 0.1, 0.7, 20, "t")]
    u = utilisation_default(SystemKeys("ampere", domain="Language"), rule)
    assert (u.central, u.low, u.high) == (0.3, 0.12, 0.55) and "did not beat it" in u.source
    assert utilisation_default(SystemKeys(domain="vision"), rule).central == 0.4
    assert "fixed rule: 0.4" in utilisation_default(SystemKeys(domain="vision"), []).source


def test_shipped_table_is_package_data():
    rows = U.shipped_defaults()
    assert rows and any(r.group == "all" or r.group.startswith("rule/") for r in rows)
    assert U.shipped_table_path().parent == ROOT / "harness" / "estimate"


def test_missing_table_warns_and_falls_back(monkeypatch):
    monkeypatch.setattr(U, "TABLE_NAME", "no_such_table.csv")
    with pytest.warns(UserWarning, match="no utilisation defaults table"):
        u = utilisation_default(SystemKeys("ampere", domain="language"))
    assert u.central == 0.3 and "fixed rule" in u.source


def test_non_editable_install_finds_the_table(tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--quiet",
                    "--target", str(target), str(ROOT)], check=True, capture_output=True, timeout=300)
    assert (target / "harness" / "estimate" / U.TABLE_NAME).is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run([sys.executable, "-c", "import harness; print(harness.__file__)"], cwd=elsewhere,
                           env=env, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(target))  # the installed copy, not the checkout
    r = subprocess.run([sys.executable, "-m", "harness.cli", *CHECK], cwd=elsewhere, env=env,
                       capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    hardware = next(e for e in json.loads(r.stdout)["estimates"] if e["method"] == "hardware")
    said = " ".join(hardware["assumptions"])
    assert "calibrated" in said or "interval measured" in said, said  # the shipped table was read
    (target / "harness" / "estimate" / U.TABLE_NAME).unlink()
    r = subprocess.run([sys.executable, "-m", "harness.cli", *CHECK], cwd=elsewhere, env=env,
                       capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0 and "no utilisation defaults table" in r.stderr
    hardware = next(e for e in json.loads(r.stdout)["estimates"] if e["method"] == "hardware")
    said = " ".join(hardware["assumptions"])
    assert "fixed rule" in said and "interval measured" not in said


def test_calibrate_writes_to_the_user_folder_by_default(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv(U.USER_DIR_ENV, str(tmp_path / "user"))
    shipped = U.shipped_table_path().read_bytes()
    r = invoke("calibrate", "--dataset", str(dataset), "--boots", "5")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "user" / U.TABLE_NAME).is_file()
    assert U.shipped_table_path().read_bytes() == shipped


@pytest.mark.parametrize("boots", ["0", "-5"])
def test_calibrate_rejects_bad_boots(dataset, tmp_path, boots):
    out = tmp_path / "d.csv"
    r = invoke("calibrate", "--dataset", str(dataset), "--boots", boots, "--out", str(out))
    assert r.exit_code == 2 and "--boots" in r.output and len(r.output.strip().splitlines()) == 1
    assert not out.exists()


def _unwritable(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    return ro / "d.csv"


@pytest.mark.parametrize("where, needle", [
    (lambda t: (t / "afile").write_text("x") and t / "afile" / "d.csv", "is a file"),
    (lambda t: t, "is a directory"),
    (_unwritable, "cannot write"),
])
def test_calibrate_bad_out_is_one_line_and_leaves_nothing(dataset, tmp_path, where, needle):
    out = where(tmp_path)
    if needle == "cannot write" and os.geteuid() == 0:
        pytest.skip("root can write into a read-only folder")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    r = invoke("calibrate", "--dataset", str(dataset), "--boots", "5", "--out", str(out))
    assert r.exit_code == 2, r.output
    assert needle in r.output and len(r.output.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no table, no .tmp left behind


def test_calibrate_counted_table_is_read_or_refused_in_one_line(dataset, tmp_path):
    bad = tmp_path / "zoo.csv"
    bad.write_text("not,the,columns\n1,2,3\n")
    out = tmp_path / "d.csv"
    r = invoke("calibrate", "--dataset", str(dataset), "--counted", str(bad), "--out", str(out))
    assert r.exit_code == 2 and "--counted" in r.output and len(r.output.strip().splitlines()) == 1
    assert not out.exists()
    good = tmp_path / "zoo_ok.csv"
    good.write_text("dataset_model,implied_utilisation,hardware,precision,domain,chips,parameters,year\n"
                    "LM 0,0.3,NVIDIA A100,bf16,Language,64,7e9,2022\n")
    r = invoke("calibrate", "--dataset", str(dataset), "--counted", str(good), "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "counted 1" in r.output


def test_a_refused_write_leaves_no_temp_file(dataset, tmp_path, monkeypatch):
    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(U.os, "replace", refuse)  # what a read-only folder does, even for root
    out = tmp_path / "d.csv"
    r = invoke("calibrate", "--dataset", str(dataset), "--boots", "5", "--out", str(out))
    assert r.exit_code == 2 and "cannot write" in r.output and "Permission denied" in r.output
    assert len(r.output.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["systems.csv"]  # no table, no .tmp
