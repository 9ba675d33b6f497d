"""The zoo listing: every entry with its counted and published parameters."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO

from rich.console import Console
from rich.table import Table

import models


def parameters(entry: models.Entry) -> int:
    """Exact parameter count of the instantiated model (built on meta; shared weights once)."""
    return sum(p.numel() for p in entry.build("meta").parameters())


def zoo_rows(entries: Iterable[models.Entry] | None = None) -> list[dict]:
    rows = []
    for e in entries if entries is not None else models.REGISTRY.values():
        n = parameters(e)
        f = e.facts
        published = f.published_parameters if f else None
        rows.append(
            {
                "name": e.name,
                "family": e.family,
                "domain": e.domain,
                "year": f.year if f else None,
                "parameters": n,
                "published_parameters": published,
                "parameters_diff": (n / published - 1) if published else None,
                "dataset_name": f.dataset_name if f else None,
                "parameters_note": f.parameters_note if f else "",
            }
        )
    return rows


def _count(x: float | None) -> str:
    if x is None:
        return "-"
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{x / scale:.2f}{unit}"
    return f"{x:,.0f}"


def render(rows: list[dict], fmt: str, stream: IO[str]) -> None:
    if fmt == "json":
        json.dump(rows, stream, indent=2)
        stream.write("\n")
        return
    table = Table(title=f"the zoo: {len(rows)} reference architectures (parameters counted on the meta device)")
    for col in ("name", "family", "domain", "year", "parameters", "published", "diff", "dataset name", "note"):
        table.add_column(col, justify="right" if col in ("parameters", "published", "diff", "year") else "left")
    for r in rows:
        diff = "-" if r["parameters_diff"] is None else f"{r['parameters_diff']:+.1%}"
        table.add_row(
            r["name"], r["family"], r["domain"], str(r["year"] or "-"), _count(r["parameters"]),
            _count(r["published_parameters"]), diff, r["dataset_name"] or "-", r["parameters_note"],
        )
    Console(file=stream, width=200).print(table)
