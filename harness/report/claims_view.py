"""Presentation of claim checks: a rich table, JSON or flat CSV rows."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from typing import IO, Any

from harness.estimate.claims import CheckResult

__all__ = ["render", "results_json", "results_rows", "results_table"]

_VERDICT_STYLE = {"consistent": "green", "inconsistent": "red", "unverifiable": "yellow"}


def _method(r: CheckResult, name: str) -> Any:
    return next((e for e in r.estimates if e.method == name), None)


def results_rows(results: Iterable[CheckResult]) -> list[dict[str, Any]]:
    """One flat row per claim, for CSV or a DataFrame (estimates and reasons joined into cells)."""
    rows = []
    for r in results:
        m1, m2 = _method(r, "operation counting"), _method(r, "hardware")
        rows.append({
            "name": r.claim.name,
            "verdict": r.verdict,
            "factor": r.factor,
            "claimed_flop": r.claim.claimed,
            "method1_flop": None if m1 is None else m1.flop,
            "method1_formula": None if m1 is None else m1.formula,
            "method2_flop": None if m2 is None else m2.flop,
            "method2_low": None if m2 is None else m2.low,
            "method2_high": None if m2 is None else m2.high,
            "method2_utilisation": None if m2 is None else m2.inputs.get("utilisation"),
            "implied_utilisation": r.implied_utilisation,
            "implied_from": r.implied_from,
            "peak_flop_per_s": r.peak_flop_per_s,
            "precision": r.precision,
            "reasons": " | ".join(x.message for x in r.reasons),
            "reason_codes": ";".join(x.code for x in r.reasons),
            "sources": r.claim.sources,
        })
    return rows


def results_json(results: Iterable[CheckResult]) -> str:
    return json.dumps([r.to_dict() for r in results], indent=2, default=str)


def results_table(results: Sequence[CheckResult], title: str = "Compute claims cross-checked",
                  reasons: bool = True) -> Any:
    """A rich table: one row per claim, the figures and (with `reasons`) the reasons' codes."""
    from rich import box
    from rich.table import Table

    t = Table(title=title, show_lines=False, box=box.SIMPLE_HEAD,
              caption="factor: claimed / geometric mean of the estimates (or method 1 / method 2); "
                      "u: implied utilisation, FLOP / (chips x time x dense peak)")
    right = {"justify": "right", "no_wrap": True}
    columns = [("claim", {"overflow": "fold", "min_width": 10}), ("verdict", {"no_wrap": True}),
               ("factor", right), ("claimed", right), ("method 1", right),
               ("method 2", {"justify": "right", "min_width": 9}), ("u", right)]
    if reasons:
        columns.append(("reasons", {"overflow": "fold", "ratio": 1}))
    for col, kw in columns:
        t.add_column(col, **kw)
    for r in results:
        m1, m2 = _method(r, "operation counting"), _method(r, "hardware")
        cells = [
            r.claim.name,
            f"[{_VERDICT_STYLE[r.verdict]}]{r.verdict}[/]",
            "" if r.factor is None else f"{r.factor:.2f}",
            "" if r.claim.claimed is None else f"{r.claim.claimed:.3g}",
            "" if m1 is None else f"{m1.flop:.3g}",
            "" if m2 is None else f"{m2.flop:.3g}\n[{m2.low:.2g},\n{m2.high:.2g}]",
            "" if r.implied_utilisation is None else f"{r.implied_utilisation:.3f}",
        ]
        if reasons:
            cells.append(", ".join(x.code for x in r.reasons))
        t.add_row(*cells)
    return t


def render(results: Sequence[CheckResult], fmt: str, stream: IO[str], *, single: bool = False) -> None:
    """Write `results` as "table", "json" (one object when `single`, else a list) or "csv"."""
    if fmt == "json":
        payload = [r.to_dict() for r in results]
        json.dump(payload[0] if single and len(payload) == 1 else payload, stream, indent=1, default=str)
        stream.write("\n")
    elif fmt == "csv":
        rows = results_rows(results)
        if rows:
            w = csv.DictWriter(stream, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    else:
        from rich.console import Console

        console = Console(file=stream)
        console.print(results_table(results, reasons=console.width >= 110))
        for r in results:
            if r.reasons:
                console.print(f"[bold]{r.claim.name}[/]: {r.summary}")
                for x in r.reasons:
                    console.print(f"  {x.code}: {x.message}", soft_wrap=False)
