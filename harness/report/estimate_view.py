"""Presentation of `harness estimate`: both methods per dataset row, as a rich table, CSV or JSON."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from typing import IO, Any

__all__ = ["COLUMNS", "CSV_COLUMNS", "render"]

# the table's columns (keys of `harness.estimate.apply.estimate_row`), then the CSV's extra ones
COLUMNS = ("Model", "compute", "compute_method1", "compute_method2", "compute_method2_low",
           "compute_method2_high", "implied_utilisation", "flags")
CSV_COLUMNS = (*COLUMNS, "utilisation_used", "utilisation_source", "peak_rule")
_HEADERS = {"Model": "model", "compute": "published FLOP", "compute_method1": "method 1",
            "compute_method2": "method 2", "compute_method2_low": "m2 low", "compute_method2_high": "m2 high",
            "implied_utilisation": "implied u", "flags": "flags"}


def _cell(value: Any) -> str:
    return "-" if value is None else (f"{value:.3g}" if isinstance(value, float) else str(value))


def render(rows: Sequence[dict[str, Any]], fmt: str, stream: IO[str], title: str = "") -> None:
    """Write the rows as "table", "csv" or "json"."""
    if fmt == "json":
        json.dump(list(rows), stream, indent=1, default=str)
        stream.write("\n")
        return
    if fmt == "csv":
        w = csv.DictWriter(stream, fieldnames=list(CSV_COLUMNS), extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title or f"{len(rows)} systems",
              caption="method 1: 6 N D (operation counting); method 2: chips x time x peak x default utilisation; "
                      "implied u: published FLOP / (chips x time x peak)")
    for c in COLUMNS:
        t.add_column(_HEADERS[c], justify="left" if c in ("Model", "flags") else "right",
                     overflow="fold" if c in ("Model", "flags") else "ellipsis")
    for r in rows:
        t.add_row(*(_cell(r.get(c)) for c in COLUMNS))
    Console(file=stream).print(t)
