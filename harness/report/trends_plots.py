"""Figures of a trends analysis: the eras, record-setters, the large-scale sensitivity,
parameters vs compute with the zoo labelled, compute per parameter by domain.

Each `plot_*` takes an `Analysis` (and what else it needs) and an output path, and writes it with
`plots.save_figure` (PNG at 150 dpi and an SVG beside it). `draw_all` draws every figure into a
folder (`trends_page` writes the pages around them). Every line is fitted in log space
(`harness.estimate.trends`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.estimate import trends as T
from harness.estimate.trend_analysis import Analysis, EraFit
from harness.estimate.trend_data import Point
from harness.report import plots
from harness.report.plots import GREY, INK, PALETTE

__all__ = ["FIGURES", "draw_all", "plot_eras", "plot_params_compute", "plot_per_parameter", "plot_records",
           "plot_sensitivity"]

LARGE = "#D55E00"
ERA_COLOURS = {"pre-deep-learning": "#009E73", "deep-learning": "#0072B2", "large-scale": LARGE}

# file stem -> (title, caption)
FIGURES: dict[str, tuple[str, str]] = {
    "trends_eras": (
        "Training compute over time, three eras",
        "Every system with a date and a training compute. Orange: large-scale systems (log compute more than "
        "the threshold of standard deviations above the systems published within 2 years). Lines: least "
        "squares of log10 compute on the date over each era of Sevilla et al. 2022, on the systems the "
        "paper used there (all before 2010, regular-scale 2010-2022, large-scale from September 2015)."),
    "trends_records": (
        "Record-setters by domain",
        "The record-setters of the four largest domains (a system above every earlier one of its domain), "
        "the step line connecting them, and the log-space fit through them; the interval in the legend "
        "comes from resampling all the domain's systems and re-selecting the records in each draw."),
    "trends_sensitivity": (
        "Large-scale threshold sensitivity",
        "The doubling time of the large-scale systems (and its 90% bootstrap interval) as the threshold "
        "that defines them moves from 0.5 to 1.0 standard deviations, in the paper's window and to the "
        "data's end; the paper's 9.9 months [7.7, 17.1] (95%) shaded."),
    "trends_params_compute": (
        "Parameters vs training compute, the zoo labelled",
        "Every system with both figures, log-log; the systems the harness's zoo builds are labelled (squares: "
        "systems this dataset lacks, at the compute and parameters the zoo records with their sources)."),
    "trends_per_parameter": (
        "Training compute per parameter, by domain",
        "Training compute / parameters for every system with both, per domain (box: quartiles, whiskers "
        "10-90%); orange: zoo systems, labelled with the counted forward FLOP per parameter for one example "
        "(+N: more zoo systems within a factor 2)."),
}


def _fit_line(ax: Any, trend: T.Trend | None, colour: str, label: str, lw: float = 1.6) -> None:
    if trend is None:
        return
    xs = np.linspace(trend.start, trend.end, 50)
    ax.plot(xs, 10 ** (trend.intercept + trend.slope_oom_per_year * xs), color=colour, lw=lw, zorder=4,
            label=label)


def _doubling_label(trend: T.Trend) -> str:
    c, lo, hi = trend.doubling_months
    if c is None:
        return "no growth"
    return f"{c:.1f} months [{'-' if lo is None else f'{lo:.1f}'}, {'-' if hi is None else f'{hi:.1f}'}]"


def plot_eras(a: Analysis, path: str | Path) -> Path:
    pts = a.selection.points
    if not pts:
        raise ValueError("no system to draw")
    big = {id(p) for p in a.large_scale}
    with plots._style():
        fig = plots._figure((6.8, 4.4))
        ax = fig.add_subplot()
        t = np.array([p.date for p in pts])
        v = np.array([p.value for p in pts])
        m = np.array([id(p) in big for p in pts])
        ax.scatter(t[~m], v[~m], s=7, color=GREY, alpha=0.55, lw=0, zorder=2, label="regular-scale")
        ax.scatter(t[m], v[m], s=9, color=LARGE, alpha=0.8, lw=0, zorder=3,
                   label=f"large-scale (> {a.threshold:g} sd)")
        for e in a.eras:
            if e.era.name in ERA_COLOURS and e.trend is not None:
                _fit_line(ax, e.trend, ERA_COLOURS[e.era.name],
                          f"{e.era.label}: {_doubling_label(e.trend)}; paper {e.era.paper_doubling_months}")
        ax.set_yscale("log")
        plots._log_axis(ax, "y")
        ax.set_xlabel("Publication date")
        ax.set_ylabel("Training compute (FLOP)" if a.selection.metric == "compute" else "Parameters")
        ax.set_title(f"{len(pts)} systems; doubling time, 90% bootstrap interval")
        ax.legend(loc="upper left", fontsize=6.5)
        return plots.save_figure(fig, path)


def plot_records(a: Analysis, path: str | Path, top: int = 4) -> Path:
    doms = [d for d in a.domains if d.records][:top]
    if not doms:
        raise ValueError("no domain has record-setters (run the analysis with record_setters=True)")
    by = {}
    for p in a.selection.points:
        by.setdefault(p.domain, []).append(p)
    with plots._style():
        fig = plots._figure((6.8, 4.4))
        ax = fig.add_subplot()
        for i, d in enumerate(doms):
            colour = PALETTE[i % len(PALETTE)]
            ps = by[d.domain]
            ax.scatter([p.date for p in ps], [p.value for p in ps], s=5, color=colour, alpha=0.18, lw=0, zorder=1)
            ax.plot([s[0] for s in d.step], [s[1] for s in d.step], color=colour, lw=0.9, zorder=2,
                    drawstyle="default")
            ax.scatter([p.date for p in d.records], [p.value for p in d.records], s=14, color=colour, zorder=3,
                       edgecolor="white", lw=0.4)
            label = f"{d.domain}: {len(d.records)} records"
            if d.record_trend is not None:
                label += f", {_doubling_label(d.record_trend)}"
            _fit_line(ax, d.record_trend, colour, label, lw=1.2)
        ax.set_yscale("log")
        plots._log_axis(ax, "y")
        ax.set_xlabel("Publication date")
        ax.set_ylabel("Training compute (FLOP)" if a.selection.metric == "compute" else "Parameters")
        ax.set_title("Record-setters, their step line and fit (doubling months, 90% interval)")
        ax.legend(loc="upper left", fontsize=6.5)
        return plots.save_figure(fig, path)


def plot_sensitivity(a: Analysis, path: str | Path, paper: EraFit | None = None) -> Path:
    rows = [r for r in a.sensitivity if r.paper_window is not None or r.to_date is not None]
    if not rows:
        raise ValueError("no large-scale trend at any threshold")
    with plots._style():
        fig = plots._figure((6.0, 3.6))
        ax = fig.add_subplot()
        if paper is not None and paper.era.paper_doubling_months is not None:
            ax.axhspan(paper.era.paper_doubling_low, paper.era.paper_doubling_high, color=LARGE, alpha=0.10, lw=0,
                       label="Sevilla et al. 2022: 95% interval")
            ax.axhline(paper.era.paper_doubling_months, color=LARGE, lw=0.8, ls="--",
                       label=f"Sevilla et al. 2022: {paper.era.paper_doubling_months} months")
        for k, (attr, colour, label) in enumerate((("paper_window", INK, "paper's window (09-2015 to 02-2022)"),
                                                   ("to_date", PALETTE[0], "09-2015 to the data's end"))):
            xs, c, lo, hi = [], [], [], []
            for r in rows:
                t = getattr(r, attr)
                if t is None or t.doubling_months[0] is None:
                    continue
                dc, dl, dh = t.doubling_months
                xs.append(r.threshold + (k - 0.5) * 0.012)
                c.append(dc)
                lo.append(dc - (dl if dl is not None else dc))
                hi.append((dh if dh is not None else dc) - dc)
            if xs:
                ax.errorbar(xs, c, yerr=[lo, hi], fmt="o", ms=4, color=colour, capsize=2, lw=1, label=label)
        ax.axvline(a.threshold, color=GREY, lw=0.7, ls=":")
        ax.set_xlabel("Large-scale threshold (standard deviations above the 2-year neighbourhood)")
        ax.set_ylabel("Doubling time (months)")
        ax.set_title("Large-scale trend against the threshold that defines it")
        ax.legend(loc="upper left", fontsize=6.5)
        return plots.save_figure(fig, path)


def _spread(values: Sequence[tuple[float, float]], gap_dex: float) -> list[int]:
    """Indices of points to label, greedily in order, skipping any within `gap_dex` (log10) of a labelled one."""
    kept: list[int] = []
    logs = [(np.log10(x), np.log10(y)) for x, y in values]
    for i, (lx, ly) in enumerate(logs):
        if all(abs(lx - logs[j][0]) > gap_dex or abs(ly - logs[j][1]) > gap_dex / 2 for j in kept):
            kept.append(i)
    return kept


def _both(points: Sequence[Point]) -> list[Point]:
    return [p for p in points if p.compute and p.parameters]


def plot_params_compute(a: Analysis, path: str | Path) -> Path:
    """Every system with both figures; the zoo's systems labelled (`Analysis.zoo_per_parameter`), those the
    dataset lacks placed at the compute and parameters the zoo records."""
    pts = _both(a.selection.points)
    if len(pts) < 2:
        raise ValueError("fewer than two systems have both a parameter count and a training compute")
    with plots._style():
        fig = plots._figure((6.8, 4.8))
        ax = fig.add_subplot()
        doms = [d.domain for d in a.domains][:6]
        colours = {d: PALETTE[i] for i, d in enumerate(doms)}
        for d in [*doms, "other"]:
            sel = [p for p in pts if (p.domain if p.domain in colours else "other") == d]
            if sel:
                ax.scatter([p.parameters for p in sel], [p.compute for p in sel], s=7, lw=0, alpha=0.5,
                           color=colours.get(d, GREY), label=f"{d} ({len(sel)})", zorder=2)
        for source, marker, label in (("dataset", "o", "zoo systems (dataset figures)"),
                                      ("zoo facts", "s", "zoo systems absent from this dataset (zoo's figures)")):
            zoo = [r for r in a.zoo_per_parameter if r.source == source]
            if not zoo:
                continue
            ax.scatter([r.parameters for r in zoo], [r.compute for r in zoo], s=22, marker=marker,
                       facecolor="none", edgecolor=INK, lw=0.8, zorder=4, label=f"{label}: {len(zoo)}")
            for i in _spread([(r.parameters, r.compute) for r in zoo], 0.35):
                ax.annotate(zoo[i].zoo_name, (zoo[i].parameters, zoo[i].compute), xytext=(3, 2),
                            textcoords="offset points", fontsize=5.5, color=INK, zorder=5)
        plots._log_axis(ax, "x")
        plots._log_axis(ax, "y")
        ax.set_xlabel("Parameters")
        ax.set_ylabel("Training compute (FLOP)")
        ax.set_title(f"Parameters vs training compute ({len(pts)} systems)")
        ax.legend(loc="upper left", fontsize=6.5)
        return plots.save_figure(fig, path)


def plot_per_parameter(a: Analysis, path: str | Path, top: int = 8) -> Path:
    pts = _both(a.selection.points)
    doms = [r.domain for r in a.per_parameter if r.n >= 3][:top]
    if not doms:
        raise ValueError("no domain has three systems with both a parameter count and a training compute")
    with plots._style():
        fig = plots._figure((6.8, 4.4))
        ax = fig.add_subplot()
        data = [[p.compute / p.parameters for p in pts if p.domain == d] for d in doms]
        ax.boxplot(data, positions=range(len(doms)), widths=0.5, showfliers=False, whis=(10, 90),
                   medianprops={"color": INK}, manage_ticks=False)
        rng = np.random.default_rng(0)
        for i, (d, vals) in enumerate(zip(doms, data)):
            ax.scatter(i + rng.uniform(-0.18, 0.18, len(vals)), vals, s=5, color=GREY, alpha=0.5, lw=0, zorder=2)
            mine = sorted((r for r in a.zoo_per_parameter if r.domain == d), key=lambda r: r.compute_per_parameter)
            if not mine:
                continue
            ax.scatter([i] * len(mine), [r.compute_per_parameter for r in mine], s=16, color=LARGE, zorder=4,
                       marker="o", lw=0)
            groups: list[list[Any]] = []  # systems within 0.3 dex of the group's first share one label
            for r in mine:
                if groups and np.log10(r.compute_per_parameter / groups[-1][0].compute_per_parameter) < 0.3:
                    groups[-1].append(r)
                else:
                    groups.append([r])
            for g in groups:
                text = f"{g[-1].zoo_name} ({g[-1].forward_flop_per_parameter:.3g}/fwd)"  # the group's largest
                text += f" +{len(g) - 1}" if len(g) > 1 else ""
                ax.annotate(text, (i, g[-1].compute_per_parameter), xytext=(5, 0), textcoords="offset points",
                            fontsize=5, va="center", zorder=5)
        ax.set_yscale("log")
        plots._log_axis(ax, "y")
        ax.set_xticks(range(len(doms)))
        ax.set_xticklabels([f"{d}\nn={len(v)}" for d, v in zip(doms, data)], fontsize=7)
        ax.set_ylabel("Training compute per parameter (FLOP)")
        ax.set_title("Compute per parameter; zoo: counted forward FLOP per parameter per example")
        return plots.save_figure(fig, path)


def draw_all(a: Analysis, out: str | Path) -> tuple[dict[str, Path], dict[str, str]]:
    """Every figure of `FIGURES` into `out`: (drawn stem -> path, not drawn stem -> why)."""
    out = Path(out)
    paper = next((e for e in a.eras if e.era.name == "large-scale"), None)
    jobs = {
        "trends_eras": lambda p: plot_eras(a, p),
        "trends_records": lambda p: plot_records(a, p),
        "trends_sensitivity": lambda p: plot_sensitivity(a, p, paper),
        "trends_params_compute": lambda p: plot_params_compute(a, p),
        "trends_per_parameter": lambda p: plot_per_parameter(a, p),
    }
    drawn, skipped = {}, {}
    for stem, job in jobs.items():
        target = out / f"{stem}.png"
        for old in (target, target.with_suffix(".svg")):
            old.unlink(missing_ok=True)
        try:
            drawn[stem] = job(target)
        except ValueError as e:
            skipped[stem] = str(e)
    return drawn, skipped
