"""`harness calibrate`: fit utilisation defaults and evaluate them against the fixed rule."""

from __future__ import annotations

import typer

from harness.cli._common import app, fail


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
