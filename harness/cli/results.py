"""`harness results`: export the stored measurements."""

from __future__ import annotations

import sys

import typer

from harness.cli._common import app, choose, fail


@app.command()
def results(
    db: str = typer.Option(None, "--db", help="results database (default: HARNESS_DB or the user data directory)"),
    fmt: str = typer.Option("csv", "--format", help="csv | parquet | json"),
    out: str = typer.Option(None, "--out", help="file to write (required for parquet; else standard output)"),
    model: str = typer.Option(None, "--model", help="only this model's rows"),
) -> None:
    """Export the stored measurements."""
    choose(fmt, ("csv", "parquet", "json"), "format")
    if fmt == "parquet" and not out:
        fail("parquet needs a file: pass --out results.parquet")
    from harness.store import Store, StoreError

    filters = {"model": model} if model else {}
    try:
        with Store(db) as store:
            if out:
                n = store.export(out, fmt, **filters)
                typer.echo(f"wrote {n} rows to {out}", err=True)
                return
            frame = store.frame(**filters)
    except StoreError as e:
        fail(str(e))
    if fmt == "csv":
        frame.to_csv(sys.stdout, index=False)
    else:
        frame.to_json(sys.stdout, orient="records", indent=1)
        sys.stdout.write("\n")
