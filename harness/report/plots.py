"""Figures for a paper: the dataset, implied utilisation, calibrated defaults, method 2 vs method 1.

Every plot is a pure function of its data (sequences or DataFrame columns) and an output path: it
writes `path` in the format its suffix names (.png at 150 dpi, or .svg) and the other format beside
it (same stem), and returns `path`. Nothing global is touched: figures are built on matplotlib's
object API with an Agg canvas (pyplot is never imported, no backend is switched), inside one
`rc_context` holding the house style, so plots can be made from any thread or test.

Trends are fitted by `log_trend`: ordinary least squares of log10(y) on log10(x) (or on x itself
for calendar years), i.e. a power law (or an exponential in time) fitted IN LOG SPACE, where the
scatter of these quantities is roughly symmetric. An exponential or power law is never fitted to
raw values: that would let the largest systems decide the whole line. The band is a bootstrap over
systems (resample, refit, percentile band of the fitted line).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "EPOCH_SOURCE",
    "FIXED_RULE_LINES",
    "log_trend",
    "plot_defaults",
    "plot_method2_vs_method1",
    "plot_params_vs_compute",
    "plot_utilisation_by_generation",
    "plot_utilisation_vs_year",
    "save_figure",
]

EPOCH_SOURCE = "Data: Epoch AI (CC-BY 4.0)"
DPI = 150
FIXED_RULE_LINES: tuple[tuple[float, str], ...] = (
    (0.3, "fixed rule 0.3 (language)"),
    (0.4, "fixed rule 0.4 (other)"),
)

# Okabe & Ito (2008): distinguishable with the common colour-vision deficiencies and in greyscale
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
GREY = "#8c8c8c"
INK = "#222222"
EVIDENCE = ("#0072B2", "#bdbdbd")  # calibration evidence, other rows
MEASURED = "#D55E00"

STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.6,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "savefig.dpi": DPI,
    "savefig.bbox": None,  # the constrained layout already fits everything: "tight" would draw twice
    "svg.fonttype": "path",  # self-contained SVG: glyphs as paths, no font needed to view it
    "svg.hashsalt": "compute-harness",  # deterministic ids: the same data gives the same file
}
SIZE = (6.4, 4.2)  # inches


# ---------------------------------------------------------------------------------------- trend fit


def _clean(x: Sequence[float], y: Sequence[float], log_x: bool) -> tuple[np.ndarray, np.ndarray]:
    """Finite pairs with y > 0 (and x > 0 when x is logged), transformed to the fitting space."""
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if xa.shape != ya.shape:
        raise ValueError(f"x and y differ in length ({xa.size} vs {ya.size})")
    ok = np.isfinite(xa) & np.isfinite(ya) & (ya > 0)
    if log_x:
        ok &= xa > 0
    lx = np.log10(xa[ok]) if log_x else xa[ok]
    return lx, np.log10(ya[ok])


def _ols(lx: np.ndarray, ly: np.ndarray) -> tuple[float, float]:
    """Least squares line ly = intercept + slope * lx (closed form, centred for accuracy)."""
    mx, my = lx.mean(), ly.mean()
    dx = lx - mx
    slope = float(np.dot(dx, ly - my) / np.dot(dx, dx))
    return slope, float(my - slope * mx)


def log_trend(x: Sequence[float], y: Sequence[float], boots: int = 200, seed: int = 0, *,
              log_x: bool = True, level: float = 0.90,
              ) -> tuple[float, float, Callable[[Sequence[float]], tuple[np.ndarray, np.ndarray]]]:
    """Fit log10(y) = intercept + slope * log10(x) by least squares in log space.

    With `log_x=False` the regressor is x itself (calendar years): log10(y) = intercept + slope * x,
    an exponential trend in time, still fitted in log space. Pairs with y <= 0 (or x <= 0 when
    logged) or non-finite values are left out: they have no logarithm. Returns
    (slope, intercept, band) where `band(xs) -> (low, high)` gives, in y units, the `level`
    percentile band of the line at `xs` over `boots` bootstrap refits (systems resampled with
    replacement; a resample with fewer than two distinct x is drawn again).
    """
    lx, ly = _clean(x, y, log_x)
    if lx.size < 2 or np.ptp(lx) == 0:
        raise ValueError(f"a trend needs at least two distinct x with positive y; got {lx.size} usable "
                         "points")
    slope, intercept = _ols(lx, ly)
    rng = np.random.default_rng(seed)
    fits = []
    tries = 0
    while len(fits) < boots and tries < 20 * boots:
        tries += 1
        i = rng.integers(0, lx.size, lx.size)
        if np.ptp(lx[i]) == 0:
            continue
        fits.append(_ols(lx[i], ly[i]))
    coef = np.array(fits, dtype=float).reshape(-1, 2)
    tail = (1 - level) / 2 * 100

    def band(xs: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        xa = np.asarray(xs, dtype=float)
        t = np.log10(xa) if log_x else xa
        if not len(coef):
            line = 10 ** (intercept + slope * t)
            return line, line
        lines = coef[:, 1:2] + coef[:, 0:1] * t[None, :]
        lo, hi = np.percentile(lines, [tail, 100 - tail], axis=0)
        return 10 ** lo, 10 ** hi

    return slope, intercept, band


# ---------------------------------------------------------------------------------------- plumbing


def _figure(size: tuple[float, float] = SIZE) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Any, path: str | Path, source: str | None = EPOCH_SOURCE) -> Path:
    """Write `path` (.png at 150 dpi or .svg) and the other format beside it; the source line first."""
    p = Path(path)
    if p.suffix.lower() not in (".png", ".svg"):
        raise ValueError(f"{p}: a figure is written as .png or .svg, not {p.suffix or 'no suffix'!r}")
    if source and fig.axes:
        # under the x label, flush with the axes' right edge: an axes child, so the layout makes room
        ax = fig.axes[0]
        ax.annotate(source, xy=(1, 0), xycoords=("axes fraction", ax.xaxis.label), xytext=(0, -2),
                    textcoords="offset points", ha="right", va="top", fontsize=6.5, color=GREY)
    p.parent.mkdir(parents=True, exist_ok=True)
    other = p.with_suffix(".svg" if p.suffix.lower() == ".png" else ".png")
    fig.savefig(p, dpi=DPI, metadata=_metadata(p))
    fig.set_layout_engine("none")  # the first save laid the figure out; the second reuses it (half the time)
    fig.savefig(other, dpi=DPI, metadata=_metadata(other))
    return p


_SUPERSCRIPT = str.maketrans("-0123456789",
                             "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def _power_label(value: float, _pos: int | None = None) -> str:
    """10^k as plain text with superscript digits ("10¹⁸"): no mathtext, which is slow to lay out."""
    if value <= 0:
        return ""
    k = math.log10(value)
    if abs(k - round(k)) > 1e-9:
        return ""
    return "10" + str(round(k)).translate(_SUPERSCRIPT)


def _log_axis(ax: Any, which: str, labels: str = "power") -> None:
    """Put `ax`'s x or y axis on a log scale with plain-text tick labels (mathtext is slow to lay out),
    once its limits are final. "power": 10¹⁸ at the decades (FLOP, parameters); "plain": 0.01, 0.1, 1
    and, over a short range, 0.2, 0.3, 0.5 between them (utilisation). Minor ticks only where they
    help: an axis over many decades gets none (thousands of empty tick labels cost seconds a figure)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

    axis = ax.xaxis if which == "x" else ax.yaxis
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    lo, hi = sorted(ax.get_xlim() if which == "x" else ax.get_ylim())
    decades = math.log10(hi / lo) if lo > 0 else math.inf
    if labels == "power":
        axis.set_major_formatter(FuncFormatter(_power_label))
    else:
        axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    if labels == "plain" and decades <= 2.5:
        axis.set_minor_locator(LogLocator(subs=(2.0, 3.0, 5.0)))
        axis.set_minor_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    elif decades <= 6:
        axis.set_minor_locator(LogLocator(subs=tuple(range(2, 10))))
        axis.set_minor_formatter(NullFormatter())
    else:
        axis.set_minor_locator(NullLocator())


def _metadata(target: Path) -> dict[str, Any]:
    # no creation date: identical data gives identical files (diffable, cacheable)
    if target.suffix.lower() == ".svg":
        return {"Date": None, "Creator": "compute-harness"}
    return {"Software": "compute-harness (matplotlib)"}


def _style() -> Any:
    import matplotlib

    return matplotlib.rc_context(STYLE)


def _fmt_power(slope: float, intercept: float, x: str = "N") -> str:
    """a x^b as mathtext: 9.9e4 N^1.77 -> $9.9\\times10^{4}\\,N^{1.77}$."""
    exponent = math.floor(intercept)
    mantissa = 10 ** (intercept - exponent)
    if f"{mantissa:.2g}" == "10":  # 9.96 rounds up
        mantissa, exponent = 1.0, exponent + 1
    return f"${mantissa:.2g}\\times10^{{{exponent}}}\\,{x}^{{{slope:.2f}}}$"


def _positive(v: Any) -> bool:
    """A finite number > 0 (None, NaN, text and pandas' NA are not)."""
    try:
        return v is not None and math.isfinite(float(v)) and float(v) > 0
    except (TypeError, ValueError):
        return False


def _positive_pairs(*columns: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Rows (as tuples across the columns) whose first two entries are finite and positive."""
    return [row for row in zip(*columns) if _positive(row[0]) and _positive(row[1])]


def _reference_lines(ax: Any, horizontal: bool = True) -> None:
    for value, label in FIXED_RULE_LINES:
        style = {"color": INK, "lw": 0.9, "ls": "--" if value == 0.3 else ":", "label": label, "zorder": 1}
        (ax.axhline if horizontal else ax.axvline)(value, **style)


# ---------------------------------------------------------------------------------------- plots


def plot_params_vs_compute(parameters: Sequence[float], compute: Sequence[float],
                           domains: Sequence[str | None], path: str | Path, *, top: int = 6,
                           boots: int = 200, seed: int = 0, source: str | None = EPOCH_SOURCE) -> Path:
    """Training compute against parameters, log-log, coloured by domain (the `top` most frequent,
    the rest as "other"), with a power-law trend fitted in log space and its bootstrap 90% band."""
    pts = _positive_pairs(parameters, compute, domains)
    if not pts:
        raise ValueError("no system has both a positive parameter count and a positive training compute")
    p = np.array([float(r[0]) for r in pts])
    c = np.array([float(r[1]) for r in pts])
    dom = [(r[2] or "unknown").strip().lower() or "unknown" for r in pts]
    ranked = [d for d, _ in Counter(d for d in dom if d not in ("other", "unknown")).most_common(top)]
    colours = {d: PALETTE[i % len(PALETTE)] for i, d in enumerate(ranked)}
    with _style():
        fig = _figure()
        ax = fig.add_subplot()
        for d in [*ranked, "other"]:
            mask = np.array([(x if x in colours else "other") == d for x in dom])
            if mask.any():
                ax.scatter(p[mask], c[mask], s=9, alpha=0.65, lw=0, color=colours.get(d, GREY),
                           label=f"{d} (n={int(mask.sum())})", zorder=2 if d in colours else 1.5)
        if len(set(p)) >= 2:
            slope, intercept, band = log_trend(p, c, boots=boots, seed=seed)
            xs = np.logspace(np.log10(p.min()), np.log10(p.max()), 100)
            lo, hi = band(xs)
            ax.fill_between(xs, lo, hi, color=INK, alpha=0.15, lw=0, zorder=3, label="90% bootstrap band")
            ax.plot(xs, 10 ** (intercept + slope * np.log10(xs)), color=INK, lw=1.3, zorder=4,
                    label=f"log-space fit: C = {_fmt_power(slope, intercept)}")
        _log_axis(ax, "x")
        _log_axis(ax, "y")
        ax.set_xlabel("Parameters (count)")
        ax.set_ylabel("Training compute (FLOP)")
        ax.set_title(f"Training compute vs parameters ({len(p)} systems)")
        ax.legend(loc="upper left", ncol=1, markerscale=1.6)
        return save_figure(fig, path, source)


def _generation_order(generations: Sequence[str], years: Sequence[float | None] | None) -> list[str]:
    """Generations by the median year of their rows (then name); by name without years."""
    names = sorted(set(generations))
    if years is None:
        return names
    per: dict[str, list[float]] = {}
    for g, y in zip(generations, years):
        if _positive(y):
            per.setdefault(g, []).append(float(y))  # type: ignore[arg-type]
    return sorted(names, key=lambda g: (float(np.median(per[g])) if g in per else math.inf, g))


def plot_utilisation_by_generation(generations: Sequence[str | None], utilisations: Sequence[float | None],
                                   path: str | Path, *, evidence: Sequence[bool] | None = None,
                                   years: Sequence[float | None] | None = None, min_n: int = 1,
                                   seed: int = 0, source: str | None = EPOCH_SOURCE) -> Path:
    """Implied utilisation per hardware generation: every row as a jittered dot, a box over the
    calibration evidence (all rows without `evidence`), log y, the 0.3 / 0.4 rule as lines.

    `evidence[i]` marks rows usable for calibration (counted compute or reported MFU, no data-error
    flag); the others (hardware-method compute, flagged) are drawn in grey. Generations are ordered
    by the median of `years` when given; those with fewer than `min_n` rows are left out.
    """
    n = len(generations)
    ev = [True] * n if evidence is None else list(evidence)
    yr = [None] * n if years is None else list(years)
    if not len(utilisations) == len(ev) == len(yr) == n:
        raise ValueError("generations, utilisations, evidence and years differ in length")
    pts = [(float(u), g, bool(e), y)  # type: ignore[arg-type]
           for g, u, e, y in zip(generations, utilisations, ev, yr) if g and _positive(u)]
    if not pts:
        raise ValueError("no row has both a hardware generation and a positive implied utilisation")
    counts = Counter(g for _, g, _, _ in pts)
    keep = {g for g, c in counts.items() if c >= min_n}
    order = [g for g in _generation_order([p[1] for p in pts], None if years is None else [p[3] for p in pts])
             if g in keep]
    pts = [p for p in pts if p[1] in keep]
    rng = np.random.default_rng(seed)
    with _style():
        fig = _figure((max(6.4, 0.42 * len(order) + 1.5), 4.2))
        ax = fig.add_subplot()
        ax.axhspan(1.0, 1e9, color=MEASURED, alpha=0.07, lw=0, zorder=0)
        ax.axhline(1.0, color=MEASURED, lw=0.8, zorder=1, label="peak (above: a data error)")
        _reference_lines(ax)
        boxes, positions = [], []
        seen: set[str] = set()
        for i, g in enumerate(order):
            u = np.array([p[0] for p in pts if p[1] == g])
            e = np.array([p[2] for p in pts if p[1] == g], dtype=bool)
            x = i + rng.uniform(-0.18, 0.18, u.size)
            for mask, colour, label, z in (
                (~e, EVIDENCE[1], "other rows (hardware-method compute or flagged)", 2),
                (e, EVIDENCE[0], "implied utilisation" if evidence is None else "calibration evidence", 3),
            ):
                if mask.any():
                    ax.scatter(x[mask], u[mask], s=10, color=colour, lw=0, alpha=0.8, zorder=z,
                               label=None if label in seen else label)
                    seen.add(label)
            if e.sum() >= 3:
                boxes.append(u[e])
                positions.append(i)
        if boxes:
            ax.boxplot(boxes, positions=positions, widths=0.5, showfliers=False, whis=(10, 90), zorder=4,
                       medianprops={"color": INK, "lw": 1.3}, boxprops={"color": INK, "lw": 0.8},
                       whiskerprops={"color": INK, "lw": 0.8}, capprops={"color": INK, "lw": 0.8},
                       patch_artist=False, manage_ticks=False)
        ax.set_yscale("log")
        allu = np.array([p[0] for p in pts])
        ax.set_ylim(allu.min() / 1.6, max(allu.max() * 1.6, 1.5))
        _log_axis(ax, "y", "plain")
        ax.set_xlim(-0.6, len(order) - 0.4)
        ax.set_xticks(range(len(order)))
        ax.set_xticklabels([f"{g}\nn={counts[g]}" for g in order], rotation=45, ha="right",
                           rotation_mode="anchor", fontsize=7)
        ax.set_xlabel("Hardware generation (ordered by median publication year)" if years is not None
                      else "Hardware generation")
        ax.set_ylabel("Implied utilisation (fraction of dense peak)")
        ax.set_title("Implied utilisation by hardware generation" +
                     (" (boxes: evidence, 10-90% whiskers)" if boxes else ""))
        ax.legend(loc="lower left", ncol=2)
        return save_figure(fig, path, source)


def plot_utilisation_vs_year(years: Sequence[float | None], utilisations: Sequence[float | None],
                             path: str | Path, *, evidence: Sequence[bool] | None = None, boots: int = 200,
                             seed: int = 0, source: str | None = EPOCH_SOURCE) -> Path:
    """Implied utilisation against publication year (log y), with a log-space trend (log10 u linear
    in the year) and its bootstrap 90% band, fitted on the calibration evidence when `evidence` is
    given (the other rows, drawn in grey, mostly restate the utilisation their compute assumed)."""
    ev = [True] * len(years) if evidence is None else list(evidence)
    pts = [(float(u), float(y), bool(e)) for u, y, e in _positive_pairs(utilisations, years, ev)]
    if not pts:
        raise ValueError("no row has both a publication year and a positive implied utilisation")
    u = np.array([p[0] for p in pts])
    y = np.array([p[1] for p in pts])
    e = np.array([p[2] for p in pts], dtype=bool)
    rng = np.random.default_rng(seed)
    xj = y + rng.uniform(-0.3, 0.3, y.size)  # years are whole numbers: jitter to see the dots (not fitted)
    with _style():
        fig = _figure()
        ax = fig.add_subplot()
        ax.axhline(1.0, color=MEASURED, lw=0.8, zorder=1, label="peak (above: a data error)")
        _reference_lines(ax)
        if (~e).any():
            ax.scatter(xj[~e], u[~e], s=10, color=EVIDENCE[1], lw=0, alpha=0.8, zorder=2,
                       label="other rows (hardware-method compute or flagged)")
        ax.scatter(xj[e], u[e], s=12, color=EVIDENCE[0], lw=0, alpha=0.85, zorder=3,
                   label="calibration evidence" if evidence is not None else "implied utilisation")
        if len(set(y[e])) >= 2:
            slope, intercept, band = log_trend(y[e], u[e], boots=boots, seed=seed, log_x=False)
            xs = np.linspace(y[e].min(), y[e].max(), 100)
            lo, hi = band(xs)
            ax.fill_between(xs, lo, hi, color=INK, alpha=0.15, lw=0, zorder=4, label="90% bootstrap band")
            ax.plot(xs, 10 ** (intercept + slope * xs), color=INK, lw=1.3, zorder=5,
                    label=f"log-space fit: x{10 ** slope:.3f} per year")
        _log_axis(ax, "y", "plain")
        ax.set_xlabel("Publication year")
        ax.set_ylabel("Implied utilisation (fraction of dense peak)")
        ax.set_title(f"Implied utilisation over time ({int(e.sum())} evidence rows"
                     + (f", {int((~e).sum())} others)" if (~e).any() else ")"))
        ax.legend(loc="lower left", ncol=2)
        return save_figure(fig, path, source)


def _field(row: Any, name: str) -> Any:
    return row[name] if isinstance(row, dict) else getattr(row, name)


def plot_defaults(rows: Sequence[Any], path: str | Path, *, source: str | None = EPOCH_SOURCE) -> Path:
    """Calibrated utilisation defaults: one point with its interval per group (rows with group,
    utilisation, low, high, n: `DefaultRow`s or dicts), n annotated; groups starting with
    "measured" (the harness's own single-device runs) in another colour; the 0.3 / 0.4 rule as lines."""
    rows = list(rows)
    if not rows:
        raise ValueError("no defaults to plot")
    with _style():
        fig = _figure((6.4, max(2.4, 0.28 * len(rows) + 1.3)))
        ax = fig.add_subplot()
        _reference_lines(ax, horizontal=False)
        ys = np.arange(len(rows))[::-1]
        seen: set[str] = set()
        for yv, r in zip(ys, rows):
            group = str(_field(r, "group"))
            u, lo, hi, n = (float(_field(r, k)) for k in ("utilisation", "low", "high", "n"))
            measured = group.startswith("measured")
            colour = MEASURED if measured else EVIDENCE[0]
            label = "harness runs (single device, MFU)" if measured else "calibrated default (80% interval)"
            ax.errorbar(u, yv, xerr=[[u - lo], [hi - u]], fmt="s" if measured else "o", ms=4.5, color=colour,
                        ecolor=colour, elinewidth=1.2, capsize=2.5, zorder=3,
                        label=None if label in seen else label)
            seen.add(label)
            ax.annotate(f"n={int(n)}", (hi, yv), xytext=(4, 0), textcoords="offset points", va="center",
                        fontsize=7, color=INK)
        ax.set_yticks(ys)
        ax.set_yticklabels([str(_field(r, "group")) for r in rows], fontsize=7.5)
        ax.set_xlim(0, 1.05)
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel("Utilisation (fraction of dense peak FLOP/s)")
        ax.set_title("Utilisation defaults for the hardware method")
        fig.legend(loc="outside lower center", ncol=2)
        return save_figure(fig, path, source)


def plot_method2_vs_method1(reference: Sequence[float | None], central: Sequence[float | None],
                            low: Sequence[float | None], high: Sequence[float | None], path: str | Path, *,
                            evidence: Sequence[bool] | None = None, reference_label: str =
                            "Published training compute (FLOP)", source: str | None = EPOCH_SOURCE) -> Path:
    """Method 2 (hardware x time x utilisation) against the published or counted compute, log-log:
    the central estimate with its low / high range as error bars, the y = x line and the band
    within a factor of 2 shaded. `evidence` marks rows whose reference was counted (not itself a
    hardware-method estimate, which would agree by construction)."""
    ev = [True] * len(reference) if evidence is None else list(evidence)
    pts = [tuple(map(float, r[:4])) + (bool(r[4]),)
           for r in _positive_pairs(reference, central, low, high, ev)]
    if not pts:
        raise ValueError("no row has both a reference compute and a method-2 estimate")
    x, y, lo, hi = (np.array([p[i] for p in pts]) for i in range(4))
    e = np.array([p[4] for p in pts], dtype=bool)
    lo = np.where(np.isfinite(lo) & (lo > 0), np.minimum(lo, y), y)
    hi = np.where(np.isfinite(hi), np.maximum(hi, y), y)
    ratio = np.abs(np.log10(y / x)) <= math.log10(2)
    with _style():
        fig = _figure((5.6, 5.0))
        ax = fig.add_subplot()
        span = np.array([min(x.min(), lo.min()) / 3, max(x.max(), hi.max()) * 3])
        ax.fill_between(span, span / 2, span * 2, color=EVIDENCE[0], alpha=0.10, lw=0, zorder=0,
                        label="within 2x")
        ax.plot(span, span, color=INK, lw=0.9, zorder=1, label="y = x")
        for mask, colour, label in ((~e, EVIDENCE[1], "reference not counted (hardware method or unstated)"),
                                    (e, EVIDENCE[0], "reference counted or reported" if evidence is not None
                                     else "systems")):
            if mask.any():
                within = int(ratio[mask].sum())
                ax.errorbar(x[mask], y[mask], yerr=[y[mask] - lo[mask], hi[mask] - y[mask]], fmt="o", ms=3,
                            color=colour, ecolor=colour, elinewidth=0.6, alpha=0.85, zorder=3 if colour ==
                            EVIDENCE[0] else 2,
                            label=f"{label}: {within}/{int(mask.sum())} within 2x")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(*span)
        ax.set_ylim(*span)
        _log_axis(ax, "x")
        _log_axis(ax, "y")
        ax.set_aspect("equal")
        ax.set_xlabel(reference_label)
        ax.set_ylabel("Method 2: chips x time x peak x utilisation (FLOP)")
        ax.set_title("Hardware-method estimate vs reference compute")
        ax.legend(loc="upper left")
        return save_figure(fig, path, source)
