"""The `harness` command line."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Count, measure and reconcile the FLOP of ML models (1 multiply-accumulate = 2 FLOP).",
)

FORMATS = ("table", "json", "csv")
DEVICES = ("meta", "cpu", "cuda")
PHASES = ("forward", "train")


def fail(message: str) -> NoReturn:
    """One line on stderr, exit code 2, no traceback."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def choose(value: str, valid: tuple[str, ...], what: str) -> str:
    if value not in valid:
        fail(f"unknown {what} {value!r}; choose one of: {', '.join(valid)}")
    return value


def check_device(device: str) -> str:
    import torch

    choose(device, DEVICES, "device")
    if device == "cuda" and not torch.cuda.is_available():
        fail("device 'cuda' is not available on this machine; choose meta or cpu")
    return device


@app.callback()
def main() -> None:
    """Count, measure and reconcile the FLOP of ML models (1 multiply-accumulate = 2 FLOP)."""


@app.command()
def count(
    model: str = typer.Argument(..., help="a name from the model registry"),
    batch: int = typer.Option(None, "--batch", help="batch size (default: the model's)"),
    seq: int = typer.Option(None, "--seq", help="sequence length (default: the model's)"),
    phase: str = typer.Option("forward", "--phase", help="forward | train"),
    optimizer: str = typer.Option("adam", "--optimizer", help="train only: sgd | adam | adamw | none"),
    device: str = typer.Option("meta", "--device", help="meta | cpu | cuda"),
    counters: str = typer.Option("own", "--counters", help="own | all | a comma list of counters"),
    attention: str = typer.Option("full", "--attention", help="causal attention as the full square or the causal triangle"),
    fmt: str = typer.Option("table", "--format", help="table | json | csv"),
) -> None:
    """Count the FLOP of one step of MODEL, by category, phase and module."""
    import models
    from harness.conventions import OPTIMIZER_PER_PARAM
    from harness.counting.adapters import ADAPTERS

    choose(phase, PHASES, "phase")
    choose(fmt, FORMATS, "format")
    choose(attention, ("full", "causal"), "attention convention")
    choose(optimizer, (*OPTIMIZER_PER_PARAM, "none"), "optimizer")
    check_device(device)
    names: list[str] | None = []
    if counters == "all":
        names = None
    elif counters != "own":
        names = [c.strip() for c in counters.split(",") if c.strip()]
        for n in names:
            choose(n, ("own", "all", *ADAPTERS), "counter")
        names = [n for n in names if n != "own"]
    try:
        entry = models.get(model)
        inputs = entry.inputs(batch, seq, device)
    except models.ModelInputError as e:
        fail(str(e))

    from harness.counting.api import count_flops
    from harness.report.count_view import render

    net = entry.build(device)
    result = count_flops(
        net,
        inputs,
        phase=phase,  # type: ignore[arg-type]
        optimizer=None if phase == "forward" or optimizer == "none" else optimizer,
        attention=attention,  # type: ignore[arg-type]
    )
    rows = []
    if names is None or names:
        from harness.counting.reconcile import reconcile

        rows = reconcile(net, inputs, names, ours=result if phase == "forward" else None)
    render(entry.name, result, rows, fmt, sys.stdout)


@app.command()
def zoo(fmt: str = typer.Option("table", "--format", help="table | json")) -> None:
    """List every reference architecture: parameters counted and published, dataset name."""
    choose(fmt, ("table", "json"), "format")
    from harness.report.zoo_view import render, zoo_rows

    render(zoo_rows(), fmt, sys.stdout)


def run() -> None:
    app()


if __name__ == "__main__":
    run()
