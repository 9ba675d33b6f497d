"""`harness report`: plots and an HTML page."""

from __future__ import annotations

import typer

from harness.cli._common import app, fail


@app.command()
def report(
    dataset: str = typer.Option(..., "--dataset", help="a CSV in the Epoch 'all ML systems' schema"),
    out: str = typer.Option("report", "--out", help="folder for the figures and index.html"),
    defaults: str = typer.Option(None, "--defaults", help="a defaults table (default: results/utilisation_defaults.csv)"),
    db: str = typer.Option(None, "--db", help="a results database whose runs are summarised"),
    evaluate: bool = typer.Option(False, "--evaluate", help="include the leave-one-out evaluation (about a minute)"),
    zoo: bool = typer.Option(False, "--zoo", help="trends: count the zoo's forwards for compute per parameter (~30 s)"),
) -> None:
    """Plots a researcher would put in a paper, and an HTML page bundling them with the tables."""
    from rich.console import Console

    from harness.estimate.dataset import DatasetError
    from harness.estimate.defaults import DefaultsError
    from harness.report.html import build_report

    try:
        with Console(stderr=True).status("drawing the report ..."):
            page = build_report(dataset, defaults, db, out_dir=out, evaluate=evaluate, zoo=zoo)
    except (DatasetError, DefaultsError, ValueError, OSError) as e:
        fail(str(e).splitlines()[0])
    typer.echo(f"wrote {page}")
