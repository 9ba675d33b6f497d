"""`harness report`: plots and an HTML page."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli._common import app, fail


def _report_folder(out: str) -> Path:
    """The --out folder, created; one line naming the path and the fix when it cannot be."""
    p = Path(out)
    if p.exists() and not p.is_dir():
        fail(f"--out {out} is a file: give a folder for the figures and index.html")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        why = (e.strerror or type(e).__name__).lower()
        fail(f"cannot create the report folder {out} ({why}); pass --out a folder you can write to")
    return p


@app.command()
def report(
    dataset: str = typer.Option(..., "--dataset", help="a CSV in the Epoch 'all ML systems' schema"),
    out: str = typer.Option("report", "--out", help="folder for the figures and index.html"),
    defaults: str = typer.Option(None, "--defaults", help="a defaults table (default: the shipped calibrated table)"),
    db: str = typer.Option(None, "--db", help="a results database whose runs are summarised "
                                              "(default: the one `harness bench` writes to, when it exists)"),
    evaluate: bool = typer.Option(False, "--evaluate", help="include the leave-one-out evaluation (about a minute)"),
    zoo: bool = typer.Option(False, "--zoo", help="trends: count the zoo's forwards for compute per parameter (~30 s)"),
) -> None:
    """Plots a researcher would put in a paper, and an HTML page bundling them with the tables."""
    from rich.console import Console

    from harness.cli.estimate import load_defaults_or_fail
    from harness.estimate.dataset import DatasetError, load_systems
    from harness.report.html import build_report

    if not dataset.strip():
        fail("--dataset is empty: give the path of a CSV in the Epoch 'all ML systems' schema")
    try:
        load_systems(dataset)  # fail on an unreadable dataset before anything is written
    except DatasetError as e:
        fail(str(e).splitlines()[0])
    if defaults is not None:
        load_defaults_or_fail(defaults)
    if db is None:
        from harness.store import default_path

        default = default_path()
        db = str(default) if default.is_file() else None
    elif Path(db).is_dir():
        fail(f"results database {db} is a directory; pass the --db file of a benchmark run, or leave --db out")
    elif not Path(db).is_file():
        fail(f"results database {db} does not exist; pass the --db of a benchmark run, or leave --db out")
    if not out.strip():
        fail("--out is empty: give the folder for the figures and index.html (default: report)")
    folder = _report_folder(out)
    try:
        with Console(stderr=True).status("drawing the report ..."):
            page = build_report(dataset, defaults, db, out_dir=folder, evaluate=evaluate, zoo=zoo)
    except OSError as e:
        where = e.filename or out
        why = (e.strerror or type(e).__name__).lower()
        fail(f"cannot write {where} ({why}); pass --out a folder you can write to")
    except ValueError as e:  # DatasetError, DefaultsError, ReportError, StoreError: one line each
        fail(str(e).splitlines()[0])
    typer.echo(f"wrote {page}" + (f" (runs from {db})" if db else ""))
