"""`harness calibrate`: fit utilisation defaults and evaluate them against the fixed rule.

By default the table goes to the user's data folder (`defaults.user_defaults_path()`); the table
shipped with the package is rewritten only with `--shipped`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli._common import app, fail


def zoo_flop_per_token(names: set[str]) -> dict[str, float]:
    """Training FLOP per token of zoo language models: 3 x the analytic forward (which the counter
    matches exactly at full size), at each entry's own sequence length."""
    import models
    from harness.analytic import breakdown
    from harness.analytic.breakdown import total

    out = {}
    for name in sorted(names):
        e = models.get(name)
        seq = e.default_seq or e.config.block_size
        out[name] = 3 * total(breakdown(e.family, e.config, 1, seq)) / seq
    return out


@app.command()
def calibrate(
    dataset: str = typer.Option(..., "--dataset", help="a CSV in the Epoch 'all ML systems' schema"),
    db: str = typer.Option(None, "--db", help="results database whose measured runs are added (shown apart)"),
    counted: str = typer.Option(None, "--counted", help="a zoo-vs-dataset CSV (harness reconcile-dataset): "
                                "the utilisation the harness's own count implies for hardware-method rows"),
    out: str = typer.Option(None, "--out", help="where the defaults table goes (default: the user data folder, "
                            "$HARNESS_DATA_DIR or ~/.local/share/compute-harness/)"),
    shipped: bool = typer.Option(False, "--shipped", help="rewrite the table shipped with the package instead"),
    report: str = typer.Option(None, "--report", help="also write the evaluation as Markdown to this file"),
    machine: str = typer.Option("this machine", "--machine", help="the machine named in the --report page"),
    boots: int = typer.Option(200, "--boots", help="bootstrap resamples for the measured runs' intervals (>= 1)"),
) -> None:
    """Fit utilisation defaults from every kind of evidence; evaluate them (leave one system out and a
    time split) against the fixed 0.3/0.4 rule and Epoch's 0.375; ship the rule if they do not beat it."""
    import shlex
    import sys

    from harness.estimate import calibrate as C
    from harness.estimate import defaults as U
    from harness.estimate import evaluation as V
    from harness.estimate import evidence as E
    from harness.estimate.dataset import DatasetError, load_systems

    if boots < 1:
        fail(f"--boots must be at least 1, not {boots}")
    if shipped and out is not None:
        fail("give --out or --shipped, not both")
    if out and not Path(out).is_dir() and Path(out).suffix.lower() != ".csv":
        fail(f"--out {out}: the defaults table is CSV; name it .csv")
    if machine != "this machine" and report is None:
        fail("--machine names the machine on the --report page: add --report PAGE.md, or drop --machine")
    target = U.shipped_table_path() if shipped else U.user_defaults_path() if out is None else out
    try:
        systems = load_systems(dataset)
    except DatasetError as e:
        fail(str(e))
    items, dropped = E.from_dataset(systems)
    if counted is not None:
        try:
            with open(counted, encoding="utf-8") as f:
                items += E.counted_from_csv(f.read())
        except IsADirectoryError:
            fail(f"--counted {counted} is a folder: give the CSV that harness reconcile-dataset --out wrote")
        except FileNotFoundError:
            fail(f"--counted {counted}: no such file; write one with harness reconcile-dataset --out FILE.csv")
        except UnicodeDecodeError:
            fail(f"--counted {counted} is not UTF-8 text: give the CSV that harness reconcile-dataset --out wrote")
        except KeyError as e:
            fail(f"--counted {counted} lacks the column {e}: give the CSV that harness reconcile-dataset --out wrote")
        except (OSError, ValueError) as e:
            fail(f"--counted {counted}: not a readable zoo-vs-dataset CSV ({e}); "
                 "write one with harness reconcile-dataset --out FILE.csv")
    items += E.benchmark_evidence(flop_per_token=zoo_flop_per_token(E.benchmark_zoo_names()))
    runs = sum(e.evidence_class == "training run" for e in items)
    if runs < 5:
        fail(f"only {runs} usable training runs in {dataset}: calibration needs rows with counted (or recountable) "
             "compute and hardware inputs")
    measured = []
    if db is not None:
        from harness.store import Store, StoreError

        try:
            with Store(db, create=False) as store:
                rows = store.rows()
        except StoreError as e:
            fail(str(e))
        measured = C.measured_rows(rows, boots=boots)
        items += E.single_device_evidence(rows)
    from rich.console import Console

    with Console(stderr=True).status(f"fitting and evaluating on {len(items)} systems ..."):
        model = C.fit(items)
        evaluations = [V.leave_one_system_out(items), V.time_split(items)]
        table, why = V.choose(items, evaluations)
    try:
        written = U.write_text_atomic(U.format_table([*table, *measured]), target)
        if report is not None:
            command = shlex.join(["harness", "calibrate", *sys.argv[2:]])
            U.write_text_atomic(V.report_markdown(items, evaluations, why, model, machine, command), report)
    except U.DefaultsError as e:
        fail(str(e))
    kinds = ", ".join(f"{k} {v}" for k, v in E.counts(items).items() if v)
    typer.echo(f"evidence: {kinds} ({len(dropped)} dataset rows left out: circular without a recount, or broken)")
    for ev in evaluations:
        typer.echo(f"{ev.name}, over {ev.n} training runs:")
        for m, s in ev.scores.items():
            cov = "" if s.coverage is None else f", 80% interval covers {s.coverage:.0%}"
            typer.echo(f"  {m:36s} median |log10 error| {s.median_abs_log10:.3f}, within 2x {s.within_2x:.0%}{cov}")
        for line in V.notes(ev)[1:]:
            typer.echo(f"  {line}")
    typer.echo(f"shipped: {why}")
    typer.echo(f"wrote {len(table) + len(measured)} groups to {written}")
    if not shipped:
        typer.echo(f"use it with --defaults {written}")
