"""`harness zoo`: the reference architectures."""

from __future__ import annotations

import sys

import typer

from harness.cli._common import app, choose


@app.command()
def zoo(fmt: str = typer.Option("table", "--format", help="table | json")) -> None:
    """List every reference architecture: parameters counted and published, dataset name."""
    choose(fmt, ("table", "json"), "format")
    from harness.report.zoo_view import render, zoo_rows

    render(zoo_rows(), fmt, sys.stdout)
