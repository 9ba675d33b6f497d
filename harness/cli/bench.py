"""`harness bench`: measure a step's time and utilisation, single process or through torchrun."""

from __future__ import annotations

import sys
from dataclasses import replace

import typer

from harness.cli._common import FORMATS, app, choose, fail, ints


@app.command()
def bench(
    model: str = typer.Argument(..., help="a name from the model registry (harness zoo lists them)"),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda"),
    precision: str = typer.Option(None, "--precision", help="fp32 | tf32 | bf16 | fp16, or a comma list (default: bf16 on GPU, fp32 on CPU)"),
    batch: str = typer.Option(None, "--batch", help="batch size, or a comma list (default: the model's)"),
    sweep: bool = typer.Option(False, "--sweep", help="batch 1, 2, 4, ... until out of memory or --max-batch"),
    max_batch: int = typer.Option(1024, "--max-batch", help="the largest batch a sweep tries"),
    seq: int = typer.Option(None, "--seq", help="sequence length (default: the model's)"),
    phase: str = typer.Option("train", "--phase", help="train (forward, backward, AdamW step) | inference"),
    steps: int = typer.Option(10, "--steps", help="timed steps per configuration"),
    warmup: int = typer.Option(3, "--warmup", help="untimed steps first"),
    compile_: bool = typer.Option(False, "--compile", help="torch.compile the model (FLOP are counted uncompiled)"),
    checkpointing: bool = typer.Option(False, "--checkpointing", help="recompute each block in the backward; reports HFU too"),
    db: str = typer.Option(None, "--db", help="results database (default: HARNESS_DB or the user data directory)"),
    no_db: bool = typer.Option(False, "--no-db", help="store nothing"),
    nproc: int = typer.Option(1, "--nproc", help="processes (devices) for a data-parallel run through torchrun"),
    strategy: str = typer.Option("ddp", "--strategy", help="with --nproc: ddp | fsdp"),
    timeout_s: int = typer.Option(600, "--timeout", help="with --nproc: seconds before a stuck job is ended"),
    fmt: str = typer.Option("table", "--format", help="table | json | csv"),
) -> None:
    """Measure what one training (or inference) step costs here and its utilisation (MFU)."""
    import models
    from harness.measure import bench as B
    from harness.measure import precision as P
    from harness.measure.runner import BenchConfig

    choose(fmt, FORMATS, "format")
    choose(phase, ("train", "inference"), "phase")
    if steps < 1 or warmup < 0:
        fail("--steps must be at least 1 and --warmup at least 0")
    try:
        dev = B.resolve_device(device)
        entry = models.get(model)
        precisions = (precision or ("bf16" if dev.type == "cuda" else "fp32")).split(",")
        for p in precisions:
            P.get(p, dev)
        batches = ints(batch, "--batch") or [entry.default_batch]
        for b in batches:
            entry.inputs(b, seq, "meta")
    except (B.DeviceError, models.ModelInputError, P.PrecisionError) as e:
        fail(str(e))
    base = BenchConfig(model, batches[0], seq, phase, precisions[0], compile_, checkpointing, str(dev), warmup, steps)  # type: ignore[arg-type]
    if nproc != 1 or strategy != "ddp":
        _distributed(base, nproc, strategy, timeout_s, db, no_db, fmt, sweep, len(batches) * len(precisions))
        return
    if checkpointing:
        from harness.measure.runner import apply_checkpointing

        try:
            apply_checkpointing(entry.build("meta"))
        except ValueError as e:
            fail(str(e))
    # one group per precision: a sweep stops its own group at the first out-of-memory
    groups = [
        list(B.sweep(replace(base, precision=p), max_batch)) if sweep else [replace(base, precision=p, batch=b) for b in batches]
        for p in precisions
    ]
    store = None
    if not no_db:
        from harness.store import Store, StoreError

        try:
            store = Store(db)
        except StoreError as e:
            fail(str(e))
    from harness.report.bench_view import render
    from harness.store import provenance

    rows = _run_with_progress(groups, store, sweep)
    if store is not None:
        store.close()
    if not rows:
        typer.echo("nothing to measure: every configuration is already in the database (pass --no-db to measure again)", err=True)
        return
    render(rows, fmt, sys.stdout)
    prov = provenance(dev)
    typer.echo(f"device {prov['device_name']}, torch {prov['torch_version']}, commit {prov['project_commit']}", err=True)


def _distributed(base: object, nproc: int, strategy: str, timeout_s: int, db: str | None, no_db: bool,
                 fmt: str, sweep: bool, configs: int) -> None:
    """`bench --nproc N`: one torchrun job; rank 0 stores one row and reports it."""
    from rich.console import Console

    from harness.measure.distributed import DistError, launch
    from harness.report.bench_view import render

    choose(strategy, ("ddp", "fsdp"), "strategy")
    if nproc < 1:
        fail("--nproc must be at least 1")
    if sweep or configs > 1 or base.compile or base.checkpointing or base.phase != "train":  # type: ignore[attr-defined]
        fail("--nproc runs one training configuration: drop --sweep, --compile, --checkpointing, --phase and lists")
    db_path = None
    if not no_db:
        from harness.store import Store, StoreError

        try:
            with Store(db) as store:
                db_path = str(store.path)
        except StoreError as e:
            fail(str(e))
    try:
        with Console(stderr=True).status(f"torchrun: {nproc} processes, {strategy} ..."):
            result = launch(base, nproc, strategy, timeout_s=timeout_s, db=db_path)  # type: ignore[arg-type]
    except (DistError, ValueError) as e:
        fail(str(e).splitlines()[0])
    render([result.row], fmt, sys.stdout)


def _run_with_progress(groups: list[list], store: object, sweep: bool) -> list[dict]:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    import models
    from harness.measure import bench as B
    from harness.store import provenance

    rows: list[dict] = []
    console = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("benchmark", total=sum(len(g) for g in groups))

        def started(cfg: object) -> None:
            progress.update(task, description=f"{cfg.model} batch {cfg.batch} {cfg.precision} {cfg.phase}")  # type: ignore[attr-defined]

        def finished(result: object) -> None:
            progress.advance(task)
            cfg = result.config  # type: ignore[attr-defined]
            rows.append(B.to_row(result, provenance(cfg.device), models.get(cfg.model).family))

        for configs in groups:
            B.measure(configs, store=store, stop_on_oom=sweep, on_result=finished, on_start=started)
    return rows
