"""Presentation of measured ceilings beside the peak table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import IO, Any

from rich.console import Console
from rich.table import Table


def render(rows: Sequence[dict[str, Any]], device: str, fmt: str, stream: IO[str]) -> None:
    if fmt == "json":
        json.dump({"device": device, "ceilings": list(rows)}, stream, indent=2)
        stream.write("\n")
        return
    table = Table(title=f"ceilings measured on {device}")
    for col in ("what", "precision", "measured", "CV", "datasheet (dense)", "ratio", "source"):
        table.add_column(col, justify="right" if col in ("measured", "CV", "datasheet (dense)", "ratio") else "left")
    for r in rows:
        small = r["measured_per_s"] < 1e12  # a CPU: GFLOP/s and GB/s read better
        if r["kind"].startswith("copy"):
            unit, scale = ("GB/s", 1e9) if small else ("TB/s", 1e12)
        else:
            unit, scale = ("GFLOP/s", 1e9) if small else ("TFLOP/s", 1e12)
        table.add_row(
            r["kind"], r["precision"], f"{r['measured_per_s'] / scale:,.3f} {unit}", "n/a" if r["cv"] is None else f"{r['cv']:.1%}",
            "-" if r["datasheet_per_s"] is None else f"{r['datasheet_per_s'] / scale:,.1f} {unit}",
            "-" if r["ratio"] is None else f"{r['ratio']:.1%}", r["source"],
        )
    Console(file=stream).print(table)
