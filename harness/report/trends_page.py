"""Pages of a trends analysis: `trends.md` (the results page, figures beside it) and the HTML section.

`write_markdown(a, out, ...)` writes `out/trends.md` and its PNG figures under `out/trends/`
(written to a temporary file and renamed, so a failed run leaves no half page); `html_section`
returns the report's section for figures already drawn by `trends_plots.draw_all`, and
`report_section` does the whole of it (select, analyse, draw, section) for `harness report`.
"""

from __future__ import annotations

import html
import os
import platform
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

from harness.estimate import trends as T
from harness.estimate.dataset import SystemRow
from harness.estimate.trend_analysis import MIN_POINTS, Analysis, EraFit, analyse
from harness.estimate.trend_data import select
from harness.report import trends_plots as V

__all__ = ["html_section", "markdown", "report_section", "write_markdown"]

FIGURE_DIR = "trends"
DENSE_USE = 2.0  # FLOP per parameter per example of a dense layer: each weight multiplied and added once


def _d(t: T.Trend | None, digits: int = 1) -> str:
    if t is None or t.doubling_months[0] is None:
        return "-"
    c, lo, hi = t.doubling_months
    f = lambda x: "-" if x is None else f"{x:.{digits}f}"
    return f"{f(c)} [{f(lo)}, {f(hi)}]"


def _s(t: T.Trend | None) -> str:
    return "-" if t is None else f"{t.slope_oom_per_year:.2f} [{t.slope_low:.2f}, {t.slope_high:.2f}]"


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _era_rows(a: Analysis) -> list[list[object]]:
    rows = []
    for e in a.eras:
        era = e.era
        paper = "-" if era.paper_doubling_months is None else (
            f"{era.paper_doubling_months} [{era.paper_doubling_low}, {era.paper_doubling_high}]")
        end = "data's end" if era.end is None else f"{era.end:.2f}"
        rows.append([era.label, f"{era.start:.2f} to {end}", era.selection, era.paper_n or "-", paper,
                     era.paper_slope_oom_per_year or "-", e.n, _d(e.trend), _s(e.trend)])
    return rows


def _reading(a: Analysis) -> list[str]:
    """One sentence per era the paper gives: does its central value fall in our interval, do they overlap."""
    out = []
    for e in a.eras:
        era, t = e.era, e.trend
        if era.paper_doubling_months is None or t is None or t.doubling_months[0] is None:
            continue
        c, lo, hi = t.doubling_months
        hi = hi if hi is not None else float("inf")
        inside = "inside" if lo <= era.paper_doubling_months <= hi else "outside"
        overlap = lo <= era.paper_doubling_high and era.paper_doubling_low <= hi
        out.append(f"- {era.label}: {c:.1f} months on {e.n} systems against the paper's {era.paper_doubling_months} "
                   f"on {era.paper_n}; the paper's value is {inside} this 90% interval, and the two intervals "
                   f"{'overlap' if overlap else 'do not overlap'}.")
    return out


def _decomposition(a: Analysis) -> list[str]:
    """The gap in compute per parameter between the zoo's extremes, split into its two factors."""
    rows = [r for r in a.zoo_per_parameter if r.source == "dataset" and r.forward_flop_per_parameter >= DENSE_USE]
    if len(rows) < 2:
        return []
    low, high = rows[0], rows[-1]  # sorted by compute per parameter
    return [f"Of the zoo's systems in this dataset that use each weight at least once per example (forward "
            f">= {DENSE_USE:g} FLOP per parameter), {high.model} has the most training compute per parameter "
            f"({high.compute_per_parameter:.3g}) and {low.model} the least ({low.compute_per_parameter:.3g}): "
            f"a factor {high.compute_per_parameter / low.compute_per_parameter:.3g}, of which "
            f"{high.forward_flop_per_parameter / low.forward_flop_per_parameter:.3g}x comes from the forward FLOP "
            f"per parameter of one example and {high.forwards / low.forwards:.3g}x from the number of "
            "example-forwards the training compute amounts to.", ""]


def markdown(a: Analysis, figures: Mapping[str, str], *, dataset: str, command: str,
             dense: Analysis | None = None, machine: str | None = None) -> str:
    """The results page; `figures`: stem -> path relative to the page."""
    s = a.selection
    machine = machine or f"{platform.machine()} CPU, {os.cpu_count()} cores"
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"# Trends in {s.metric}: the three eras of Sevilla et al. 2022, on this snapshot", "",
           f"Generated {now} on {machine} by `{command}` from `{Path(dataset).name}` "
           f"({len(s.points)} systems with a date and a {s.metric}; {s.missing} without; "
           f"{len(s.implausible)} implausible and kept out of every fit). Fits: least squares of log10 {s.metric} "
           f"on the decimal publication date; intervals: {T.LEVEL:.0%} bootstrap over systems ({a.boots} refits, "
           f"seed {a.seed}); the paper's intervals are 95% ([2.5th, 97.5th percentile]). Large-scale: log "
           f"{s.metric} more than {a.threshold:g} standard deviations above the systems published within 2 years.",
           "", "## The eras beside the paper", "",
           "Paper: Sevilla, Heim, Ho, Besiroglu, Hobbhahn, Villalobos, \"Compute Trends Across Three Eras of "
           "Machine Learning\", arXiv 2202.05924 (v2, March 2022), Table 2. Its data ended in February 2022; "
           "the snapshot holds many more systems in the same windows (Epoch has kept adding them), so the "
           "same windows give different counts. The last two rows extend the windows to the snapshot's end.", "",
           _table(["era", "window (decimal years)", "systems", "paper n", "paper doubling months [95%]",
                   "paper OOM/yr", "snapshot n", "snapshot doubling months [90%]", "snapshot OOM/yr [90%]"],
                  _era_rows(a)), "", *_reading(a), ""]
    if "trends_eras" in figures:
        out += [f"![eras]({figures['trends_eras']})", ""]
    out += ["## How the large-scale trend moves with the threshold", "",
            _table(["threshold (sd)", "large-scale systems", "n, paper window", "doubling months, paper window",
                    "n, 09-2015 to end", "doubling months, to end", "regular-scale, to end"],
                   [[f"{r.threshold:g}", r.n_large, r.paper_window.n if r.paper_window else 0, _d(r.paper_window),
                     r.to_date.n if r.to_date else 0, _d(r.to_date), _d(r.regular_to_date)]
                    for r in a.sensitivity]), ""]
    if "trends_sensitivity" in figures:
        out += [f"![sensitivity]({figures['trends_sensitivity']})", ""]
    out += ["## By domain, and the record-setters", "",
            "A record-setter beats every earlier system of its domain (first listed domain). The record fit's "
            "interval resamples all the domain's systems and re-selects the records in each draw.", "",
            _table(["domain", "n", "doubling months [90%]", "OOM/yr [90%]", "record-setters",
                    "records: doubling months [90%]", "records: OOM/yr [90%]"],
                   [[d.domain, d.n, _d(d.trend), _s(d.trend), len(d.records) or "-", _d(d.record_trend),
                     _s(d.record_trend)] for d in a.domains if d.trend is not None]), ""]
    if "trends_records" in figures:
        out += [f"![record-setters]({figures['trends_records']})", ""]
    if dense is not None:
        out += ["## Dense-only", "",
                f"{len(dense.selection.moe)} mixture-of-experts systems detected from their names and notes "
                "(or named in `harness/estimate/moe.csv`) and left out:", "",
                _table(["era", "all systems: n", "doubling months [90%]", "dense only: n", "doubling months [90%]"],
                       [[x.era.label, x.n, _d(x.trend), y.n, _d(y.trend)] for x, y in zip(a.eras, dense.eras)]), "",
                _table(["domain", "all: n", "doubling months", "dense: n", "doubling months"],
                       [[x.domain, x.n, _d(x.trend), y.n, _d(y.trend)] for x, y in
                        ((x, next((y for y in dense.domains if y.domain == x.domain), None)) for x in a.domains[:6])
                        if y is not None]), "",
                "<details><summary>Excluded systems</summary>", "",
                _table(["system", "why"], [[e.model, e.reason.replace("|", "/")] for e in dense.selection.moe]), "",
                "</details>", ""]
    if a.per_parameter:
        out += ["## Compute per parameter", "",
                _table(["domain", "n", "median FLOP / parameter", "25%", "75%"],
                       [[r.domain, r.n, f"{r.median:.3g}", f"{r.p25:.3g}", f"{r.p75:.3g}"] for r in a.per_parameter
                        if r.n >= 3]), ""]
    if a.zoo_per_parameter:
        out += ["Compute per parameter = (forward FLOP per parameter for one example, counted by the harness on "
                "the zoo's model) x (example-forwards the training compute amounts to). A convolution reuses each "
                "weight at every position; self-play multiplies the forwards.", "",
                _table(["system", "zoo entry", "domain", "compute / parameter", "counted forward FLOP / parameter",
                        "one example", "example-forwards", "compute and parameters from"],
                       [[r.model, r.zoo_name, r.domain or "-", f"{r.compute_per_parameter:.3g}",
                         f"{r.forward_flop_per_parameter:.3g}", r.example, f"{r.forwards:.3g}",
                         "the dataset" if r.source == "dataset" else "the zoo's facts (row not in this dataset)"]
                        for r in a.zoo_per_parameter]), "", *_decomposition(a)]
    for stem in ("trends_per_parameter", "trends_params_compute"):
        if stem in figures:
            out += [f"![{stem}]({figures[stem]})", ""]
    if s.implausible:
        out += ["## Implausible values, kept out of every fit", "",
                _table(["system", "why"], [[e.model, e.reason] for e in s.implausible]), ""]
    return "\n".join(out)


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _small_png(path: Path, colours: int = 128) -> None:
    """Rewrite a figure as a palette PNG (about a third of the size; the figures use a few dozen colours)."""
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def write_markdown(a: Analysis, out: str | Path, *, dataset: str, command: str,
                   dense: Analysis | None = None, machine: str | None = None) -> Path:
    """`out/trends.md` and its PNG figures in `out/trends/` (palette PNGs; the SVG twins are removed)."""
    root = Path(out)
    fig_dir = root / FIGURE_DIR
    fig_dir.mkdir(parents=True, exist_ok=True)
    drawn, _ = V.draw_all(a, fig_dir)
    for p in drawn.values():
        p.with_suffix(".svg").unlink(missing_ok=True)
        _small_png(p)
    rel = {stem: f"{FIGURE_DIR}/{p.name}" for stem, p in drawn.items()}
    page = root / "trends.md"
    _atomic_write(page, markdown(a, rel, dataset=dataset, command=command, dense=dense, machine=machine))
    return page


def html_section(a: Analysis, figures: Mapping[str, Path], not_drawn: Mapping[str, str]) -> str:
    """The report's trends section: each figure with its caption, then the eras beside the paper."""
    e = html.escape
    parts = ["<section id=\"trends\">", "<h2>Trends in training compute</h2>",
             f"<p>{len(a.selection.points)} systems; log-space fits, {T.LEVEL:.0%} bootstrap intervals over systems; "
             f"large-scale above {a.threshold:g} standard deviations of the 2-year neighbourhood. "
             f"{len(a.selection.implausible)} implausible values kept out of the fits. The full tables: "
             "<code>harness trends --dataset CSV</code>.</p>"]
    head = ["era", "systems", "paper n", "paper doubling months (95%)", "n", "doubling months (90%)"]
    def paper(x: EraFit) -> str:
        era = x.era
        if era.paper_doubling_months is None:
            return "-"
        return f"{era.paper_doubling_months} [{era.paper_doubling_low}, {era.paper_doubling_high}]"

    rows = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in (
        x.era.label, x.era.selection, x.era.paper_n or "-", paper(x), x.n, _d(x.trend))) + "</tr>" for x in a.eras)
    parts.append("<table><thead><tr>" + "".join(f"<th scope=\"col\">{e(h)}</th>" for h in head) +
                 f"</tr></thead><tbody>{rows}</tbody></table>")
    for stem, (title, caption) in V.FIGURES.items():
        parts.append(f"<h3>{e(title)}</h3>")
        if stem in figures:
            png = figures[stem].name
            parts.append(f"<figure><img src=\"{e(png)}\" alt=\"{e(title)}\"><figcaption>{e(caption)} "
                         f"<a href=\"{e(figures[stem].with_suffix('.svg').name)}\">SVG</a></figcaption></figure>")
        else:
            parts.append(f"<p class=\"note\">Not drawn: {e(not_drawn.get(stem, 'no data'))}.</p>")
    parts.append("</section>")
    return "\n".join(parts)


def report_section(rows: Sequence[SystemRow], out: str | Path, *, zoo: bool = False, boots: int = T.BOOTS,
                   seed: int = 0) -> str:
    """The trends of training compute for the HTML report: analysed, drawn into `out`, as one section.

    `zoo=True` counts the zoo's forward passes (about 30 s on two CPU cores) for compute per parameter
    and the labels of the parameters-vs-compute figure; without it those parts are left out.
    """
    forwards = []
    if zoo:
        from harness.report.trends_zoo import zoo_forwards

        forwards = zoo_forwards()
    sel = select(rows, "compute")
    if len(sel.points) < MIN_POINTS:
        why = html.escape(f"{len(sel.points)} systems with a date and a training compute; the trends need "
                          f"at least {MIN_POINTS}")
        return "\n".join(["<section id=\"trends\">", "<h2>Trends in training compute</h2>",
                          *(f"<h3>{html.escape(title)}</h3>\n<p class=\"note\">Not drawn: {why}.</p>"
                            for title, _ in V.FIGURES.values()), "</section>"])
    a = analyse(sel, record_setters=True, zoo=forwards, boots=boots, seed=seed)
    drawn, skipped = V.draw_all(a, out)
    return html_section(a, drawn, skipped)
