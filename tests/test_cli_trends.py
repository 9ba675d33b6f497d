"""`harness trends`: the JSON fields, table and CSV output, the results page, and one-line errors."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.cli import app
from tests.test_trend_data import row, write_csv

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, ["trends", *args])


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 language and 30 vision systems on 0.5 and 0.3 OOM per year, 2012-2021, plus one MoE and one
    implausible row; noise 0.3 OOM. Days are spread over each year (decimal dates)."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(90):
        lang = i < 60
        t = 2012 + 9.5 * rng.random()
        year, day = int(t), 1 + int((t % 1) * 364)
        log_c = (0.5 if lang else 0.3) * (t - 2012) + 18 + rng.normal(0, 0.3)
        month, dom = 1 + (day - 1) // 31 % 12, 1 + (day - 1) % 28
        rows.append(row(f"{'L' if lang else 'V'}{i}", date=f"{year}-{month:02d}-{dom:02d}", compute=f"{10 ** log_c:.4g}",
                        params=f"{10 ** (log_c - 11):.4g}", domain="Language" if lang else "Vision"))
    rows.append(row("Mixtral 8x7B", date="2021-12-11", compute="7.7e23", params="4.67e10"))
    rows.append(row("Typo", date="3024-05-01", compute="1e22"))
    return write_csv(tmp_path_factory.mktemp("trends") / "systems.csv", rows)


def test_json_fields(dataset: Path) -> None:
    r = invoke("--dataset", str(dataset), "--no-zoo", "--format", "json", "--boots", "200", "--record-setters")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["metric"] == "compute" and d["systems"] == 91 and d["large_scale_threshold"] == 0.72
    assert [e["model"] for e in d["implausible"]] == ["Typo"]
    assert d["excluded_moe"] == []  # kept unless --exclude-moe
    dm = d["overall"]["doubling_months"]
    assert set(dm) == {"central", "low", "high"} and dm["low"] < dm["central"] < dm["high"]
    lang = next(x for x in d["domains"] if x["domain"] == "language")
    assert lang["n"] == 61
    slope = lang["fit"]["slope_oom_per_year"]
    assert slope["low"] < 0.5 < slope["high"]  # the planted slope, inside the 90% interval
    assert lang["fit"]["doubling_months"]["central"] == pytest.approx(12 * math.log10(2) / slope["central"])
    assert set(lang["record_fit"]["doubling_months"]) == {"central", "low", "high"}
    assert lang["step_line"][0][1] == lang["record_setters"][0]["value"]
    assert [s["threshold"] for s in d["sensitivity"]] == [0.5, 0.6, 0.7, 0.72, 0.8, 0.9, 1.0]
    era = next(e for e in d["eras"] if e["era"] == "large-scale")
    assert era["paper"]["doubling_months"] == {"central": 9.9, "low": 7.7, "median": 10.1, "high": 17.1}


def test_filters_and_dense_only(dataset: Path) -> None:
    r = invoke("--dataset", str(dataset), "--no-zoo", "--format", "json", "--boots", "50", "--exclude-moe",
               "--domain", "language", "--since", "2015", "--until", "2021")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert [e["model"] for e in d["excluded_moe"]] == ["Mixtral 8x7B"]
    assert {x["domain"] for x in d["domains"]} == {"language"}
    fit = d["overall"]
    assert fit["start"] >= 2015 and fit["end"] < 2022  # --until is inclusive: all of 2021


def test_parameters_metric_and_csv(dataset: Path) -> None:
    r = invoke("--dataset", str(dataset), "--no-zoo", "--metric", "parameters", "--format", "csv", "--boots", "50")
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    overall = rows[0]
    assert overall["part"] == "overall" and overall["name"] == "parameters"
    assert {r["part"] for r in rows} >= {"overall", "era", "domain", "large-scale"}
    dl = next(r for r in rows if r["name"] == "deep-learning")
    assert dl["paper_doubling_months"] == ""  # the paper's figures are of compute, not of parameters
    r = invoke("--dataset", str(dataset), "--no-zoo", "--format", "csv", "--boots", "50")
    dl = next(r for r in csv.DictReader(io.StringIO(r.stdout)) if r["name"] == "deep-learning")
    assert float(dl["paper_doubling_months"]) == 5.7


def test_table_and_results_page(dataset: Path, tmp_path: Path) -> None:
    r = invoke("--dataset", str(dataset), "--no-zoo", "--boots", "50", "--out", str(tmp_path / "res"))
    assert r.exit_code == 0, r.output
    assert "Eras (Sevilla et al. 2022 windows)" in r.stdout and "implausible, not fitted: Typo" in r.stdout
    page = (tmp_path / "res" / "trends.md").read_text(encoding="utf-8")
    assert "| Deep Learning Era (2010-2022) |" in page and "5.7 [4.3, 9.0]" in page
    assert "## Dense-only" in page and "Mixtral 8x7B" in page
    figs = sorted(p.name for p in (tmp_path / "res" / "trends").iterdir())
    assert "trends_eras.png" in figs and not any(f.endswith(".svg") for f in figs)
    for name in figs:
        assert f"(trends/{name})" in page


@pytest.mark.parametrize("args, needle", [
    (("--dataset", "/nonexistent/x.csv"), "no such file"),
    (("--metric", "flops"), "unknown metric 'flops'; choose one of: compute, parameters"),
    (("--format", "xml"), "unknown format 'xml'"),
    (("--since", "2020", "--until", "2015"), "--since 2020 is after --until 2015"),
    (("--since", "20x5"), "--since must be a whole year"),
    (("--large-scale-threshold", "abc"), "--large-scale-threshold must be a non-negative number"),
    (("--large-scale-threshold", "nan"), "--large-scale-threshold must be a non-negative number"),
    (("--boots", "0"), "--boots must be a whole number of at least 1"),
    (("--domain", "astrology"), "0 systems with a date and a compute in domain(s) astrology"),
])
def test_bad_input_is_one_line_and_exit_2(dataset: Path, args: tuple[str, ...], needle: str) -> None:
    full = ("--dataset", str(dataset), "--no-zoo", *args) if args[0] != "--dataset" else (*args, "--no-zoo")
    r = invoke(*full)
    assert r.exit_code == 2
    assert needle in r.output
    assert len(r.output.strip().splitlines()) == 1, r.output
    assert "Traceback" not in r.output


def test_not_a_csv_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "x.csv"
    bad.write_bytes(b"\x00\x01binary")
    r = invoke("--dataset", str(bad), "--no-zoo")
    assert r.exit_code == 2 and "not a CSV" in r.output and len(r.output.strip().splitlines()) == 1
