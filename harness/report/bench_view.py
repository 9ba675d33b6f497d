"""Presentation of benchmark results: a rich table, JSON or CSV rows."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from typing import IO, Any

from rich.console import Console
from rich.table import Table


def _f(x: Any, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def render(rows: Sequence[dict[str, Any]], fmt: str, stream: IO[str]) -> None:
    if fmt == "json":
        json.dump(list(rows), stream, indent=2, default=str)
        stream.write("\n")
        return
    if fmt == "csv":
        fields = list(dict.fromkeys(k for r in rows for k in r))
        writer = csv.DictWriter(stream, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
        return
    device = rows[0].get("device_name", "?") if rows else "?"
    table = Table(title=f"benchmark on {device} (MFU = counted model FLOP / (seconds x peak of the precision))")
    distributed = any((r.get("world_size") or 1) > 1 or r.get("strategy") not in (None, "single") for r in rows)
    cols = ("model", "phase", "prec", "batch", "seq", "GFLOP/step", "s/step", "IQR", "CV", "TFLOP/s",
            "MFU sheet", "MFU ceil", "HFU", "bwd/fwd t", "bwd/fwd F", "MHz", "W", "status")
    if distributed:
        cols = ("ranks", "strategy", "comm share", *cols)
    for c in cols:
        table.add_column(c, justify="left" if c in ("model", "phase", "prec", "status", "strategy") else "right")
    for r in rows:
        extra = {**(r.get("extra") or {}), **r}
        lead = (str(extra.get("world_size", 1)), str(extra.get("strategy")), _f(extra.get("comm_share"), ".1%")) if distributed else ()
        table.add_row(
            *lead,
            r["model"], r["phase"], r["precision"], str(r["batch"]), _f(r.get("seq"), "d"),
            _f(r.get("flop_per_step") and r["flop_per_step"] / 1e9, ",.2f"),
            _f(r.get("seconds_median"), ".4f"), _f(r.get("seconds_iqr"), ".4f"), _f(r.get("seconds_cv"), ".1%"),
            _f(r.get("flop_per_s") and r["flop_per_s"] / 1e12, ".3f"),
            _f(r.get("utilisation"), ".1%"), _f(r.get("utilisation_ceiling"), ".1%"), _f(r.get("hfu"), ".1%"),
            _f(r.get("backward_forward_time"), ".2f"), _f(r.get("backward_forward_flop"), ".2f"),
            _f(r.get("sm_clock_mhz"), ".0f"), _f(r.get("power_watts"), ".0f"),
            r["status"] if r["status"] == "ok" else f"{r['status']}: {r.get('error') or ''}",
        )
    Console(file=stream, width=200).print(table)
