"""`harness estimate`: both estimation methods for every row of a dataset."""

from __future__ import annotations

import sys
from typing import Any

import typer

from harness.cli._common import FORMATS, app, choose, fail


def load_defaults_or_fail(path: str | None) -> list[Any]:
    """The defaults table at `path` (None: the shipped one), or one line naming the file and the fix."""
    from pathlib import Path

    from harness.estimate.defaults import DefaultsError, load_defaults

    if path is not None and Path(path).is_dir():
        fail(f"--defaults {path} is a directory: pass a defaults CSV written by `harness calibrate`")
    try:
        return load_defaults(path)
    except DefaultsError as e:
        fail(str(e).splitlines()[0])
    except UnicodeDecodeError:
        fail(f"--defaults {path} is not a defaults table (not UTF-8 text): pass a CSV written by `harness calibrate`")
    except OSError as e:
        fail(f"cannot read --defaults {path} ({e.strerror or type(e).__name__}); check the path and its permissions")
    except Exception as e:  # noqa: BLE001 - csv.Error and the like: the file is not a defaults CSV
        fail(f"--defaults {path} is not a defaults table ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); "
             "pass a CSV written by `harness calibrate`")


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

    choose(fmt, FORMATS, "format")
    try:
        systems = load_systems(dataset)
    except DatasetError as e:
        fail(str(e).splitlines()[0])
    table = load_defaults_or_fail(defaults)
    rows = [estimate_row(r, table) for r in systems.rows]
    for rej in systems.rejected:
        typer.echo(f"skipped line {rej.line} ({rej.model or 'no name'}): {rej.reason}", err=True)
    render(rows, fmt, sys.stdout, title=f"{len(rows)} systems from {dataset}")
