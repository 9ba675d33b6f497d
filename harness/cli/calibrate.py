"""`harness calibrate`: fit utilisation defaults and evaluate them against the fixed rule.

By default the table goes to the user's data folder (`defaults.user_defaults_path()`); the table
shipped with the package is rewritten only with `--shipped`.
"""

from __future__ import annotations

import typer

from harness.cli._common import app, fail


@app.command()
def calibrate(
    dataset: str = typer.Option(..., "--dataset", help="a CSV in the Epoch 'all ML systems' schema"),
    db: str = typer.Option(None, "--db", help="results database whose measured runs are added (shown apart)"),
    out: str = typer.Option(None, "--out", help="where the defaults table goes (default: the user data folder, "
                            "$HARNESS_DATA_DIR or ~/.local/share/compute-harness/)"),
    shipped: bool = typer.Option(False, "--shipped", help="rewrite the table shipped with the package instead"),
    boots: int = typer.Option(200, "--boots", help="bootstrap resamples for the intervals (at least 1)"),
) -> None:
    """Fit utilisation defaults and evaluate them against the fixed rule."""
    from harness.estimate import calibrate as C
    from harness.estimate import defaults as U
    from harness.estimate.dataset import DatasetError, load_systems

    if boots < 1:
        fail(f"--boots must be at least 1, not {boots}")
    if shipped and out is not None:
        fail("give --out or --shipped, not both")
    target = U.shipped_table_path() if shipped else U.user_defaults_path() if out is None else out
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
    try:
        written = U.write_text_atomic(U.format_table([*rows, *measured]), target)
    except U.DefaultsError as e:
        fail(str(e))
    typer.echo(f"{len(obs)} systems used ({len(dropped)} left out: circular or flagged); wrote {len(rows) + len(measured)} groups to {written}")
    typer.echo(f"leave-one-system-out, method 2 vs counted compute over {ev.n} systems:")
    typer.echo(f"  calibrated defaults: median |log10 error| {ev.calibrated_median_abs_log10:.3f}, within 2x {ev.calibrated_within_2x:.1%}")
    typer.echo(f"  fixed 0.3/0.4 rule:  median |log10 error| {ev.fixed_median_abs_log10:.3f}, within 2x {ev.fixed_within_2x:.1%}")
    if not shipped:
        typer.echo(f"use it with --defaults {written}")
