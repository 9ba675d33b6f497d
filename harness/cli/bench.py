"""`harness bench`: measure a step's time and utilisation, single process or through torchrun.

The measure layer yields rows; this command stores each one as it arrives (so Ctrl-C loses none
of the finished rows), then shows exactly the rows it stored.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

import typer

from harness.cli._common import FORMATS, app, choose, fail, ints

INTERRUPTED = 130  # the shell's code for a process ended by SIGINT


@app.command()
def bench(
    model: str = typer.Argument(..., help="a zoo name (harness zoo lists them), FILE.py:FUNCTION, package.module:FUNCTION or hf:PATH/config.json"),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda | mps | xpu | xla (cuda covers ROCm)"),
    precision: str = typer.Option(None, "--precision", help="fp32 | tf32 | bf16 | fp16, or a comma list (default: bf16 on GPU, fp32 on CPU)"),
    batch: str = typer.Option(None, "--batch", help="batch size, or a comma list (default: the model's)"),
    sweep: bool = typer.Option(False, "--sweep", help="batch 1, 2, 4, ... until out of memory or --max-batch"),
    max_batch: int = typer.Option(None, "--max-batch", help="with --sweep: the largest batch tried (default 1024)"),
    seq: int = typer.Option(None, "--seq", help="sequence length (default: the model's)"),
    phase: str = typer.Option("train", "--phase", help="train (forward, backward, AdamW step) | inference"),
    steps: int = typer.Option(10, "--steps", help="timed steps per configuration"),
    warmup: int = typer.Option(3, "--warmup", help="untimed steps first"),
    compile_: bool = typer.Option(False, "--compile", help="torch.compile the model (FLOP are counted uncompiled)"),
    checkpointing: bool = typer.Option(False, "--checkpointing", help="recompute each block in the backward; reports HFU too"),
    db: str = typer.Option(None, "--db", help="results database (default: HARNESS_DB or the user data directory)"),
    no_db: bool = typer.Option(False, "--no-db", help="store nothing (and skip nothing)"),
    again: bool = typer.Option(False, "--again", help="measure configurations already stored too; kept as repeats"),
    nproc: int = typer.Option(1, "--nproc", help="processes (devices) for a data-parallel run through torchrun"),
    strategy: str = typer.Option("ddp", "--strategy", help="with --nproc: ddp | fsdp"),
    timeout_s: int = typer.Option(600, "--timeout", help="with --nproc: seconds before a stuck job is ended"),
    overrides: list[str] = typer.Option([], "--set", help="hf: sources: change a config field, key=value (repeatable)"),
    fmt: str = typer.Option("table", "--format", help="table | json | csv"),
    explain: bool = typer.Option(False, "--explain", help="say what every column of the table means"),
) -> None:
    """Measure what one training (or inference) step costs here and its utilisation (MFU)."""
    try:
        _bench(model, device, precision, batch, sweep, max_batch, seq, phase, steps, warmup, compile_, checkpointing,
               db, no_db, again, nproc, strategy, timeout_s, overrides, fmt, explain)
    except KeyboardInterrupt:  # before any configuration ran (after, _bench names what was stored)
        typer.echo("interrupted before any configuration was measured: nothing was stored", err=True)
        raise typer.Exit(INTERRUPTED) from None


def _bench(model: str, device: str, precision: str | None, batch: str | None, sweep: bool, max_batch: int | None,
           seq: int | None, phase: str, steps: int, warmup: int, compile_: bool, checkpointing: bool,
           db: str | None, no_db: bool, again: bool, nproc: int, strategy: str, timeout_s: int,
           overrides: list[str], fmt: str, explain: bool) -> None:
    import models
    from harness.measure import bench as B
    from harness.measure import precision as P
    from harness.measure.runner import BenchConfig, SourceWorkload
    from harness.sources import resolve

    choose(fmt, FORMATS, "format")
    choose(phase, ("train", "inference"), "phase")
    _check_flags(sweep, batch, max_batch, no_db, db, again, phase, checkpointing, steps, warmup)
    if timeout_s < 1:
        fail(f"--timeout must be at least 1 second, not {timeout_s}")
    batches = ints(batch, "--batch")
    if precision is not None and not precision.strip():
        fail("--precision is empty: give fp32, tf32, bf16 or fp16 (or a comma list), or leave it out")
    train = phase == "train"
    try:
        dev = B.resolve_device(device)
        work = SourceWorkload(resolve(model, overrides))
        precisions = (precision or ("fp32" if dev.type == "cpu" else "bf16")).split(",")
        for p in precisions:
            P.get(p, dev)
        batches = batches or [models.get(work.name).default_batch if work.spec.kind == "zoo" else 1]
        for b in batches:
            work.make(b, seq, "meta", train)  # a bad batch, seq or source fails here, in one line
    except (B.DeviceError, models.ModelInputError, P.PrecisionError) as e:
        fail(str(e))
    base = BenchConfig(work.name, batches[0], seq, phase, precisions[0], compile_, checkpointing, str(dev), warmup, steps)  # type: ignore[arg-type]
    if nproc != 1 or strategy != "ddp":
        if work.spec.kind != "zoo":
            fail("--nproc measures zoo models; a FILE.py:FUNCTION or hf: source runs on one process: drop --nproc")
        _distributed(base, nproc, strategy, timeout_s, db, no_db, fmt, sweep, len(batches) * len(precisions), explain)
        return
    if checkpointing:
        from harness.measure.runner import apply_checkpointing

        try:
            apply_checkpointing(work.make(batches[0], seq, "meta", train)[0])
        except ValueError as e:
            fail(str(e))
    _check_memory(work, replace(base, batch=1 if sweep else min(batches)), dev)
    # one group per precision: a sweep stops its own group at the first out-of-memory
    groups = [
        list(B.sweep(replace(base, precision=p), max_batch or 1024)) if sweep
        else [replace(base, precision=p, batch=b) for b in batches]
        for p in precisions
    ]
    store = _open_store(db) if not no_db else None
    try:
        rows, skipped = _run_with_progress(groups, store, sweep, again, work)
    except KeyboardInterrupt as e:
        _interrupted(e.args[0] if e.args else [], store)
        raise typer.Exit(INTERRUPTED) from None
    finally:
        if store is not None:
            store.close()
    _report(rows, skipped, store, fmt, explain, dev)


MAX_STEPS = 100_000  # timed or warm-up steps per configuration


def _check_flags(sweep: bool, batch: str | None, max_batch: int | None, no_db: bool, db: str | None, again: bool,
                 phase: str, checkpointing: bool, steps: int, warmup: int) -> None:
    """Flags that contradict each other, or say nothing, are refused rather than ignored."""
    if steps < 1 or warmup < 0:
        fail("--steps must be at least 1 and --warmup at least 0")
    if steps > MAX_STEPS or warmup > MAX_STEPS:
        fail(f"--steps and --warmup take at most {MAX_STEPS:,} steps each (raw samples are kept per step); "
             "run the bench again to add repeats")
    if sweep and batch is not None:
        fail("--sweep chooses the batches itself (1, 2, 4, ...): drop --batch, or drop --sweep")
    if max_batch is not None and not sweep:
        fail("--max-batch only bounds a --sweep: add --sweep, or drop --max-batch")
    if max_batch is not None and max_batch < 1:
        fail(f"--max-batch must be at least 1, not {max_batch}")
    if db is not None and not db.strip():
        fail("--db is empty: give the path of a results database, or leave --db out for the default")
    if no_db and db is not None:
        fail("--no-db stores nothing, --db names where to store: choose one")
    if no_db and again:
        fail("--again measures stored configurations again; with --no-db nothing is skipped anyway: drop --again")
    if checkpointing and phase == "inference":
        fail("--checkpointing recomputes activations in the backward, and inference has none: drop it or use --phase train")


def _check_memory(work: Any, cfg: Any, dev: Any) -> None:
    """Refuse, before building, a configuration whose memory floor exceeds what the device has free."""
    from harness.measure import memory as M

    have = M.available_bytes(dev)
    if have is None:
        return
    try:
        need = M.estimate(*work.make(cfg.batch, cfg.seq, "meta", cfg.phase == "train"), cfg.phase)
    except Exception:  # noqa: BLE001 - the model's forward fails on meta: the bench itself reports why
        return
    if need.bytes > have:
        fail(f"{work.name} batch {cfg.batch} ({cfg.phase}) needs at least {M.gib(need.bytes)} "
             f"({need.parameters:,} parameters), more than the {M.gib(have)} free on {dev.type}: "
             "choose a smaller model or batch, or another --device")


def _open_store(db: str | None) -> Any:
    from harness.store import Store, StoreError

    try:
        return Store(db)
    except StoreError as e:
        fail(str(e))


def _label(row: dict[str, Any]) -> str:
    return f"{row['model']} batch {row['batch']} {row['precision']} {row['phase']}"


def _interrupted(rows: list[dict[str, Any]], store: Any) -> None:
    if not rows:
        typer.echo("interrupted: no configuration had finished, nothing was stored", err=True)
        return
    where = f"stored in {store.path}" if store is not None else "not stored (--no-db)"
    typer.echo(f"interrupted: {len(rows)} finished row(s) {where}: {'; '.join(_label(r) for r in rows)}", err=True)


def _report(rows: list[dict[str, Any]], skipped: list[str], store: Any, fmt: str, explain: bool, dev: Any) -> None:
    from harness.measure.bench import device_name
    from harness.report.bench_view import render

    if not rows:
        from harness.store import Store

        typer.echo(f"nothing measured: every configuration is already in the database {store.path};\n"
                   "stored rows follow; --again measures again (a repeat); --no-db skips the database",
                   err=True)
        with Store(store.path) as reader:
            stored = [r for r in reader.rows(run_key=list(dict.fromkeys(skipped))) if r["status"] == "ok"]
        render(stored, fmt, sys.stdout, explain=explain)
        return
    render(rows, fmt, sys.stdout, explain=explain)
    where = f"stored {len(rows)} row(s) in {store.path}" if store is not None else "not stored (--no-db)"
    if skipped:
        where += f"; {len(skipped)} configuration(s) already there were skipped (--again measures them too)"
    typer.echo(f"{where}\ndevice {device_name(dev)}, torch {rows[0]['torch_version']}, "
               f"commit {rows[0]['project_commit']}", err=True)


def _distributed(base: Any, nproc: int, strategy: str, timeout_s: int, db: str | None, no_db: bool,
                 fmt: str, sweep: bool, configs: int, explain: bool) -> None:
    """`bench --nproc N`: one torchrun job; its rank 0 row is stored here and shown."""
    from rich.console import Console

    from harness.measure.distributed import DistError, launch
    from harness.report.bench_view import render

    choose(strategy, ("ddp", "fsdp"), "strategy")
    if nproc < 1:
        fail("--nproc must be at least 1")
    if sweep or configs > 1 or base.compile or base.checkpointing or base.phase != "train":
        fail("--nproc runs one training configuration: drop --sweep, --compile, --checkpointing, --phase and lists")
    store = _open_store(db) if not no_db else None
    try:
        with Console(stderr=True).status(f"torchrun: {nproc} processes, {strategy} ..."):
            result = launch(base, nproc, strategy, timeout_s=timeout_s)
        row = dict(result.row)
        if store is not None:
            row = store.rows(run_id=store.add(row, repeat=True))[0]
    except (DistError, ValueError) as e:
        fail(str(e).splitlines()[0])
    finally:
        if store is not None:
            store.close()
    render([row], fmt, sys.stdout, explain=explain)
    typer.echo(f"stored 1 row in {store.path}" if store is not None else "not stored (--no-db)", err=True)


def _run_with_progress(groups: list[list], store: Any, sweep: bool, again: bool,
                       work: Any) -> tuple[list[dict], list[str]]:
    """Measure every group, storing each row as it comes; (stored rows, run keys skipped).

    A KeyboardInterrupt leaves with the rows finished so far as its argument.
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from harness.measure import bench as B

    rows: list[dict] = []
    skipped: list[str] = []
    skip = store.has_ok if store is not None and not again else None
    console = Console(stderr=True)
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                      TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(), console=console,
                      transient=True) as progress:
            task = progress.add_task("benchmark", total=sum(len(g) for g in groups))

            def started(cfg: Any) -> None:
                progress.update(task, description=f"{cfg.model} batch {cfg.batch} {cfg.precision} {cfg.phase}")

            def passed(cfg: Any, key: str) -> None:
                skipped.append(key)
                progress.advance(task)

            for configs in groups:
                for row in B.measure(configs, skip=skip, stop_on_oom=sweep, workload=work, on_start=started,
                                     on_skip=passed):
                    if store is not None:  # show the row as stored: run_id, repeat and all
                        row = store.rows(run_id=store.add(row, repeat=True))[0]
                    rows.append(row)
                    progress.advance(task)
    except KeyboardInterrupt:
        raise KeyboardInterrupt(rows) from None
    return rows, skipped
