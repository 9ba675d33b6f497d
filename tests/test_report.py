"""Paper figures, the log-space trend fit, and the HTML report (built, linked, rendered in Chromium)."""

from __future__ import annotations

import csv
import math
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from harness.estimate.calibrate import Evaluation
from harness.estimate.dataset import load_systems, row_generation, to_frame
from harness.hardware.table import resolve
from harness.report import plots
from harness.report.html import FIGURES, ReportError, build_report
from harness.report.trends_plots import FIGURES as TRENDS_FIGURES
from harness.report.plots import log_trend

COLUMNS = [
    "Model", "Domain", "Publication date", "Parameters", "Training compute (FLOP)",
    "Training dataset size (datapoints)", "Epochs", "Training time (hours)", "Training hardware",
    "Hardware quantity", "Hardware utilization (MFU)", "Numerical format",
    "Training compute estimation method",
]

# model, domain, date, parameters, tokens/examples, chips, hardware, format, method, utilisation, MFU
# The compute is 6 N D; the hours are chosen so that the implied utilisation is the one listed.
COUNTED = "Operation counting"
H100 = "NVIDIA H100 SXM5 80GB"
SYSTEMS = [
    ("Lang-A", "Language", "2019-02-14", 1.5e9, 4e10, 32, "NVIDIA V100", "FP16", COUNTED, 0.22, ""),
    ("Lang-B", "Language", "2020-05-28", 1.3e10, 3e11, 256, "NVIDIA V100", "FP16", COUNTED, 0.15, ""),
    ("Lang-C", "Language", "2022-04-04", 6.2e10, 7.8e11, 1024, "Google TPU v4", "BF16", COUNTED, 0.46,
     "0.462"),
    ("Lang-D", "Language,Vision", "2023-07-18", 7e10, 2e12, 2048, "NVIDIA A100", "BF16",
     "Operation counting,Hardware", 0.38, ""),
    ("Lang-E", "Language", "2024-04-18", 8e9, 1.5e13, 4096, H100, "BF16", "Hardware", 0.40, ""),
    ("Vis-A", "Vision", "2016-06-01", 2.5e7, 1.3e8, 8, "NVIDIA Tesla P100", "FP32", COUNTED, 0.30, ""),
    ("Vis-B", "Vision", "2021-01-05", 4e8, 4e8, 256, "Google TPU v3", "BF16", COUNTED, 0.28, ""),
    ("Vis-C", "Vision", "2023-02-01", 2.2e10, 4e9, 512, "Google TPU v4", "BF16", "Hardware", 0.40, ""),
    ("Bio-A", "Biology", "2021-07-15", 9.3e7, 2e9, 128, "Google TPU v3", "BF16", COUNTED, 0.12, ""),
    ("Speech-A", "Speech", "2022-09-21", 1.5e9, 6.8e10, 64, "NVIDIA A100", "FP16", COUNTED, 0.33, ""),
    ("Games-A", "Games", "2018-12-07", 2e7, 1e10, 64, "Google TPU v3", "BF16", COUNTED, 2.5, ""),
    ("Robot-A", "Robotics", "2023-10-01", 5.5e10, 3e10, 128, H100, "BF16", COUNTED, 0.25, ""),
    ("Typo-A", "Multimodal", "2024-01-01", 3e9, 1e11, 64, "NVIDIA A100", "BF16", COUNTED, 0.3, ""),
]


def write_fixture(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for model, domain, date, n, d, chips, hw, fmt, method, u, mfu in SYSTEMS:
            compute = 6 * n * d
            peak = resolve(hw).peak(fmt.lower())
            hours = compute / (chips * 3600 * peak * u)
            hours_cell = "3 days" if model == "Typo-A" else f"{hours:.6g}"  # an unreadable cell: a flag
            w.writerow([model, domain, date, f"{n:g}", f"{compute:.6g}", f"{d:g}", "1", hours_cell, hw,
                        str(chips), mfu, fmt, method])
    return path


def write_defaults(path: Path) -> Path:
    path.write_text(
        "group,utilisation,low,high,n,source\n"
        "all,0.28,0.13,0.48,8,test\n"
        "generation=ampere,0.31,0.17,0.5,2,test\n"
        "generation=tpu-v3,0.2,0.1,0.45,3,test\n"
        "measured/generation=hopper/precision=bf16,0.45,0.41,0.52,6,harness runs\n"
    )
    return path


@pytest.fixture(scope="module")
def fixture_csv(tmp_path_factory) -> Path:
    return write_fixture(tmp_path_factory.mktemp("data") / "systems.csv")


def is_png(path: Path) -> bool:
    return path.stat().st_size > 1000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------------------- log_trend


def test_log_trend_recovers_a_power_law_exactly():
    x = np.logspace(0, 6, 25)
    y = 3 * x ** 1.5
    slope, intercept, band = log_trend(x, y, boots=50, seed=1)
    assert slope == pytest.approx(1.5, abs=1e-12)
    assert intercept == pytest.approx(math.log10(3), abs=1e-12)
    xs = np.array([1.0, 10.0, 1e5])
    lo, hi = band(xs)  # noiseless: every bootstrap refit is the same line, so the band is the line
    np.testing.assert_allclose(lo, 3 * xs ** 1.5, rtol=1e-9)
    np.testing.assert_allclose(hi, 3 * xs ** 1.5, rtol=1e-9)


def test_log_trend_fits_in_log_space_not_on_raw_values():
    rng = np.random.default_rng(7)
    x = np.logspace(2, 8, 40)
    y1 = 2 * x ** 0.7 * 10 ** rng.normal(0, 0.4, x.size)
    y2 = 5 * x ** 1.1 * 10 ** rng.normal(0, 0.4, x.size)
    s1, i1, _ = log_trend(x, y1, boots=10)
    s2, i2, _ = log_trend(x, y2, boots=10)
    # exactly the least-squares line of log10 y on log10 x ...
    ref = np.polyfit(np.log10(x), np.log10(y1), 1)
    assert (s1, i1) == pytest.approx(tuple(ref), abs=1e-10)
    # ... which is linear in log y: the fit of a product is the sum of the fits. A power law fitted
    # to raw values (weighted by the largest y) has no such property.
    s12, i12, _ = log_trend(x, y1 * y2, boots=10)
    assert s12 == pytest.approx(s1 + s2, abs=1e-10)
    assert i12 == pytest.approx(i1 + i2, abs=1e-10)
    # a raw-space fit would be dragged by one huge value far more than the log fit is
    y3 = y1.copy()
    y3[-1] *= 1000
    s3, _, _ = log_trend(x, y3, boots=10)
    assert s3 - s1 < 0.2
    # the band brackets the line and widens with the noise
    _, _, band = log_trend(x, y1, boots=200, seed=0)
    lo, hi = band([1e2, 1e5, 1e8])
    line = 10 ** (i1 + s1 * np.log10([1e2, 1e5, 1e8]))
    assert np.all(lo < line) and np.all(line < hi)


def test_log_trend_against_calendar_years_and_bad_points():
    years = np.arange(2012, 2025, dtype=float)
    u = 0.1 * 10 ** (0.04 * (years - 2012))
    slope, intercept, band = log_trend(years, u, boots=20, log_x=False)
    assert slope == pytest.approx(0.04, abs=1e-10)
    assert 10 ** (intercept + slope * 2012) == pytest.approx(0.1, rel=1e-8)
    # values with no logarithm are left out, not fitted
    x = [1, 10, 100, 1000, 0, -5, float("nan")]
    y = [2, 20, 200, 2000, 5, 5, 5]
    s, i, _ = log_trend(x, y, boots=5)
    assert (s, i) == pytest.approx((1.0, math.log10(2)), abs=1e-12)
    with pytest.raises(ValueError, match="two distinct x"):
        log_trend([1, 1, 1], [1, 2, 3])
    with pytest.raises(ValueError, match="two distinct x"):
        log_trend([1, 10], [-1, 0])


# ---------------------------------------------------------------------------------------- plots


def test_plots_from_a_fixture_csv(fixture_csv, tmp_path):
    systems = load_systems(fixture_csv)
    assert len(systems.rows) == len(SYSTEMS)
    df = to_frame(systems)
    u = df["implied_utilisation"].tolist()
    written = [
        plots.plot_params_vs_compute(df["parameters"], df["compute_flop"], df["domain"], tmp_path / "a.png",
                                     boots=30),
        plots.plot_utilisation_by_generation([row_generation(r) for r in systems.rows], u, tmp_path / "b.png",
                                             evidence=[m == "operation counting"
                                                       for m in df["estimation_methods"]],
                                             years=df["year"].tolist()),
        plots.plot_utilisation_vs_year(df["year"].tolist(), u, tmp_path / "c.png", boots=30),
        plots.plot_defaults([{"group": "all", "utilisation": 0.3, "low": 0.1, "high": 0.5, "n": 12},
                             {"group": "measured/generation=hopper", "utilisation": 0.5, "low": 0.45,
                              "high": 0.55, "n": 3}], tmp_path / "d.png"),
        plots.plot_method2_vs_method1([1e20, 1e21, 1e22], [1.5e20, 0.9e21, 4e22], [1e20, 0.5e21, 2e22],
                                      [2e20, 1.5e21, 6e22], tmp_path / "e.svg", evidence=[True, True, False]),
    ]
    assert written == [tmp_path / n for n in ("a.png", "b.png", "c.png", "d.png", "e.svg")]
    from PIL import Image

    for p in written:
        png, svg = p.with_suffix(".png"), p.with_suffix(".svg")
        assert is_png(png), png
        assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
        with Image.open(png) as im:
            assert im.info["dpi"][0] == pytest.approx(150, abs=0.5)
            assert len(im.getcolors(1 << 20) or range(2)) > 1
    with pytest.raises(ValueError, match="png or .svg"):
        plots.plot_defaults([{"group": "all", "utilisation": 0.3, "low": 0.1, "high": 0.5, "n": 1}],
                            tmp_path / "x.pdf")
    with pytest.raises(ValueError, match="no system"):
        plots.plot_params_vs_compute([None, 0], [1e20, None], ["a", "b"], tmp_path / "empty.png")


# ---------------------------------------------------------------------------------------- HTML


class Page(HTMLParser):
    """Tags, attributes and text of a page, with a check that every element is closed in order."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
            "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.title = ""
        self.decl = ""
        self._in_title = False

    def handle_decl(self, decl: str) -> None:
        self.decl = decl

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


@pytest.fixture(scope="module")
def report(fixture_csv, tmp_path_factory) -> Path:
    from harness.store import Store

    base = tmp_path_factory.mktemp("report")
    db = base / "runs.sqlite"
    prov = {"device_name": "NVIDIA H100 80GB HBM3", "device_kind": "cuda", "torch_version": "2.5.0",
            "hostname": "test", "project_commit": "abc", "utc": "2025-01-01T00:00:00+00:00",
            "python_version": "3.11.7"}
    with Store(db) as s:
        for batch, mfu, status in ((8, 0.41, "ok"), (16, 0.47, "ok"), (64, None, "oom")):
            s.add({**prov, "model": "gpt2-small", "batch": batch, "phase": "train", "precision": "bf16",
                   "status": status, "utilisation": mfu, "flop_per_s": mfu and mfu * 989e12,
                   "seconds_median": 0.1 if status == "ok" else None,
                   "error": None if status == "ok" else "out of memory"})
    evaluation = Evaluation(9, 0.12, 0.8, 0.2, 0.6, [("Lang-A", 0.05, 0.1), ("Bio-A", 0.4, 0.39)])
    return build_report(fixture_csv, write_defaults(base / "defaults.csv"), db, out_dir=base / "out",
                        evaluation=evaluation, boots=30)


def test_build_report_links_every_figure(report):
    out = report.parent
    assert report.name == "index.html"
    page = parse(report)
    assert page.errors == [] and page.stack == []
    assert page.decl.lower() == "doctype html"
    assert page.title.strip() == "Training compute and utilisation report"
    assert any(t == "meta" and (a.get("charset") or "").lower() == "utf-8" for t, a in page.tags)
    assert ("html", {"lang": "en"}) in page.tags
    # every figure was drawn, each as PNG + SVG, and the page links every file that exists
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == sorted(f"{stem}.png" for stem in [*FIGURES, *TRENDS_FIGURES])
    images = [a["src"] for t, a in page.tags if t == "img"]
    links = [a["href"] for t, a in page.tags if t == "a"]
    assert sorted(images) == pngs
    assert sorted(h for h in links if h.endswith(".svg")) == sorted(p.name for p in out.glob("*.svg"))
    for ref in images + [h for h in links if not h.startswith("#")]:
        assert (out / ref).is_file(), ref  # relative links that resolve
    assert all(is_png(out / p) for p in pngs)
    # self-contained: nothing fetched, no scripts
    text = report.read_text(encoding="utf-8")
    assert "<script" not in text and "<link" not in text
    remote = [a for _, a in page.tags for k in ("src", "href") if (a.get(k) or "").startswith(("http", "//"))]
    assert remote == []
    # the tables: defaults (with the measured row), flagged rows, measured runs, evaluation
    assert "generation=tpu-v3" in text and "measured/generation=hopper/precision=bf16" in text
    assert "Games-A" in text and "utilisation_above_1" in text  # implied 2.5: a data error
    assert "Typo-A" in text and "unreadable_value" in text
    assert "gpt2-small" in text and "NVIDIA H100 80GB HBM3" in text and "44.0%" in text  # median MFU
    assert "fixed rule 0.3 / 0.4" in text and "Bio-A" in text
    for title, _ in [*FIGURES.values(), *TRENDS_FIGURES.values()]:
        assert title in text


def test_build_report_degrades_to_what_the_data_allows(tmp_path):
    """Two systems with a compute and nothing else: every figure says why it is not drawn, the page
    says the evaluation was skipped and no database was given; a missing database is an error, not
    a new empty file."""
    sparse = tmp_path / "sparse.csv"
    sparse.write_text(",".join(COLUMNS) + "\n" + "Only-A,Language,2020-01-01,,1e20,,,,,,,,\n"
                      + "Only-B,Vision,2021-01-01,,3e21,,,,,,,,\n")
    defaults = tmp_path / "none.csv"
    defaults.write_text("group,utilisation,low,high,n,source\n")  # empty table: the fixed rule
    out = build_report(sparse, defaults, out_dir=tmp_path / "r", evaluate=False, boots=5)
    text = out.read_text(encoding="utf-8")
    page = parse(out)
    assert page.errors == [] and page.stack == []
    assert [t for t, _ in page.tags if t == "img"] == [] and list(out.parent.glob("*.png")) == []
    assert text.count("Not drawn:") == len(FIGURES) + len(TRENDS_FIGURES)
    assert "Skipped: the leave-one-system-out evaluation" in text
    assert "Skipped" in text and "harness report --evaluate" in text and "evaluate=True" not in text
    assert "No results database: run <code>harness bench MODEL</code>" in text and "db_path" not in text
    assert "No table: method 2 used the fixed rule" in text
    with pytest.raises(ReportError, match="does not exist"):
        build_report(sparse, defaults, db_path=tmp_path / "missing.sqlite", out_dir=tmp_path / "r2")
    assert not (tmp_path / "missing.sqlite").exists()


def _chromium() -> str | None:
    found = (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome"))
    return next((p for p in found if p), None)


def test_report_renders_in_headless_chromium(report, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium not installed: apt-get install chromium")
    from PIL import Image

    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--allow-file-access-from-files", f"--user-data-dir={tmp_path / 'profile'}",
              "--no-first-run", "--hide-scrollbars"]
    url = report.resolve().as_uri()
    shot = tmp_path / "page.png"
    run = subprocess.run([*common, f"--screenshot={shot}", "--window-size=1200,2000", url],
                         capture_output=True, text=True, timeout=90)
    assert shot.is_file(), f"no screenshot (rc {run.returncode}): {run.stderr[-2000:]}"
    with Image.open(shot) as im:
        assert im.size == (1200, 2000)
        colours = im.convert("RGB").getcolors(1 << 24)
    assert colours is not None and len(colours) > 1, "the screenshot is blank"
    # the figures loaded (a broken image shows an icon, not data): the page's CSS has no orange, the
    # first figure's vision points and the second's "above peak" shading do
    orange = sum(n for n, (r, g, b) in colours if r > 200 and b < 150 and r - b > 80)
    assert orange > 20, "no figure pixels on the screenshot: images did not load"
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=90)
    assert "<title>Training compute and utilisation report</title>" in dom.stdout, dom.stderr[-2000:]
    page = Page()
    page.feed(dom.stdout)
    images = [a.get("src") for t, a in page.tags if t == "img"]
    assert sorted(images) == sorted(f"{stem}.png" for stem in [*FIGURES, *TRENDS_FIGURES])


def test_report_command_reads_the_default_database(fixture_csv, tmp_path, monkeypatch):
    """Without --db the report reads the database `harness bench` writes to, when it exists."""
    from typer.testing import CliRunner

    from harness.cli import app
    from harness.store import Store

    db = tmp_path / "bench.sqlite"
    monkeypatch.setenv("HARNESS_DB", str(db))
    r = CliRunner().invoke(app, ["report", "--dataset", str(fixture_csv), "--out", str(tmp_path / "a")])
    assert r.exit_code == 0, r.output
    assert "No results database: run <code>harness bench MODEL</code>" in (tmp_path / "a" / "index.html").read_text()
    assert not db.exists()  # the report never creates a database
    Store(db).close()  # what a first `harness bench` leaves behind
    r = CliRunner().invoke(app, ["report", "--dataset", str(fixture_csv), "--out", str(tmp_path / "b")])
    assert r.exit_code == 0, r.output
    assert f"(runs from {db})" in r.stdout
    assert f"The results database {db} holds no runs." in (tmp_path / "b" / "index.html").read_text()
