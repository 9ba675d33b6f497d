"""Presentation of a count and its reconciliation: rich tables, JSON, CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from typing import IO

from rich.console import Console
from rich.table import Table

from harness.counting.reconcile import Reconciled
from harness.counting.result import FlopCount

MODULE_DEPTH = 2  # module paths deeper than this are left to JSON / CSV
UNCOUNTED_WARN = 0.01  # an uncounted share of output elements above this is a warning


def warnings(result: FlopCount) -> list[str]:
    """What a reader must not miss: work the counter could not price, by size."""
    share = result.uncounted_size_share
    if share <= UNCOUNTED_WARN:
        return []
    top = sorted(result.uncounted_elements.items(), key=lambda kv: -kv[1])[:3]
    return [
        f"warning: {share:.1%} of the output elements of ops with arithmetic came from ops with no formula "
        f"({', '.join(k for k, _ in top)}); the total leaves their FLOP out"
    ]


def to_json(model: str, result: FlopCount, rows: Sequence[Reconciled], counters_device: str | None = None) -> dict:
    out = {"model": model, **result.to_dict()}
    if rows:
        out["counters"] = [r.to_dict() for r in rows]
        out["counters_device"] = counters_device or result.device
    return out


def to_rows(model: str, result: FlopCount, rows: Sequence[Reconciled]) -> list[dict]:
    """A long table: one row per (table, key), FLOP in one column."""
    out = [{"table": "total", "key": result.attention_convention, "flop": result.total, "note": ""}]
    out += [{"table": "total", "key": "full", "flop": result.total_full, "note": "causal attention as the full square"}]
    out += [{"table": "total", "key": "causal", "flop": result.total_causal, "note": "causal attention as the lower triangle"}]
    for phase, cats in result.by_phase_category.items():
        out += [{"table": f"{phase}", "key": c, "flop": f, "note": ""} for c, f in cats.items() if f]
    out += [{"table": "module", "key": k or "(model)", "flop": f, "note": ""} for k, f in result.by_module.items()]
    out += [{"table": "uncounted", "key": k, "flop": "", "note": f"{n} calls, {result.uncounted_elements.get(k, 0)} elements"}
            for k, n in result.uncounted.items()]
    out += [{"table": "note", "key": "", "flop": "", "note": n} for n in (*result.notes, *warnings(result))]
    for r in rows:
        note = r.skipped or "; ".join((r.unit_note, *r.explanations))
        out.append({"table": "counter", "key": r.counter, "flop": "" if r.flop is None else r.flop, "note": note})
    return [{"model": model, **row} for row in out]


def _flop(x: int) -> str:
    for unit, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:,.3f} {unit}"
    return f"{x:,}"


def to_tables(model: str, result: FlopCount, rows: Sequence[Reconciled], counters_device: str | None = None) -> list[Table]:
    head = Table(title=f"{model}: {result.phase} on {result.device}, FLOP (1 MAC = 2 FLOP)")
    head.add_column("quantity")
    head.add_column("FLOP", justify="right")
    head.add_column("exact", justify="right")
    head.add_row(f"total ({result.attention_convention} attention)", _flop(result.total), f"{result.total:,}")
    other = "causal" if result.attention_convention == "full" else "full"
    other_total = result.total_causal if other == "causal" else result.total_full
    head.add_row(f"total ({other} attention)", _flop(other_total), f"{other_total:,}")
    if result.recompute_flop:
        head.add_row("attention recompute (HFU only)", _flop(result.recompute_flop), f"{result.recompute_flop:,}")
    uncounted = ", ".join(f"{k} x{n}" for k, n in result.uncounted.items()) or "none"
    head.caption = (
        f"uncounted ops: {uncounted} ({result.uncounted_share:.1%} of op calls, "
        f"{result.uncounted_size_share:.1%} of output elements)"
    )
    lines = [*result.notes, *warnings(result)]
    if lines:
        head.caption += "\n" + "\n".join(lines)

    phases = [p for p, f in result.by_phase.items() if f]
    cats = Table(title="by category and phase")
    cats.add_column("category")
    for p in phases:
        cats.add_column(p, justify="right")
    cats.add_column("share", justify="right")
    for c, f in result.by_category.items():
        if f:
            cats.add_row(c, *(_flop(result.by_phase_category[p][c]) for p in phases), f"{f / result.total:.1%}")

    mods = Table(title=f"by module (depth <= {MODULE_DEPTH}; all in JSON)")
    mods.add_column("module")
    mods.add_column("FLOP", justify="right")
    for k, f in result.by_module.items():
        if k.count(".") < MODULE_DEPTH:
            mods.add_row(k or "(model)", _flop(f))
    tables = [head, cats, mods]
    if rows:
        where = counters_device or result.device
        same = "" if where == result.device else f"; they ran on {where} at the same shapes"
        rec = Table(title=f"reconciliation with other counters (forward{same})")
        for col in ("counter", "FLOP", "ratio", "why"):
            rec.add_column(col, justify="right" if col in ("FLOP", "ratio") else "left")
        rec.add_row("own", _flop(rows[0].ours), "1.000", "this harness")
        for r in rows:
            if r.skipped:
                rec.add_row(r.counter, "-", "-", f"skipped: {r.skipped}")
            else:
                why = "; ".join(r.explanations) or "agrees within 1%"
                rec.add_row(r.counter, _flop(r.flop or 0), f"{r.ratio:.3f}" if r.ratio else "-", why)
        tables.append(rec)
    return tables


def render(
    model: str, result: FlopCount, rows: Sequence[Reconciled], fmt: str, stream: IO[str], counters_device: str | None = None
) -> None:
    if fmt == "json":
        json.dump(to_json(model, result, rows, counters_device), stream, indent=2)
        stream.write("\n")
    elif fmt == "csv":
        table = to_rows(model, result, rows)
        writer = csv.DictWriter(stream, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    else:
        console = Console(file=stream, width=120)
        for t in to_tables(model, result, rows, counters_device):
            console.print(t)
