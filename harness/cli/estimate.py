"""`harness estimate`: both estimation methods for every row of a dataset."""

from __future__ import annotations

import sys

import typer

from harness.cli._common import FORMATS, app, choose, fail


@app.command()
def estimate(
    dataset: str = typer.Option(..., "--dataset", help="a CSV in the Epoch 'all ML systems' schema"),
    defaults: str = typer.Option(None, "--defaults", help="a defaults table (default: results/utilisation_defaults.csv)"),
    fmt: str = typer.Option("table", "--format", help="table | csv | json"),
) -> None:
    """Both estimation methods for every row of a dataset, the implied utilisation and the flags."""
    import csv
    import json

    from harness.estimate.apply import estimate_row
    from harness.estimate.dataset import DatasetError, load_systems
    from harness.estimate.defaults import DefaultsError, load_defaults

    choose(fmt, FORMATS, "format")
    try:
        systems = load_systems(dataset)
        table = load_defaults(defaults)
    except (DatasetError, DefaultsError) as e:
        fail(str(e))
    rows = [estimate_row(r, table) for r in systems.rows]
    for rej in systems.rejected:
        typer.echo(f"skipped line {rej.line} ({rej.model}): {rej.reason}", err=True)
    cols = ["Model", "compute", "compute_method1", "compute_method2", "compute_method2_low", "compute_method2_high",
            "implied_utilisation", "flags"]
    if fmt == "json":
        json.dump(rows, sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
    elif fmt == "csv":
        w = csv.DictWriter(sys.stdout, fieldnames=cols + ["utilisation_used", "utilisation_source", "peak_rule"], extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    else:
        from rich.console import Console
        from rich.table import Table

        t = Table(title=f"{len(rows)} systems from {dataset}")
        for c in cols:
            t.add_column(c)
        g = lambda v: "-" if v is None else (f"{v:.3g}" if isinstance(v, float) else str(v))  # noqa: E731
        for r in rows:
            t.add_row(*(g(r.get(c)) for c in cols))
        Console(file=sys.stdout, width=220).print(t)
