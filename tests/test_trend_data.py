"""Selecting points for trends (plausibility, MoE, filters), the eras table, and a whole analysis."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from harness.estimate import trend_analysis as A
from harness.estimate import trend_data as D
from harness.estimate.dataset import SystemRow, load_systems

COLUMNS = ["Model", "Domain", "Publication date", "Parameters", "Training compute (FLOP)", "Training hardware",
           "Hardware quantity", "Training time (hours)", "Parameters notes", "Training compute notes"]


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in COLUMNS})
    return path


def row(model: str, date: str = "2020-01-01", compute: str = "1e20", params: str = "1e9",
        domain: str = "Language", pnotes: str = "", cnotes: str = "") -> dict[str, str]:
    return {"Model": model, "Domain": domain, "Publication date": date, "Parameters": params,
            "Training compute (FLOP)": compute, "Parameters notes": pnotes, "Training compute notes": cnotes}


def test_implausible_values_are_listed_and_kept_out(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", [
        row("Future", date="3024-05-01"),
        row("Huge compute", compute="1e308"),
        row("Huge model", params="1e300"),
        row("Theseus", date="1950-07-02", compute="40", params="40"),  # the dataset's smallest: plausible
        row("Fine", date="2021-06-01"),
        row("No date", date=""),
    ])
    rows = load_systems(path).rows
    sel = D.select(rows, "compute")
    assert [p.model for p in sel.points] == ["Theseus", "Fine"]
    reasons = {e.model: e.reason for e in sel.implausible}
    assert list(reasons) == ["Future", "Huge compute", "Huge model"]
    assert reasons["Future"].startswith("Publication date: '3024-05-01'")
    assert reasons["Huge compute"].startswith("Training compute (FLOP): '1e308' is above 1e+31 FLOP")
    assert reasons["Huge model"].startswith("Parameters: '1e300' is above 1e+16 parameters")
    assert sel.missing == 1
    # the parameter metric keeps the same rows out: a row with an implausible figure is out of every fit
    assert [p.model for p in D.select(rows, "parameters").points] == ["Theseus", "Fine"]


def test_domain_and_date_filters(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", [
        row("A", date="2015-03-01"), row("B", date="2018-01-01", domain="Vision"),
        row("C", date="2019-12-31", domain="Multimodal,Language"), row("D", date="2020-01-01")])
    rows = load_systems(path).rows
    assert [p.model for p in D.select(rows, domains=["language"]).points] == ["A", "D"]  # first domain only
    sel = D.select(rows, since=2016.0, until=2020.0)  # since inclusive, until exclusive
    assert [p.model for p in sel.points] == ["B", "C"] and sel.outside == 2
    with pytest.raises(ValueError, match="unknown metric 'flops'"):
        D.select(rows, "flops")


def _sys(model: str, pnotes: str | None = None, cnotes: str | None = None) -> SystemRow:
    return SystemRow(model=model, parameters_notes=pnotes, compute_notes=cnotes)


@pytest.mark.parametrize("system, moe", [
    (_sys("Qwen3-235B-A22B"), True),  # active size in the name
    (_sys("Mixtral 8x22B"), True),  # experts x size in the name
    (_sys("DeepSeek-V2 (MoE-236B)"), True),
    (_sys("Llama 4 Maverick", "Llama 4 Maverick models have 17B active parameters and 400B total"), True),
    (_sys("Jamba 1.5-Large", "94B active/398B total"), True),
    (_sys("NLLB", cnotes="block with a Sparsely Gated Mixture of Experts layer containing 128 experts"), True),
    (_sys("Switch"), True),  # nothing in the text: the table says so
    (_sys("GPT-3 175B (davinci)", "175 billion parameters"), False),
    # a dense model's compute note with the 6ND boilerplate: no count before "active"
    (_sys("SmolLM-1.7B", cnotes="= # of active parameters / forward pass * # of tokens * 6 FLOPs / token"), False),
    (_sys("π0 (pi-zero)", "We add 300M parameters for the action expert"), False),  # the table overrides
    (_sys("GNMT", "Table 5 in 'The Sparsely-Gated Mixture-of-Experts Layer'"), False),  # cites an MoE paper
])
def test_moe_detection(system: SystemRow, moe: bool) -> None:
    reason = D.moe_reason(system)
    assert (reason is not None) == moe, reason


def test_moe_reason_quotes_its_evidence() -> None:
    assert D.moe_reason(_sys("Qwen3-30B-A3B")) == "name 'Qwen3-30B-A3B'"
    why = D.moe_reason(_sys("DBRX", "132B mixture of experts. 36B parameters active per inference"))
    assert why is not None and why.startswith("parameters notes: ...132B mixture of experts")


def test_exclude_moe_lists_what_it_drops(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", [row("Dense"), row("Mixtral 8x7B"),
                                          row("Grok-1", pnotes="314B parameter Mixture-of-Experts model")])
    rows = load_systems(path).rows
    assert len(D.select(rows).points) == 3 and not D.select(rows).moe
    sel = D.select(rows, exclude_moe=True)
    assert [p.model for p in sel.points] == ["Dense"]
    assert [e.model for e in sel.moe] == ["Mixtral 8x7B", "Grok-1"]


def test_eras_table_holds_the_papers_windows() -> None:
    by = {e.name: e for e in D.eras()}
    pre, dl, ls = by["pre-deep-learning"], by["deep-learning"], by["large-scale"]
    assert (pre.start, pre.end, pre.selection) == (1952.0, 2010.0, "all")
    assert dl.selection == "regular" and ls.selection == "large"
    assert ls.start == pytest.approx(2015 + 243 / 365)  # 2015-09-01: 243 days into the year
    # Sevilla et al. 2022, Table 2: doubling months and [2.5th; median; 97.5th percentile]
    assert (pre.paper_doubling_months, pre.paper_doubling_low, pre.paper_doubling_high) == (21.3, 17.0, 29.3)
    assert (dl.paper_doubling_months, dl.paper_doubling_low, dl.paper_doubling_high) == (5.7, 4.3, 9.0)
    assert (ls.paper_doubling_months, ls.paper_doubling_low, ls.paper_doubling_high) == (9.9, 7.7, 17.1)
    assert by["large-scale-to-date"].end is None


# ---------------------------------------------------------------------------------------- analysis


def _points(n: int = 200, seed: int = 0) -> D.Selection:
    """Regular systems on 0.5 OOM/yr from 2010, and every 10th one 2.5 OOM above its neighbours."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(2010, 2022, n))
    logs = 0.5 * (t - 2010) + 15 + rng.normal(0, 0.3, n)
    logs[::10] += 2.5
    pts = tuple(D.Point(f"m{i}", float(t[i]), float(10 ** logs[i]), "language" if i % 2 else "vision",
                        parameters=float(10 ** (logs[i] - 10)), compute=float(10 ** logs[i])) for i in range(n))
    return D.Selection("compute", pts)


def test_analysis_splits_large_scale_and_fits_the_eras() -> None:
    sel = _points()
    a = A.analyse(sel, boots=200, seed=0)
    large = {p.model for p in a.large_scale}
    planted = {f"m{i}" for i in range(0, 200, 10)}
    assert planted <= large  # every planted giant (z ~ 2.5 / 0.8) is found ...
    assert len(large - planted) <= 10  # ... with few regular systems above 0.72 sd of their neighbours
    dl = next(e for e in a.eras if e.era.name == "deep-learning")
    assert dl.n == 200 - len(large)  # the regular-scale systems of 2010-2022
    assert dl.trend is not None and dl.trend.slope_low < 0.5 < dl.trend.slope_high
    pre = next(e for e in a.eras if e.era.name == "pre-deep-learning")
    assert pre.n == 0 and pre.trend is None and "got 0" in pre.note
    # the sensitivity table: fewer large-scale systems as the threshold rises
    n_large = [r.n_large for r in a.sensitivity]
    assert [r.threshold for r in a.sensitivity] == [0.5, 0.6, 0.7, 0.72, 0.8, 0.9, 1.0]
    assert n_large == sorted(n_large, reverse=True)
    assert a.sensitivity[3].n_large == len(large)


def test_analysis_json_names_doubling_months() -> None:
    a = A.analyse(_points(), record_setters=True, boots=100, seed=0)
    d = a.to_dict()
    fit = d["eras"][1]["fit"]
    assert set(fit["doubling_months"]) == {"central", "low", "high"}
    central, low, high = (fit["doubling_months"][k] for k in ("central", "low", "high"))
    assert low < central < high
    assert central == pytest.approx(12 * math.log10(2) / fit["slope_oom_per_year"]["central"])
    assert d["eras"][1]["paper"]["doubling_months"]["central"] == 5.7
    lang = next(x for x in d["domains"] if x["domain"] == "language")
    assert lang["record_setters"][0]["model"] == "m1"  # the first language system is its first record
    assert lang["step_line"][0] == [round(lang["record_setters"][0]["date"], 3), lang["record_setters"][0]["value"]]
    assert set(lang["record_fit"]["doubling_months"]) == {"central", "low", "high"}


def test_compute_per_parameter_uses_the_counted_forward() -> None:
    pts = (D.Point("AlexNet", 2012.7, 4.7e17, "vision", parameters=6e7, compute=4.7e17),
           D.Point("AlphaGo Zero", 2017.8, 3.4e23, "games", parameters=4.6e7, compute=3.4e23),
           D.Point("No count", 2018.0, 1e20, "games", parameters=1e8, compute=1e20))
    zoo = [A.ZooForward("alexnet", "AlexNet", 1.4e9, 6.1e7, "a 224x224 image"),
           A.ZooForward("alphago-zero", "AlphaGo Zero", 3.3e10, 4.64e7, "a 19x19 board")]
    a = A.analyse(D.Selection("compute", pts), zoo=zoo, boots=10)
    alex, go = a.zoo_per_parameter
    assert alex.compute_per_parameter == pytest.approx(4.7e17 / 6e7)  # 7.8e9 FLOP per parameter
    assert alex.forward_flop_per_parameter == pytest.approx(1.4e9 / 6.1e7)  # 23 per image
    assert alex.forwards == pytest.approx((4.7e17 / 6e7) / (1.4e9 / 6.1e7))
    assert go.forward_flop_per_parameter == pytest.approx(3.3e10 / 4.64e7)  # 711: a weight reused per square
    games = next(r for r in a.per_parameter if r.domain == "games")
    assert games.n == 2 and games.median == pytest.approx(10 ** ((math.log10(3.4e23 / 4.6e7) + 12) / 2))
