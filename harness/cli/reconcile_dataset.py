"""`harness reconcile-dataset`: every zoo system's counted training compute against the dataset."""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import sys
from pathlib import Path

import typer

from harness.cli._common import FORMATS, app, choose, fail


@app.command("reconcile-dataset")
def reconcile_dataset(
    dataset: str = typer.Option(..., "--dataset", help="a CSV in the Epoch 'all ML systems' schema"),
    out: str = typer.Option(None, "--out", help="write the table to this CSV and its summary beside it (.md); "
                            "default: print to stdout"),
    only: str = typer.Option(None, "--only", help="a comma list of zoo entries (default: every one with facts)"),
    fmt: str = typer.Option("table", "--format", help="table | csv | json (stdout only)"),
) -> None:
    """Count each zoo system's training run on the meta device and reconcile it with the dataset's figure."""
    from harness.estimate.dataset import DatasetError, load_systems
    from harness.estimate.runs import load_runs
    from harness.estimate.zoo_vs_dataset import COLUMNS, reconcile, summary_markdown
    from harness.zoo_compute import counted_for, dataset_names, zoo_systems

    choose(fmt, FORMATS, "format")
    if out is not None and not out.strip():
        fail("--out is empty: give a .csv path, or leave --out out to print the table")
    if out is not None and fmt != "table":
        fail(f"--format {fmt} is for standard output; --out always writes CSV (and .md): drop one of them")
    if only is not None and not only.replace(",", "").strip():
        fail("--only is empty: give a comma list of zoo entries, or leave --only out for every one")
    target = Path(out) if out else None
    if target is not None and (target.suffix.lower() != ".csv" or not target.parent.is_dir()):
        fail(f"--out {out} must be a .csv path in an existing folder (the summary goes beside it as .md)")
    try:
        systems = load_systems(dataset)
    except DatasetError as e:
        fail(str(e))
    names = dataset_names()
    wanted = zoo_systems() if only is None else [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in names]
    if unknown:
        fail(f"--only: unknown zoo system(s) {', '.join(unknown)}; choose from: {', '.join(names)}")
    have = {r.model for r in systems.rows if r.compute}
    absent = [n for n in wanted if names[n] not in have]
    if absent:
        typer.echo(f"not in {dataset} with a compute: {', '.join(absent)}", err=True)
    wanted = [n for n in wanted if names[n] in have]

    from rich.console import Console

    counted = {}
    with Console(stderr=True).status("counting") as status:
        for i, name in enumerate(wanted, 1):
            status.update(f"counting {name} on meta ({i}/{len(wanted)})")
            counted[name] = counted_for(name)
    rows = reconcile(counted, load_runs(), names, systems)
    dicts = [r.to_dict() for r in rows]
    if target is None:
        if fmt == "json":
            json.dump(dicts, sys.stdout, indent=1)
            sys.stdout.write("\n")
        elif fmt == "csv":
            w = csv.DictWriter(sys.stdout, fieldnames=COLUMNS)
            w.writeheader()
            w.writerows(dicts)
        else:
            from rich.table import Table

            t = Table(title=f"{len(rows)} zoo systems against {dataset}")
            for c in ("zoo system", "counted", "dataset", "method", "ratio", "implied util.", "reason"):
                t.add_column(c)
            for r in rows:
                u = "-" if r.implied_utilisation is None else f"{r.implied_utilisation:.3f}"
                t.add_row(r.zoo_name, f"{r.counted_flop:.3g}", f"{r.dataset_flop:.3g}", r.dataset_method, f"{r.ratio:.3g}",
                          u, r.reason)
            Console(file=sys.stdout, width=200).print(t)
        return
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(dicts)
    provenance = (f"Produced by `harness reconcile-dataset --dataset {Path(dataset).name} --out {target.name}` "
                  f"(counts on the meta device; {platform.machine()} {platform.system()}, Python {platform.python_version()}).")
    md = target.with_suffix(".md")
    for path, text in ((target, buf.getvalue()), (md, summary_markdown(rows, provenance))):
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            fail(f"cannot write {path}: {e.strerror or e}; pass --out a .csv path in a folder you can write to")
    typer.echo(f"wrote {len(rows)} systems to {target} and {md}")
