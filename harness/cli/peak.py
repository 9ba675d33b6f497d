"""`harness peak`: this device's measured ceilings against the peak table."""

from __future__ import annotations

import sys

import typer

from harness.cli._common import app, choose, fail


@app.command()
def peak(
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda | mps | xpu | hpu | xla"),
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
