"""The HTML report: every figure of `harness.report.plots` and the tables behind them, in one folder.

`build_report(dataset, defaults, db, out_dir=...)` reads an Epoch-schema dataset, applies both
estimation methods to every row with the utilisation defaults, draws the figures (PNG + SVG beside
each other) and writes `index.html`: one static HTML5 page, UTF-8, inline CSS, relative image
links, no JavaScript and nothing fetched from the network, so the folder can be zipped, mailed or
served as it is.

Where the defaults come from, in order: `defaults_path`; else the committed table
(the table shipped with the package); else a table fitted from this dataset for the report (a few
seconds, said on the page); else Epoch's fixed 0.3 / 0.4 rule. The leave-one-out evaluation is
slow (about a minute on the full snapshot), so it runs only when asked (`evaluate=True`,
`harness report --evaluate`) or when a precomputed `Evaluation` is passed; otherwise the page says
how to get it.
"""

from __future__ import annotations

import html
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from harness.estimate import dataset as D
from harness.estimate.apply import estimate_row
from harness.estimate.calibrate import (
    Evaluation,
    defaults_table,
    fit,
    measured_rows,
    observations_from_systems,
)
from harness.estimate.calibrate import evaluate as run_evaluation
from harness.estimate.defaults import TABLE_NAME, DefaultRow, load_defaults
from harness.report import plots, trends_page

__all__ = ["FIGURES", "ReportError", "build_report"]

INDEX = "index.html"
_COUNTED = frozenset({"operation counting", "reported"})


class ReportError(ValueError):
    """The report cannot be built as asked; the message (one line) says why."""


# file stem -> (title, what it shows); the order is the page's order
FIGURES: dict[str, tuple[str, str]] = {
    "params_vs_compute": (
        "Training compute vs parameters",
        "Every system with both a parameter count and a training compute, log-log, coloured by its first "
        "listed domain (the six most frequent; the rest as other). The line is a power law "
        "C = a N^b fitted by least squares on log10 C against log10 N (in log space, so the largest "
        "systems do not decide the fit); the band is the 5-95th percentile of the line over 200 "
        "bootstrap refits, resampling systems."),
    "utilisation_by_generation": (
        "Implied utilisation by hardware generation",
        "Implied utilisation = published compute / (chips x wall-clock seconds x dense per-chip peak), "
        "per generation of the first listed chip, log scale. Blue: calibration evidence (compute counted "
        "or MFU reported, no data-error flag); grey: the rest, mostly hardware-method estimates that "
        "restate the utilisation they assumed (hence the clusters on the 0.3 / 0.4 lines). Boxes: "
        "quartiles of the evidence, whiskers 10-90%. Above 1 (shaded) is impossible: a data error."),
    "utilisation_vs_year": (
        "Implied utilisation over time",
        "The same implied utilisation against publication year (jittered by up to 0.3 years to separate "
        "the dots). The trend is log10 u linear in the year, fitted on the evidence rows in log space, "
        "with its bootstrap 90% band; the legend gives the factor per year."),
    "defaults": (
        "Utilisation defaults",
        "The utilisation the hardware method uses: the pooled 'all' value and one per group, each with "
        "its 80% predictive interval and the number of systems n behind it. In orange, where a results "
        "database was given: the harness's own single-device training steps (median MFU per generation and "
        "precision), an upper bound for whole training runs, shown apart and not pooled. Dashed and dotted: "
        "Epoch's fixed 0.3 / 0.4 rule."),
    "method2_vs_method1": (
        "Method 2 vs the published compute",
        "For every system with chips, hours and a known peak: the hardware-method estimate (chips x time x "
        "peak x the default utilisation; bars: the utilisation's interval) against its published training "
        "compute. Blue: the published figure was counted or reported, an independent check; grey: it was "
        "itself a hardware-method estimate (or its method is not stated), so agreement is partly by "
        "construction. Shaded: within a factor of 2."),
}


@dataclass
class _Context:
    systems: D.Systems
    table: list[DefaultRow]
    table_source: str
    measured: list[DefaultRow]
    estimates: list[dict[str, Any]]
    evidence: list[bool]
    evaluation: Evaluation | None
    store_rows: list[dict[str, Any]] | None
    db_path: str | None
    figures: dict[str, Path] = field(default_factory=dict)
    not_drawn: dict[str, str] = field(default_factory=dict)
    trends: str = ""  # the trends section (harness.report.trends_page)


# ---------------------------------------------------------------------------------------- building


def _is_evidence(row: D.SystemRow) -> bool:
    """The calibration's own rule, applied to one row: usable as evidence of utilisation."""
    kept, _ = observations_from_systems(SimpleNamespace(rows=[row]))
    return bool(kept)


def _defaults(systems: D.Systems, defaults_path: str | Path | None, boots: int,
              seed: int) -> tuple[list[DefaultRow], str]:
    if defaults_path is not None:
        return load_defaults(defaults_path), f"file {defaults_path}"
    committed = load_defaults()
    if committed:
        return committed, f"shipped table {TABLE_NAME}"
    obs, _ = observations_from_systems(systems)
    if sum(o.evidence_class == "training run" for o in obs) >= 5:
        return (defaults_table(fit(obs)),
                f"fitted from this dataset for this report ({len(obs)} systems; "
                "no defaults table given or committed)")
    return [], ("Epoch's fixed rule (0.3 language, 0.4 other): "
                "no defaults table and no usable system to fit one")


def build_report(dataset_path: str | Path, defaults_path: str | Path | None = None,
                 db_path: str | Path | None = None, *, out_dir: str | Path,
                 evaluation: Evaluation | None = None, evaluate: bool = False,
                 boots: int = 200, seed: int = 0, zoo: bool = False) -> Path:
    """Write the figures and `index.html` into `out_dir`; return the path of `index.html`.

    `defaults_path`: a utilisation defaults CSV (else the committed one, else one fitted here).
    `db_path`: a results database (`harness.store`) whose runs are summarised and whose single-device
    MFUs join the defaults figure; it must exist (the report never creates one).
    `evaluation`: a precomputed leave-one-out `Evaluation` to show; `evaluate=True` computes it
    (slow: ~1 min on the full snapshot); neither: the evaluation section says it was skipped.
    `zoo=True`: the trends section counts the zoo's forwards for compute per parameter (~30 s).
    """
    systems = D.load_systems(dataset_path)
    table, table_source = _defaults(systems, defaults_path, boots, seed)
    store_rows: list[dict[str, Any]] | None = None
    measured = [r for r in table if r.group.startswith("measured")]
    if db_path is not None:
        if not Path(db_path).is_file():
            raise ReportError(f"results database {db_path} does not exist; pass the --db of a benchmark run")
        from harness.store import Store

        with Store(db_path, create=False) as store:
            store_rows = store.rows()
        measured += measured_rows(store_rows, seed=seed)
    if evaluation is None and evaluate:
        obs, _ = observations_from_systems(systems)
        evaluation = run_evaluation(obs) if sum(o.evidence_class == "training run" for o in obs) >= 5 else None
    ctx = _Context(
        systems=systems,
        table=[r for r in table if not r.group.startswith("measured")],
        table_source=table_source,
        measured=measured,
        estimates=[estimate_row(r, table) for r in systems.rows],  # [] gives the fixed rule
        evidence=[_is_evidence(r) for r in systems.rows],
        evaluation=evaluation,
        store_rows=store_rows,
        db_path=None if db_path is None else str(db_path),
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _draw(ctx, out, boots, seed)
    ctx.trends = trends_page.report_section(systems.rows, out, zoo=zoo, boots=boots, seed=seed)
    index = out / INDEX
    tmp = index.with_name(f".{INDEX}.tmp")  # written beside the target, then renamed: never half a page
    try:
        tmp.write_text(_render_html(ctx), encoding="utf-8")
        tmp.replace(index)
    finally:
        tmp.unlink(missing_ok=True)
    return index


def _draw(ctx: _Context, out: Path, boots: int, seed: int) -> None:
    rows = ctx.systems.rows
    implied = [e["implied_utilisation"] for e in ctx.estimates]
    counted = [bool(r.estimation_methods & _COUNTED) for r in rows]
    m2 = [e for e in ctx.estimates if "compute_method2" in e]
    measured_source = plots.EPOCH_SOURCE + ("; measured: this harness" if ctx.measured else "")
    jobs = {
        "params_vs_compute": lambda p: plots.plot_params_vs_compute(
            [r.parameters for r in rows], [r.compute for r in rows], [r.domain for r in rows], p,
            boots=boots, seed=seed),
        "utilisation_by_generation": lambda p: plots.plot_utilisation_by_generation(
            [D.row_generation(r) for r in rows], implied, p, evidence=ctx.evidence,
            years=[r.year for r in rows], seed=seed),
        "utilisation_vs_year": lambda p: plots.plot_utilisation_vs_year(
            [r.year for r in rows], implied, p, evidence=ctx.evidence, boots=boots, seed=seed),
        "defaults": lambda p: plots.plot_defaults(ctx.table + ctx.measured, p, source=measured_source),
        "method2_vs_method1": lambda p: plots.plot_method2_vs_method1(
            [e["compute"] for e in m2], [e["compute_method2"] for e in m2],
            [e["compute_method2_low"] for e in m2], [e["compute_method2_high"] for e in m2], p,
            evidence=[c for c, e in zip(counted, ctx.estimates) if "compute_method2" in e]),
    }
    for stem, job in jobs.items():
        target = out / f"{stem}.png"
        for old in (target, target.with_suffix(".svg")):  # a figure from an earlier run must not linger
            old.unlink(missing_ok=True)
        try:
            ctx.figures[stem] = job(target)
        except ValueError as e:  # too little data for this figure: said on the page
            ctx.not_drawn[stem] = str(e)


# ---------------------------------------------------------------------------------------- rendering

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #222;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; line-height: 1.45; background: #fff; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; margin-top: 2em;
     border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #444; max-width: 60em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.8em 0; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #666; font-size: 0.9em; } .small { font-size: 0.8em; color: #555; }
nav ul { columns: 2; font-size: 0.9em; } code { background: #f4f4f4; padding: 0 0.2em; }
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _num(value: Any, fmt: str = ".3g") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return format(value, fmt)


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[bool] | None = None,
           caption: str | None = None) -> str:
    numeric = numeric or [False] * len(headers)
    out = ["<table>"]
    if caption:
        out.append(f"<caption class=\"note\">{_e(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f"<th scope=\"col\">{_e(h)}</th>" for h in headers) + "</tr></thead>")
    out.append("<tbody>")
    for r in rows:
        cells = "".join(f"<td class=\"num\">{_e(c)}</td>" if n else f"<td>{_e(c)}</td>"
                        for c, n in zip(r, numeric))
        out.append(f"<tr>{cells}</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _figures_html(ctx: _Context) -> str:
    parts = []
    for stem, (title, text) in FIGURES.items():
        parts.append(f"<section id=\"fig-{stem}\">\n<h2>{_e(title)}</h2>")
        if stem in ctx.figures:
            png = ctx.figures[stem].name
            svg = ctx.figures[stem].with_suffix(".svg").name
            parts.append(f"<figure>\n<img src=\"{_e(png)}\" alt=\"{_e(title)}\" loading=\"eager\">\n"
                         f"<figcaption>{_e(text)} <a href=\"{_e(svg)}\">SVG</a> | "
                         f"<a href=\"{_e(png)}\">PNG (150 dpi)</a></figcaption>\n</figure>")
        else:
            why = ctx.not_drawn.get(stem, "no data")
            parts.append(f"<p class=\"note\">Not drawn: {_e(why)}.</p>")
        parts.append("</section>")
    return "\n".join(parts)


def _defaults_html(ctx: _Context) -> str:
    rows = ctx.table + ctx.measured
    head = f"<p>Source: {_e(ctx.table_source)}.</p>"
    if not rows:
        return head + "<p class=\"note\">No table: method 2 used the fixed rule.</p>"
    body = _table(["group", "utilisation", "low", "high", "n", "source"],
                  [(r.group, _num(r.utilisation), _num(r.low), _num(r.high), r.n, r.source) for r in rows],
                  [False, True, True, True, True, False])
    return head + body


def _evaluation_html(ctx: _Context) -> str:
    ev = ctx.evaluation
    if ev is None:
        return ("<p class=\"note\">Skipped: the leave-one-system-out evaluation takes about a minute on "
                "the full dataset. Run <code>harness report --evaluate</code> to include it.</p>")
    summary = _table(
        ["defaults", "systems", "median |log10 error|", "median error factor", "within 2x"],
        [("calibrated (leave one system out)", ev.n, _num(ev.calibrated_median_abs_log10),
          f"{10 ** ev.calibrated_median_abs_log10:.2f}x", f"{ev.calibrated_within_2x:.0%}"),
         ("fixed rule 0.3 / 0.4", ev.n, _num(ev.fixed_median_abs_log10),
          f"{10 ** ev.fixed_median_abs_log10:.2f}x", f"{ev.fixed_within_2x:.0%}")],
        [False, True, True, True, True])
    worst = sorted(ev.errors, key=lambda e: -e[1])[:15]
    detail = _table(["system", "calibrated |log10 error|", "fixed-rule |log10 error|"],
                    [(s, _num(c), _num(f)) for s, c, f in worst], [False, True, True],
                    caption="The 15 systems the calibrated defaults predict worst")
    return summary + detail


def _flag_rows(ctx: _Context) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(rows with a data-error flag, rows flagged only as hardware-method / circular)."""
    circular_only = {"hardware_method_circular", "hardware_method_suspected"}
    errors, circular = [], []
    for row, est in zip(ctx.systems.rows, ctx.estimates):
        found = D.flags(row)
        if not found:
            continue
        codes = list(dict.fromkeys(f.code for f in found))
        item = (row.model, row.year or "-", ", ".join(codes), _num(est["implied_utilisation"]),
                " | ".join(f.message for f in found))
        (circular if set(codes) <= circular_only else errors).append(item)
    return errors, circular


def _flags_html(ctx: _Context) -> str:
    errors, circular = _flag_rows(ctx)
    headers = ["model", "year", "flags", "implied utilisation", "why"]
    numeric = [False, True, False, True, False]
    out = [f"<p>{len(errors)} rows carry a flag that names a likely data error; {len(circular)} more are "
           "flagged only because their compute came from the hardware method "
           "(not evidence for calibration).</p>"]
    if errors:
        out.append(_table(headers, errors, numeric))
    if circular:
        out.append(f"<details><summary>{len(circular)} rows with hardware-method compute only</summary>")
        out.append(_table(headers, circular, numeric))
        out.append("</details>")
    return "\n".join(out)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _store_html(ctx: _Context) -> str:
    if ctx.store_rows is None:
        return ("<p class=\"note\">No results database: run <code>harness bench MODEL</code> (it stores its rows "
                "in the default database, which the report reads) or pass <code>harness report --db PATH</code>.</p>")
    rows = ctx.store_rows
    if not rows:
        return f"<p class=\"note\">The results database {_e(ctx.db_path)} holds no runs.</p>"
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for r in rows:
        key = (str(r.get("model")), str(r.get("phase")), str(r.get("precision")), str(r.get("device_name")))
        groups.setdefault(key, []).append(r)
    table = []
    for (model, phase, precision, device), rs in sorted(groups.items()):
        ok = [r for r in rs if r.get("status") == "ok"]
        mfu = [float(r["utilisation"]) for r in ok if r.get("utilisation") is not None]
        rate = [float(r["flop_per_s"]) / 1e12 for r in ok if r.get("flop_per_s") is not None]
        table.append((model, phase, precision, device, len(ok), len(rs) - len(ok),
                      _num(_median(mfu), ".1%"), _num(max(mfu) if mfu else None, ".1%"),
                      _num(_median(rate), ".3g")))
    headers = ["model", "phase", "precision", "device", "ok runs", "oom / error", "median MFU", "best MFU",
               "median TFLOP/s"]
    return (f"<p>{len(rows)} runs in {_e(ctx.db_path)}, grouped by model, phase, precision and device "
            "(over batch sizes and other settings).</p>" +
            _table(headers, table, [False] * 4 + [True] * 5))


def _render_html(ctx: _Context) -> str:
    """The page for a built context (see `build_report`)."""
    s = ctx.systems
    with_u = sum(e["implied_utilisation"] is not None for e in ctx.estimates)
    with_m2 = sum("compute_method2" in e for e in ctx.estimates)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sections = [(f"fig-{stem}", title) for stem, (title, _) in FIGURES.items()]
    sections += [("trends", "Trends in training compute"), ("defaults-table", "Defaults table"), ("evaluation", "Evaluation"),
                 ("flags", "Flagged rows"), ("measured", "Measured runs")]
    nav = "".join(f"<li><a href=\"#{anchor}\">{_e(title)}</a></li>" for anchor, title in sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="compute-harness">
<title>Training compute and utilisation report</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>Training compute and utilisation report</h1>
<p class="small">Dataset: <code>{_e(Path(s.path).name)}</code>, {len(s.rows)} systems read, {len(s.rejected)}
rejected; {with_u} with an implied utilisation, {sum(ctx.evidence)} usable as calibration evidence, {with_m2}
with a method-2 estimate. Defaults: {_e(ctx.table_source)}. Generated {now} by compute-harness.</p>
<nav><ul>{nav}</ul></nav>
</header>
<main>
{_figures_html(ctx)}
{ctx.trends}
<section id="defaults-table">
<h2>Defaults table</h2>
{_defaults_html(ctx)}
</section>
<section id="evaluation">
<h2>Evaluation: calibrated defaults vs the fixed rule</h2>
{_evaluation_html(ctx)}
</section>
<section id="flags">
<h2>Flagged rows</h2>
{_flags_html(ctx)}
</section>
<section id="measured">
<h2>Measured runs</h2>
{_store_html(ctx)}
</section>
</main>
<footer>
<p class="small">Data: Epoch AI, "Data on Notable AI Models" (CC-BY 4.0), read from the file above;
figures and tables derived by compute-harness. 1 multiply-accumulate = 2 FLOP throughout.</p>
</footer>
</body>
</html>
"""
