"""Bad input to `estimate`, `check` and `report`, and to the dataset and claims parsers.

Every CLI case must end with exit code 2 and one line on stderr naming what is wrong, never a
traceback. The parsers are fuzzed: any bytes give a result or one clean error.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from harness.cli import app
from harness.estimate.claims import Claim, ClaimsError, check, parse_claims
from harness.estimate.dataset import COLUMNS, REQUIRED_COLUMNS, DatasetError, flags, parse_systems
from harness.estimate.units import NumberError, implausible, limits, parse_number

HEADER = list(REQUIRED_COLUMNS) + ["Parameters", "Publication date", "Training dataset size (datapoints)"]
GOOD_ROW = {"Model": "m", "Training compute (FLOP)": "1e20", "Training hardware": "NVIDIA A100",
            "Hardware quantity": "8", "Training time (hours)": "100"}


def csv_text(rows: list[dict[str, str]], header: list[str] = HEADER) -> str:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=header)
    w.writeheader()
    w.writerows(rows)
    return out.getvalue()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """Named bad (and good) inputs, written under tmp_path."""
    made: dict[str, str] = {}

    def put(name: str, content: bytes | str) -> None:
        p = tmp_path / name
        p.write_bytes(content if isinstance(content, bytes) else content.encode())
        made[name] = str(p)

    put("good.csv", csv_text([GOOD_ROW]))
    put("garbage.bin", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    put("latin1.csv", "Model,Training compute (FLOP)\ncaf\xe9,1e20\n".encode("latin-1"))
    put("empty.csv", b"")
    put("partial.csv", "Model,Domain\nx,Language\n")
    put("thing.json", '{"not": "a csv"}\n')
    put("defaults_cols.csv", "group,utilisation\nall,0.3\n")
    put("defaults_num.csv", "group,utilisation,low,high,n,source\nall,high,0.1,0.5,3,x\n")
    put("claims_noname.csv", "params,tokens\n1e9,1e10\n")
    put("claims_unit.csv", "name,params\nA,175B\n")
    put("claims_unknown.csv", "name,parameters\nA,1e9\n")
    put("claims_nul.csv", b"name,params\nA,1\x00e9\n")
    put("claims_bad.yaml", "claims: [name: {\n")
    put("claims_scalar.yaml", "42\n")
    put("claims_date.yaml", "- name: A\n  params: 2021-13-45\n")
    put("claims_huge.yaml", "- name: A\n  params: " + "9" * 400 + "\n")
    (tmp_path / "folder").mkdir()
    made["folder"] = str(tmp_path / "folder")
    made["missing"] = str(tmp_path / "absent.csv")
    made["under_file"] = str(tmp_path / "good.csv" / "report")
    made["db_missing"] = str(tmp_path / "nowhere" / "x.sqlite")
    return made


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


CASES = [
    # ---- estimate: the dataset
    (("estimate", "--dataset", "{missing}"), "no such file; pass the path of an Epoch systems CSV"),
    (("estimate", "--dataset", ""), "--dataset is empty: give the path of a CSV"),
    (("report", "--dataset", " "), "--dataset is empty: give the path of a CSV"),
    (("estimate", "--dataset", "{folder}"), "is a directory: pass the path of an Epoch systems CSV file"),
    (("estimate", "--dataset", "{garbage.bin}"), "not UTF-8 text"),
    (("estimate", "--dataset", "{latin1.csv}"), "not UTF-8 text"),
    (("estimate", "--dataset", "{empty.csv}"), "is empty: expected a CSV with columns Model"),
    (("estimate", "--dataset", "{partial.csv}"), "missing column(s) 'Training compute (FLOP)'"),
    (("estimate", "--dataset", "{thing.json}"), "is not an Epoch systems CSV: missing column(s)"),
    # ---- estimate: defaults and flags
    (("estimate", "--dataset", "{good.csv}", "--defaults", "{garbage.bin}"), "not UTF-8 text); pass a CSV"),
    (("estimate", "--dataset", "{good.csv}", "--defaults", "{folder}"), "is a directory; pass a CSV"),
    (("estimate", "--dataset", "{good.csv}", "--defaults", "{missing}"), "does not exist; run `harness calibrate"),
    (("estimate", "--dataset", "{good.csv}", "--defaults", "{defaults_cols.csv}"), "missing columns low"),
    (("estimate", "--dataset", "{good.csv}", "--defaults", "{defaults_num.csv}"), "unreadable number"),
    (("estimate", "--dataset", "{good.csv}", "--format", "xml"), "unknown format 'xml'; choose one of"),
    # ---- check: the claim's fields
    (("check",), "give exactly one of: a zoo entry name, --file, --catalogue"),
    (("check", "--params", "1e300", "--tokens", "1e12"), "params 1e+300 is above 1e+16 parameters"),
    (("check", "--params", "1e-300", "--tokens", "1e12"), "params 1e-300 is below 1 parameters"),
    (("check", "--params", "-5", "--tokens", "1e12"), "params must be a positive number, not -5.0"),
    (("check", "--params", "nan", "--tokens", "1e12"), "params must be a positive number, not nan"),
    (("check", "--tokens", "inf", "--params", "1e9"), "tokens must be a positive number, not inf"),
    (("check", "--params", "1e9", "--tokens", "1e10", "--hardware", "A100", "--hours", "10", "--count", "2.5"),
     "count 2.5 is not a whole number of chips"),
    (("check", "--params", "1e9", "--tokens", "1e10", "--hardware", "A100", "--hours", "10", "--count", "1e30"),
     "count 1e+30 is above 1e+07 chips"),
    (("check", "--params", "1e9", "--hours", "2", "--days", "1"), "give one training time (hours, days or seconds)"),
    (("check", "--params", "1e9", "--hardware", "A100", "--count", "8", "--hours", "1e12"),
     "hours 1e+12 (3.6e+15 seconds) is above"),
    (("check", "--hours", "2", "--chip-hours", "16"), "give a training time or chip-hours, not both"),
    (("check", "--hardware", "A1000", "--count", "8", "--hours", "10"), "A100"),
    (("check", "--params", "1e9", "--precision", "fp7"), "unknown precision 'fp7'"),
    (("check", "--params", "1e9", "--active-params", "2e9"), "active_params 2e+09 exceeds params 1e+09"),
    (("check", "--utilisation", "0", "--params", "1e9"), "utilisation must be a positive number, not 0.0"),
    (("check", "--params", "1e9", "--format", "yaml"), "unknown format 'yaml'"),
    (("check", "--params", "1e9", "--defaults", "{garbage.bin}"), "not UTF-8 text); pass a CSV"),
    # ---- check: names and sources
    (("check", "gpt-9000"), "unknown model 'gpt-9000'; choose one of"),
    (("check", "--catalogue", "--params", "1e9"), "--params cannot apply to --file or --catalogue claims"),
    (("check", "--catalogue", "--file", "{good.csv}"), "give exactly one of"),
    (("check", "gpt2-small", "--catalogue"), "give exactly one of"),
    (("check", "palm-540b", "--count", "12.5"), "palm-540b: count 12.5 is not a whole number of chips"),
    # ---- check: claims files
    (("check", "--file", "{missing}"), "claims file"),
    (("check", "--file", "{folder}"), "is a directory: give a CSV or YAML file"),
    (("check", "--file", "{garbage.bin}"), "is not UTF-8 text: give a CSV or YAML claims file"),
    (("check", "--file", "{claims_nul.csv}"), "holds binary content (NUL bytes)"),
    (("check", "--file", "{claims_noname.csv}"), "needs a header with at least a 'name' column"),
    (("check", "--file", "{claims_unit.csv}"), "line 2 (A): params '175B' holds a unit ('B'); write a bare number"),
    (("check", "--file", "{claims_unknown.csv}"), "unknown column(s) parameters"),
    (("check", "--file", "{claims_bad.yaml}"), "not valid YAML"),
    (("check", "--file", "{claims_scalar.yaml}"), "expected a list of claims"),
    (("check", "--file", "{claims_date.yaml}"), "not valid YAML"),
    (("check", "--file", "{claims_huge.yaml}"), "params '" + "9" * 20),
    # ---- report: dataset, database, output folder
    (("report", "--dataset", "{missing}"), "no such file"),
    (("report", "--dataset", "{folder}"), "is a directory"),
    (("report", "--dataset", "{good.csv}", "--db", "{db_missing}"), "does not exist; pass the --db of a benchmark run"),
    (("report", "--dataset", "{good.csv}", "--out", "{good.csv}"), "is a file: give a folder for the figures"),
    (("report", "--dataset", "{good.csv}", "--out", "{under_file}"), "cannot create the report folder"),
    (("report", "--dataset", "{good.csv}", "--defaults", "{garbage.bin}"), "not UTF-8 text"),
]


@pytest.mark.parametrize("args, needle", CASES, ids=[" ".join(a)[:60] for a, _ in CASES])
def test_bad_input_is_one_line_exit_2(files: dict[str, str], args: tuple[str, ...], needle: str) -> None:
    r = invoke(*(files[a[1:-1]] if a.startswith("{") and a.endswith("}") else a for a in args))
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert r.stderr.startswith("error: ") and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert needle in r.stderr, r.stderr
    assert r.stdout == ""  # nothing half-written to standard output


def test_enough_cases() -> None:
    assert len(CASES) >= 25
    assert {a[0] for a, _ in CASES} == {"estimate", "check", "report"}


def test_report_leaves_nothing_when_the_dataset_is_bad(files: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "never"
    r = invoke("report", "--dataset", files["garbage.bin"], "--out", str(out))
    assert r.exit_code == 2 and not out.exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_report_into_a_read_only_folder(files: dict[str, str], tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        r = invoke("report", "--dataset", files["good.csv"], "--out", str(ro / "r"))
        assert r.exit_code == 2 and "pass --out a folder you can write to" in r.stderr
    finally:
        ro.chmod(0o755)


# ------------------------------------------------------------------------ a zoo claim with overrides


def test_zoo_claim_override_is_applied_and_said() -> None:
    r = invoke("check", "palm-540b", "--params", "1e9", "--format", "json")
    assert r.exit_code == 0, r.output
    assert "--params 1e+09 in its place" in r.stderr
    import json

    d = json.loads(r.stdout)
    assert d["claim"]["params"] == 1e9 and d["claim"]["count"] == 6144
    m1 = next(e for e in d["estimates"] if e["method"] == "operation counting")
    assert m1["flop"] == pytest.approx(4.68e21)  # 6 x 1e9 x 780e9, not PaLM's 540B
    assert d["verdict"] == "inconsistent"  # claimed 2.53e24 is 540x that


# ------------------------------------------------------------------------ implausible dataset values


def test_implausible_dataset_values_are_flagged_and_left_empty() -> None:
    rows = [
        {**GOOD_ROW, "Model": "future", "Publication date": "3024-01-01"},
        {**GOOD_ROW, "Model": "huge compute", "Training compute (FLOP)": "1e308", "Parameters": "1e9"},
        {**GOOD_ROW, "Model": "huge params", "Parameters": "1e300", "Training dataset size (datapoints)": "1e12"},
    ]
    systems = parse_systems(csv_text(rows).encode(), "x.csv")
    by = {r.model: r for r in systems.rows}
    assert by["future"].year is None and by["future"].date is None
    assert by["huge compute"].compute is None and by["huge compute"].parameters == 1e9
    assert by["huge params"].parameters is None
    for model, column in (("future", "Publication date"), ("huge compute", "Training compute (FLOP)"),
                          ("huge params", "Parameters")):
        [f] = [f for f in flags(by[model]) if f.code == "implausible_value"]
        assert f.message.startswith(column) and "kept out of fits" in f.message
    assert "a publication cannot be dated in the future" in flags(by["future"])[0].message


def test_implausible_values_stay_out_of_the_report_fit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.report import plots
    from harness.report.html import build_report

    fits: list[tuple[bool, list[float], float, float]] = []
    real = plots.log_trend

    def spy(x, y, *args, **kw):  # type: ignore[no-untyped-def]
        slope, intercept, band = real(x, y, *args, **kw)
        fits.append((kw.get("log_x", True), [float(v) for v in x], slope, intercept))
        return slope, intercept, band

    monkeypatch.setattr(plots, "log_trend", spy)
    # six systems on the line C = 120 N^2 (6 N D with D = 20 N, Chinchilla-style), plus two wrecks
    rows = [{**GOOD_ROW, "Model": f"s{i}", "Parameters": f"{n:g}", "Training compute (FLOP)": f"{120 * n * n:g}",
             "Publication date": f"{2015 + i}-06-01"} for i, n in enumerate((1e7, 1e8, 1e9, 1e10, 1e11, 1e12))]
    rows += [{**GOOD_ROW, "Model": "wreck1", "Parameters": "1e9", "Training compute (FLOP)": "1e308"},
             {**GOOD_ROW, "Model": "wreck2", "Parameters": "1e300", "Training compute (FLOP)": "1e308",
              "Publication date": "3024-01-01"}]
    data = tmp_path / "d.csv"
    data.write_text(csv_text(rows))
    build_report(data, None, None, out_dir=tmp_path / "r", boots=5)
    [(_, params, slope, intercept)] = [f for f in fits if f[0] and max(f[1]) > 1e6]
    assert max(params) == 1e12  # the 1e300 is not among the fitted parameters
    assert slope == pytest.approx(2.0) and 10 ** intercept == pytest.approx(120)  # C = 120 N^2 exactly
    years = [x for log_x, xs, _, _ in fits if not log_x for x in xs]
    assert all(x < 2030 for x in years)  # no 3024 on the year axis


# ------------------------------------------------------------------------ units


@pytest.mark.parametrize("cell, value", [("1e21", 1e21), (" 6.4e+3 ", 6400.0), ("1_000", 1000.0),
                                         ("1,000,000", 1e6), (7, 7.0), (None, None), ("  ", None)])
def test_parse_number_reads(cell: object, value: float | None) -> None:
    assert parse_number(cell) == value


@pytest.mark.parametrize("cell, reason", [("1,5", "is not a number"), ("3 days", "holds a unit ('days')"),
                                          ("40%", "holds a unit ('%')"), ("-1", "must be positive"),
                                          ("0", "must be positive"), ("inf", "is not a finite number"),
                                          ("1e", "is not a number"), (True, "is not a number"),
                                          (10**400, "is not a finite number")])
def test_parse_number_refuses(cell: object, reason: str) -> None:
    with pytest.raises(NumberError) as e:
        parse_number(cell)
    assert e.value.reason == reason


def test_plausible_ranges() -> None:
    assert implausible("parameters", 1.6e12) is None  # Switch-C's 1.6T
    assert "above 1e+16" in implausible("parameters", 1e17)
    assert implausible("compute", 5e26) is None
    assert implausible("year", 2024) is None and "future" in implausible("year", 3024)
    assert "before 1940" in implausible("year", 1900)
    assert implausible("no such field", 1e300) is None
    assert all(lim.high is None or lim.low < lim.high for lim in limits().values())


# ------------------------------------------------------------------------ parsers, fuzzed

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CELL = st.one_of(st.text(max_size=12), st.sampled_from(["1e20", "8", "100", "NVIDIA A100", "-1", "inf", "nan",
                                                        "1e400", "3 days", "2021-05-04", "3024", "45%", "TPU v3",
                                                        "Hardware", "BF16,FP32", ""]))


@FUZZ
@given(st.binary(max_size=600))
def test_dataset_parser_any_bytes(data: bytes) -> None:
    try:
        systems = parse_systems(data, "fuzz.csv")
    except DatasetError as e:
        assert "\n" not in str(e) and "fuzz.csv" in str(e)
        return
    for r in systems.rows:
        flags(r)  # the detectors run on anything the loader keeps


@FUZZ
@given(st.lists(st.fixed_dictionaries({c: CELL for c in COLUMNS.values()}), min_size=1, max_size=4))
def test_dataset_parser_any_cells(rows: list[dict[str, str]]) -> None:
    text = csv_text(rows, list(COLUMNS.values()))
    try:
        systems = parse_systems(text.encode(), "fuzz.csv")
    except DatasetError as e:  # the one reason a CSV with the right header is refused whole
        assert "\x00" in text and "binary content (NUL bytes)" in str(e)
        return
    assert len(systems.rows) + len(systems.rejected) == len(rows)
    for r in systems.rows:
        for name in ("parameters", "compute", "dataset_size", "epochs", "hours", "quantity", "chip_hours"):
            v = getattr(r, name)
            assert v is None or (math.isfinite(v) and v > 0 and implausible(name, v) is None), (name, v)
        assert r.year is None or implausible("year", r.year) is None
        for f in flags(r):
            assert f.code and "\n" not in f.code


@FUZZ
@given(st.binary(max_size=400), st.sampled_from(["csv", "yaml"]))
def test_claims_parser_any_bytes(data: bytes, fmt: str) -> None:
    try:
        claims = parse_claims(data, f"fuzz.{fmt}", fmt)  # type: ignore[arg-type]
    except ValueError as e:  # ClaimsError for the file, ValueError naming the line for a record
        assert "\n" not in str(e).strip()
        return
    for c in claims:
        assert isinstance(c, Claim)


CLAIM_CELL = st.one_of(st.text(max_size=10), st.sampled_from(
    ["1e9", "1e12", "8", "2.5", "1e30", "1e300", "A100", "TPU v4", "bf16", "fp7", "0.4", "1.5", "-3", "", "nan"]))
CLAIM_COLUMNS = ("name", "params", "tokens", "examples", "epochs", "hardware", "count", "hours", "precision",
                 "utilisation", "peak", "claimed")


@FUZZ
@given(st.lists(st.fixed_dictionaries({c: CLAIM_CELL for c in CLAIM_COLUMNS}), min_size=1, max_size=3))
def test_claims_parser_any_cells_and_check(rows: list[dict[str, str]]) -> None:
    text = csv_text(rows, list(CLAIM_COLUMNS))
    try:
        claims = parse_claims(text, "fuzz.csv")
    except ClaimsError as e:  # the one reason a CSV with the right header is refused whole
        assert "\x00" in text and "binary content (NUL bytes)" in str(e)
        return
    except ValueError as e:
        assert "fuzz.csv line " in str(e) and "\n" not in str(e)
        return
    for c in claims:
        r = check(c, [])  # whatever parses, checks: no exception, finite numbers
        assert (r.verdict == "unverifiable") == (all(v is None for v in r.checks.values())
                                                 and r.verdict != "inconsistent")
        assert all(math.isfinite(e.flop) for e in r.estimates)
        assert r.factor is None or math.isfinite(r.factor)
