"""`harness estimate`: both estimation methods for every row of a dataset."""

from __future__ import annotations

import sys
from typing import Any

import typer

from harness.cli._common import FORMATS, app, choose, fail


def load_defaults_or_fail(path: str | None) -> list[Any]:
    """The defaults table at `path` (None: the shipped one), or one line naming the file and the fix."""
    from harness.estimate.defaults import DefaultsError, load_defaults

    try:
        return load_defaults(path)
    except DefaultsError as e:
        fail(str(e).splitlines()[0])
    except OSError as e:
        fail(f"cannot read --defaults {path} ({(e.strerror or type(e).__name__).lower()}); "
             "check the path and its permissions")


@app.command()
def estimate(
    dataset: str = typer.Option(..., "--dataset", help="a CSV in the Epoch 'all ML systems' schema"),
    defaults: str = typer.Option(None, "--defaults", help="a defaults table (default: the shipped calibrated table)"),
    fmt: str = typer.Option("table", "--format", help="table | csv | json"),
) -> None:
    """Both estimation methods for every row of a dataset, the implied utilisation and the flags."""
    from harness.estimate.apply import estimate_row
    from harness.estimate.dataset import DatasetError, load_systems
    from harness.report.estimate_view import render

    if not dataset.strip():
        fail("--dataset is empty: give the path of a CSV in the Epoch 'all ML systems' schema")
    choose(fmt, FORMATS, "format")
    try:
        systems = load_systems(dataset)
    except DatasetError as e:
        fail(str(e).splitlines()[0])
    table = load_defaults_or_fail(defaults)
    try:
        rows = [estimate_row(r, table) for r in systems.rows]
    except ValueError as e:  # a defaults row outside 0 < low <= utilisation <= high <= 1
        fail(f"--defaults {defaults or '(shipped table)'}: {str(e).splitlines()[0]}; "
             "pass a table written by `harness calibrate`")
    for rej in systems.rejected:
        typer.echo(f"skipped line {rej.line} ({rej.model or 'no name'}): {rej.reason}", err=True)
    render(rows, fmt, sys.stdout, title=f"{len(rows)} systems from {dataset}")
