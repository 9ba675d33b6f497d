"""`harness results`: export the stored measurements."""

from __future__ import annotations

import sys

import typer

from harness.cli._common import app, choose, fail


@app.command()
def results(
    db: str = typer.Option(None, "--db", help="results database (default: HARNESS_DB or the user data directory)"),
    fmt: str = typer.Option(None, "--format", help="csv | parquet | json (default: the --out suffix's, else csv)"),
    out: str = typer.Option(None, "--out", help="file to write (required for parquet; else standard output)"),
    model: str = typer.Option(None, "--model", help="only this model's rows"),
) -> None:
    """Export the stored measurements."""
    from harness.store import Store, StoreError, check_writable, export_format

    if fmt is not None:
        choose(fmt, ("csv", "parquet", "json"), "format")
    if out is None and fmt == "parquet":
        fail("parquet needs a file: pass --out results.parquet")
    filters = {"model": model} if model else {}
    try:
        if out is not None:
            from pathlib import Path

            fmt = export_format(out, fmt)
            check_writable(Path(out).expanduser())  # before the database is opened: nothing half-done
        with Store(db, create=False) as store:
            if out:
                n = store.export(out, fmt, **filters)
                typer.echo(f"wrote {n} rows to {out} ({fmt})", err=True)
                return
            frame = store.frame(**filters)
    except (StoreError, ValueError) as e:
        fail(str(e))
    if (fmt or "csv") == "csv":
        frame.to_csv(sys.stdout, index=False)
    else:
        frame.to_json(sys.stdout, orient="records", indent=1)
        sys.stdout.write("\n")
