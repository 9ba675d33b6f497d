"""`harness count`: the FLOP of one step, by category, phase and module."""

from __future__ import annotations

import sys

import typer

from harness.cli._common import FORMATS, MAX_BATCH, PHASES, app, check_device, choose, fail

CPU_COUNTERS_MAX_PARAMS = 2_000_000_000  # other counters run on CPU for a meta count: up to this size (8 GB fp32)


@app.command()
def count(
    model: str = typer.Argument(..., help="a zoo name, FILE.py:FUNCTION, package.module:FUNCTION or hf:PATH/config.json"),
    batch: int = typer.Option(None, "--batch", help="batch size (default: the model's)"),
    seq: int = typer.Option(None, "--seq", help="sequence length (default: the model's)"),
    phase: str = typer.Option("forward", "--phase", help="forward | train"),
    optimizer: str = typer.Option(None, "--optimizer", help="train only: sgd | adam | adamw | none (default adam)"),
    device: str = typer.Option("meta", "--device", help="meta | cpu | cuda"),
    counters: str = typer.Option("own", "--counters", help="own | all | a comma list of counters"),
    attention: str = typer.Option("full", "--attention", help="masked attention as the full square or only the kept (causal) pairs"),
    overrides: list[str] = typer.Option([], "--set", help="hf: sources: change a config field, key=value (repeatable)"),
    fmt: str = typer.Option("table", "--format", help="table | json | csv"),
) -> None:
    """Count the FLOP of one step of MODEL, by category, phase and module."""
    from harness.conventions import OPTIMIZER_PER_PARAM
    from harness.counting.adapters import ADAPTERS

    choose(phase, PHASES, "phase")
    choose(fmt, FORMATS, "format")
    choose(attention, ("full", "causal"), "attention convention")
    if optimizer is not None:
        choose(optimizer, (*OPTIMIZER_PER_PARAM, "none"), "optimizer")
        if phase == "forward":
            fail(f"--optimizer {optimizer} counts an optimizer step, which only a training step has; add --phase train or drop --optimizer")
    check_device(device)
    for value, flag in ((batch, "--batch"), (seq, "--seq")):
        if value is not None and value > MAX_BATCH:
            fail(f"{flag} {value} is too large to count: at most {MAX_BATCH:,}")
    names: list[str] | None = []
    if counters == "all":
        names = None
    elif counters != "own":
        names = [c.strip() for c in counters.split(",") if c.strip()]
        if not names:
            fail("--counters is empty: give own, all or a comma list of counters")
        for n in names:
            choose(n, ("own", "all", *ADAPTERS), "counter")
        names = [n for n in names if n != "own"]

    train = phase == "train"
    source = _resolve(model, overrides)
    if device != "meta":
        _check_fits(source, batch, seq, device, train)
    loaded = _load(source, batch, seq, device, train)

    from harness.counting.api import CountError, count_flops
    from harness.report.count_view import render

    try:
        result = count_flops(
            loaded.module,
            loaded.inputs,
            phase=phase,  # type: ignore[arg-type]
            optimizer=None if not train or optimizer == "none" else (optimizer or "adam"),
            attention=attention,  # type: ignore[arg-type]
            hint=loaded.attention,
        )
    except CountError as e:
        fail(str(e))
    except Exception as e:  # noqa: BLE001 - the model's own code runs here: one line, never a traceback
        text = (str(e).splitlines() or [""])[0][:200]
        if "overflow" in text.lower() or "too large" in text.lower() or "size" in text.lower():
            fail(f"batch {batch}, seq {seq} is too large to count ({text}); try a smaller --batch or --seq")
        fail(f"counting {loaded.name} failed: {type(e).__name__}: {text}")
    if loaded.notes:
        from dataclasses import replace

        result = replace(result, notes=(*result.notes, *loaded.notes))
    rows = []
    counters_device = None
    if names is None or names:
        rows, counters_device = _other_counters(source, loaded, names, result if phase == "forward" else None, batch, seq, train)
    render(loaded.name, result, rows, fmt, sys.stdout, counters_device=counters_device)
    if fmt == "table" and source.kind == "zoo":
        from harness.report.counted_view import zoo_paper_form_lines

        typer.echo("\n".join(zoo_paper_form_lines(loaded.name, loaded.module, loaded.inputs, dict(result.by_phase))))


def _resolve(model: str, overrides: list[str]) -> object:
    from harness.sources import SourceError, resolve

    try:
        return resolve(model, overrides)
    except SourceError as e:
        fail(str(e))


def _load(source: object, batch: int | None, seq: int | None, device: str, train: bool) -> object:
    from harness.sources import SourceError

    try:
        return source.load(batch, seq, device, train=train)  # type: ignore[attr-defined]
    except SourceError as e:
        fail(str(e))
    except (RuntimeError, ValueError, OverflowError) as e:  # a size torch cannot hold
        first = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        fail(f"cannot build {source.spec} at batch {batch}, seq {seq}: {first}; try a smaller --batch or --seq")  # type: ignore[attr-defined]


def _free_bytes(device: str) -> int:
    import os

    import torch

    if device == "cuda":
        return torch.cuda.mem_get_info()[0]
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def _check_fits(source: object, batch: int | None, seq: int | None, device: str, train: bool) -> None:
    """Refuse, before building, a model whose weights (and gradients, for a training step) alone
    exceed the device's free memory: the meta device counts it without allocating anything.
    A source that cannot be built on meta is left to the real build."""
    from harness.sources import SourceError

    try:
        params = list(source.load(batch, seq, "meta", train=train).module.parameters())  # type: ignore[attr-defined]
    except (SourceError, RuntimeError, ValueError, OverflowError):
        return
    need = sum(p.numel() * p.element_size() for p in params) * (2 if train else 1)
    free = _free_bytes(device)
    if need > free:
        fail(f"the model needs about {need / 2**30:.1f} GiB for its weights{' and gradients' if train else ''} on {device}, "
             f"and {free / 2**30:.1f} GiB are free; count it on the meta device (the default) instead")


def _other_counters(source: object, loaded: object, names: list[str] | None, ours: object, batch: int | None,
                    seq: int | None, train: bool) -> tuple[list, str]:
    """Reconcile with the other counters. They cannot count on the meta device (their hooks see no
    fused kernels there and some count the math decomposition twice), so a meta count runs them on
    CPU at the same shapes: the harness's own count is the same integer on both."""
    from rich.console import Console

    from harness.counting.adapters import ADAPTERS
    from harness.counting.reconcile import Reconciled, reconcile

    net, inputs = loaded.module, loaded.inputs  # type: ignore[attr-defined]
    device = next((x.device.type for x in inputs if hasattr(x, "device")), "cpu")
    if device == "meta":
        size = sum(p.numel() for p in net.parameters())
        if size > CPU_COUNTERS_MAX_PARAMS:
            why = (f"the other counters cannot run on the meta device and {size:,} parameters are too many to build on CPU; "
                   "count a smaller configuration with --device cpu")
            ours_forward = ours.by_phase["forward"] if ours is not None else 0  # type: ignore[attr-defined]
            return [Reconciled(n, None, ours_forward, None, "", (), why) for n in (names or ADAPTERS)], "cpu"
        with Console(stderr=True).status("building the model on CPU for the other counters ..."):
            cpu = source.load(batch, seq, "cpu", train=train)  # type: ignore[attr-defined]
        net, inputs, device = cpu.module, cpu.inputs, "cpu"
    with Console(stderr=True).status("running the other counters and their coverage probes ..."):
        return reconcile(net, inputs, names, ours=ours), device
