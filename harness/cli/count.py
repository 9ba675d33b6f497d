"""`harness count`: the FLOP of one step, by category, phase and module."""

from __future__ import annotations

import sys

import typer

from harness.cli._common import FORMATS, PHASES, app, check_device, choose, fail


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
        from rich.console import Console

        from harness.counting.reconcile import reconcile

        with Console(stderr=True).status("running the other counters and their coverage probes ..."):
            rows = reconcile(net, inputs, names, ours=result if phase == "forward" else None)
    render(entry.name, result, rows, fmt, sys.stdout)
