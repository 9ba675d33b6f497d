"""`harness trends`: growth of training compute or parameters over time, by era and domain."""

from __future__ import annotations

import math
import shlex
import sys
from typing import Any

import typer

from harness.cli._common import FORMATS, app, choose, fail

METRICS = ("compute", "parameters")
MAX_BOOTS = 100_000  # 1000 refits take seconds; a million would run for hours


def _year(text: str | None, what: str) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        fail(f"{what} must be a whole year such as 2015, not {text!r}")
    if not 1900 <= value <= 9999:
        fail(f"{what} must be a year from 1900 to 9999, not {value}")
    return value


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        fail(f"--large-scale-threshold must be a non-negative number of standard deviations, not {text!r}")
    return value


def _whole(text: str, what: str, minimum: int, maximum: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        fail(f"{what} must be a whole number of at least {minimum}, not {text!r}")
    if maximum is not None and value > maximum:
        fail(f"{what} must be at most {maximum:,}, not {text}")
    return value


@app.command()
def trends(
    dataset: str = typer.Option(..., "--dataset", help="a CSV in the Epoch 'all ML systems' schema"),
    metric: str = typer.Option("compute", "--metric", help="compute | parameters"),
    domain: list[str] = typer.Option(None, "--domain", help="keep systems whose first domain is this "
                                     "(repeat, or a comma list)"),
    since: str = typer.Option(None, "--since", help="first publication year kept"),
    until: str = typer.Option(None, "--until", help="last publication year kept"),
    record_setters: bool = typer.Option(False, "--record-setters", help="fit each domain's record-setters"),
    exclude_moe: bool = typer.Option(False, "--exclude-moe", help="dense-only: leave mixture-of-experts "
                                     "systems out (and list them)"),
    threshold: str = typer.Option("0.72", "--large-scale-threshold", help="standard deviations above the "
                                  "2-year neighbourhood that make a system large-scale"),
    zoo: bool = typer.Option(True, "--zoo/--no-zoo", help="count the zoo's forwards for compute per "
                             "parameter (about 30 s on 2 CPU cores)"),
    boots: str = typer.Option("1000", "--boots", help="bootstrap refits per interval"),
    seed: str = typer.Option("0", "--seed", help="bootstrap seed"),
    fmt: str = typer.Option("table", "--format", help="table | json | csv"),
    out: str = typer.Option(None, "--out", help="also write trends.md and its figures into this folder"),
    machine: str = typer.Option(None, "--machine", help="the machine named on the --out page "
                                "(default: the CPU architecture and core count)"),
) -> None:
    """Log-space trends with 90% bootstrap intervals: eras (beside Sevilla et al. 2022), domains,
    record-setters, the large-scale split and its threshold sensitivity, compute per parameter."""
    from harness.estimate.dataset import DatasetError, load_systems
    from harness.estimate.trend_analysis import analyse
    from harness.estimate.trend_data import select

    choose(fmt, FORMATS, "format")
    choose(metric, METRICS, "metric")
    first, last = _year(since, "--since"), _year(until, "--until")
    if first is not None and last is not None and first > last:
        fail(f"--since {first} is after --until {last}; give the earlier year first")
    th = _threshold(threshold)
    n_boots, n_seed = _whole(boots, "--boots", 1, MAX_BOOTS), _whole(seed, "--seed", 0)
    domains = [d.strip() for item in (domain or []) for d in item.split(",") if d.strip()] or None
    if domain and not domains:
        fail("--domain is empty: give a domain such as language, or leave --domain out for all of them")
    if out is not None and not out.strip():
        fail("--out is empty: give the folder for trends.md and its figures, or leave --out out")
    if machine is not None and out is None:
        fail("--machine names the machine on the --out page: add --out DIR, or drop --machine")
    try:
        systems = load_systems(dataset)
    except DatasetError as e:
        fail(str(e).splitlines()[0])
    for rej in systems.rejected:
        typer.echo(f"skipped line {rej.line} ({rej.model}): {rej.reason}", err=True)
    sel_since = None if first is None else float(first)
    sel_until = None if last is None else float(last + 1)  # --until is inclusive: all of that year
    sel = select(systems.rows, metric, domains=domains, since=sel_since, until=sel_until, exclude_moe=exclude_moe)
    if len(sel.points) < 2:
        what = f" in domain(s) {', '.join(domains)}" if domains else ""
        fail(f"{len(sel.points)} systems with a date and a {metric}{what} in the years asked; a trend needs "
             "at least two: widen --domain, --since or --until")
    forwards = []
    if zoo:
        from rich.console import Console

        from harness.report.trends_zoo import zoo_forwards

        with Console(stderr=True).status("counting the zoo's forward passes on the meta device ..."):
            forwards = zoo_forwards()
    analysis = analyse(sel, threshold=th, record_setters=record_setters, zoo=forwards, boots=n_boots,
                       seed=n_seed)
    if out is not None:
        from harness.report.trends_page import write_markdown

        dense = None
        if not exclude_moe:  # the page sets the dense-only trends beside the full ones
            dense = analyse(select(systems.rows, metric, domains=domains, since=sel_since, until=sel_until,
                                   exclude_moe=True), threshold=th, boots=n_boots, seed=n_seed)
        try:
            page = write_markdown(analysis, out, dataset=dataset, dense=dense, machine=machine,
                                  command=shlex.join(["harness", *sys.argv[1:]]))
        except NotADirectoryError:
            fail(f"cannot write into {out}: a file is in the way of that folder; pass --out a folder")
        except OSError as e:
            fail(f"cannot write into {out}: {e.strerror or e}; pass --out a folder you can write to")
        typer.echo(f"wrote {page}", err=True)
    _print(analysis, fmt)


def _print(analysis: Any, fmt: str) -> None:
    import json

    from harness.report import trends_view

    if fmt == "json":
        json.dump(analysis.to_dict(), sys.stdout, indent=1, default=str, allow_nan=False)
        sys.stdout.write("\n")
    elif fmt == "csv":
        trends_view.write_csv(analysis, sys.stdout)
    else:
        trends_view.print_tables(analysis)
