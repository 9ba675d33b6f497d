"""The `harness` command line."""

from __future__ import annotations

import sys
from dataclasses import replace
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
        from rich.console import Console

        from harness.counting.reconcile import reconcile

        with Console(stderr=True).status("running the other counters and their coverage probes ..."):
            rows = reconcile(net, inputs, names, ours=result if phase == "forward" else None)
    render(entry.name, result, rows, fmt, sys.stdout)


def _ints(text: str | None, what: str) -> list[int] | None:
    if text is None:
        return None
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        fail(f"{what} must be whole numbers separated by commas, not {text!r}")
    return values


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
        batches = _ints(batch, "--batch") or [entry.default_batch]
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


@app.command()
def peak(
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda"),
    precision: str = typer.Option(None, "--precision", help="comma list (default: all the device runs)"),
    fmt: str = typer.Option("table", "--format", help="table | json"),
) -> None:
    """Measure this device's ceilings: a large matmul per precision and a device copy, against the peak table."""
    from harness.measure import bench as B
    from harness.measure import precision as P

    choose(fmt, ("table", "json"), "format")
    try:
        dev = B.resolve_device(device)
        names = precision.split(",") if precision else [p for p in P.PRECISIONS if _runs(p, dev)]
        precisions = [P.get(n, dev) for n in names]
    except (B.DeviceError, P.PrecisionError) as e:
        fail(str(e))
    from harness.measure.ceiling import copy_ceiling, matmul_ceiling
    from harness.report.peak_view import render

    rows = []
    from rich.console import Console

    with Console(stderr=True).status("measuring ceilings ..."):
        for p in precisions:
            c = matmul_ceiling(dev, p)
            datasheet, source = B.datasheet_peak(dev, p)
            rows.append({"kind": f"matmul {c.size}^3", "precision": p.name, "measured_per_s": c.per_s, "cv": c.cv,
                         "datasheet_per_s": datasheet, "ratio": c.per_s / datasheet if datasheet else None, "source": source})
        c = copy_ceiling(dev)
        rows.append({"kind": f"copy {c.size >> 20} MiB", "precision": "-", "measured_per_s": c.per_s, "cv": c.cv,
                     "datasheet_per_s": None, "ratio": None, "source": "bytes read + written"})
    render(rows, B.device_name(dev), fmt, sys.stdout)


def _runs(name: str, dev: object) -> bool:
    from harness.measure import precision as P

    try:
        P.get(name, dev)  # type: ignore[arg-type]
        return True
    except P.PrecisionError:
        return False


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


@app.command()
def calibrate(
    dataset: str = typer.Option(..., "--dataset", help="a CSV in the Epoch 'all ML systems' schema"),
    db: str = typer.Option(None, "--db", help="results database whose measured runs are added (shown apart)"),
    out: str = typer.Option("results/utilisation_defaults.csv", "--out", help="where the defaults table goes"),
    boots: int = typer.Option(200, "--boots", help="bootstrap resamples for the intervals"),
) -> None:
    """Fit utilisation defaults (pooled by hardware generation) and evaluate them against the fixed rule."""
    import csv
    import os

    from harness.estimate import calibrate as C
    from harness.estimate.dataset import DatasetError, load_systems

    try:
        systems = load_systems(dataset)
    except DatasetError as e:
        fail(str(e))
    obs, dropped = C.observations_from_systems(systems)
    if len(obs) < 5:
        fail(f"only {len(obs)} usable systems in {dataset}: calibration needs rows with counted compute and hardware inputs")
    from rich.console import Console

    console = Console(stderr=True)
    with console.status(f"fitting on {len(obs)} systems, {boots} bootstrap resamples ..."):
        rows = C.defaults_table(obs, boots=boots)
    measured = []
    if db is not None:
        from harness.store import Store, StoreError

        try:
            with Store(db) as store:
                measured = C.measured_rows(store.rows())
        except StoreError as e:
            fail(str(e))
    with console.status("leave-one-system-out evaluation ..."):
        ev = C.evaluate(obs)
    tmp = out + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["group", "utilisation", "low", "high", "n", "source"])
        for r in [*rows, *measured]:
            w.writerow([r.group, f"{r.utilisation:.4f}", f"{r.low:.4f}", f"{r.high:.4f}", r.n, r.source])
    os.replace(tmp, out)
    typer.echo(f"{len(obs)} systems used ({len(dropped)} left out: circular or flagged); wrote {len(rows) + len(measured)} groups to {out}")
    typer.echo(f"leave-one-system-out, method 2 vs counted compute over {ev.n} systems:")
    typer.echo(f"  calibrated defaults: median |log10 error| {ev.calibrated_median_abs_log10:.3f}, within 2x {ev.calibrated_within_2x:.1%}")
    typer.echo(f"  fixed 0.3/0.4 rule:  median |log10 error| {ev.fixed_median_abs_log10:.3f}, within 2x {ev.fixed_within_2x:.1%}")


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


@app.command()
def check(
    name: str = typer.Argument(None, help="a zoo entry (its recorded set-up), or omit and give the claim's fields"),
    file: str = typer.Option(None, "--file", help="a CSV or YAML of claims with the same field names"),
    catalogue: bool = typer.Option(False, "--catalogue", help="check the shipped catalogue of documented claims"),
    params: float = typer.Option(None, "--params"),
    tokens: float = typer.Option(None, "--tokens"),
    examples: float = typer.Option(None, "--examples"),
    epochs: float = typer.Option(None, "--epochs"),
    hardware: str = typer.Option(None, "--hardware", help="a name from the peak table, e.g. 'NVIDIA A100'"),
    count: float = typer.Option(None, "--count", help="number of chips"),
    hours: float = typer.Option(None, "--hours"),
    days: float = typer.Option(None, "--days"),
    seconds: float = typer.Option(None, "--seconds"),
    precision: str = typer.Option(None, "--precision"),
    utilisation: float = typer.Option(None, "--utilisation", help="the utilisation the claim assumed"),
    peak: float = typer.Option(None, "--peak", help="the peak FLOP/s per chip the claim used"),
    claimed: float = typer.Option(None, "--claimed", help="the claimed training compute, FLOP"),
    domain: str = typer.Option(None, "--domain"),
    defaults: str = typer.Option(None, "--defaults", help="a defaults table (default: results/utilisation_defaults.csv)"),
    fmt: str = typer.Option("table", "--format", help="table | json | csv"),
) -> None:
    """Cross-check a compute claim: both estimates with ranges, the implied utilisation, a verdict and its reasons."""
    import csv
    import json

    from harness.estimate import claims as K

    choose(fmt, FORMATS, "format")
    fields = dict(params=params, tokens=tokens, examples=examples, epochs=epochs, hardware=hardware, count=count,
                  hours=hours, days=days, seconds=seconds, precision=precision, utilisation=utilisation, peak=peak,
                  claimed=claimed, domain=domain)
    given = {k: v for k, v in fields.items() if v is not None}
    sources = sum([bool(name), bool(file), catalogue, bool(given) and not name])
    if sources != 1:
        fail("give exactly one of: a zoo entry name, --file, --catalogue, or the claim's fields (--params, --tokens, ...)")
    try:
        if catalogue:
            results = K.check_catalogue(defaults=defaults)
        elif file:
            results = K.check_all(K.load_claims(file), defaults=defaults)
        elif name:
            import models

            models.get(name)
            results = [K.check(K.claim_for_model(name), defaults=defaults)]
        else:
            results = [K.check(K.Claim.from_fields("claim", **given), defaults=defaults)]
    except ValueError as e:
        fail(str(e).splitlines()[0])
    if fmt == "json":
        payload = [r.to_dict() for r in results]
        json.dump(payload[0] if len(payload) == 1 and not (file or catalogue) else payload, sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
    elif fmt == "csv":
        rows = K.results_rows(results)
        w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    else:
        from rich.console import Console

        Console(file=sys.stdout, width=200).print(K.results_table(results))


@app.command()
def report(
    dataset: str = typer.Option(..., "--dataset", help="a CSV in the Epoch 'all ML systems' schema"),
    out: str = typer.Option("report", "--out", help="folder for the figures and index.html"),
    defaults: str = typer.Option(None, "--defaults", help="a defaults table (default: results/utilisation_defaults.csv)"),
    db: str = typer.Option(None, "--db", help="a results database whose runs are summarised"),
    evaluate: bool = typer.Option(False, "--evaluate", help="include the leave-one-out evaluation (about a minute)"),
) -> None:
    """Plots a researcher would put in a paper, and an HTML page bundling them with the tables."""
    from rich.console import Console

    from harness.estimate.dataset import DatasetError
    from harness.estimate.defaults import DefaultsError
    from harness.report.html import build_report

    try:
        with Console(stderr=True).status("drawing the report ..."):
            page = build_report(dataset, defaults, db, out_dir=out, evaluate=evaluate)
    except (DatasetError, DefaultsError, ValueError, OSError) as e:
        fail(str(e).splitlines()[0])
    typer.echo(f"wrote {page}")


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
