"""Presentation of benchmark rows: a table that fits the terminal, JSON or CSV rows."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from typing import IO, Any

from rich import box
from rich.console import Console
from rich.table import Table

from harness.measure.timing import NOISY_CV

LEGEND = {
    "GFLOP": "model FLOP of one step (forward, backward and optimizer for train), in billions",
    "MFU sheet": "model FLOP/s / datasheet peak of the precision ('-': no datasheet peak, as on a CPU)",
    "MFU ceil": "model FLOP/s / the matmul ceiling measured on this device in the same precision",
    "HFU": "hardware FLOP utilisation: with --checkpointing, the recomputed forward counted too",
    "bwd/fwd t": "backward seconds / forward seconds",
    "bwd/fwd F": "backward FLOP / forward FLOP (about 2 for dense layers)",
    "CV": f"spread of the step times (std / mean); above {NOISY_CV:.0%} the row is marked noisy",
}
SHORT_LEGEND = "MFU = FLOP/s / peak: sheet = datasheet, ceil = matmul measured here (--explain)"


def _f(x: Any, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def _get(row: dict[str, Any], key: str) -> Any:
    """A row's value, whether a column or (as read back from the store) a key of `extra`."""
    value = row.get(key)
    return value if value is not None else (row.get("extra") or {}).get(key)


def status_text(row: dict[str, Any]) -> str:
    """ok, noisy (CV above NOISY_CV: the CV column says how much), or the failure with its reason."""
    if row["status"] != "ok":
        return f"{row['status']}: {row.get('error') or ''}"
    cv = row.get("seconds_cv")
    return "noisy" if cv is not None and cv > NOISY_CV else "ok"


Column = tuple[str, Callable[[dict[str, Any]], str], bool]  # header, cell, always shown

COLUMNS: tuple[Column, ...] = (
    ("model", lambda r: r["model"], True),
    ("phase", lambda r: r["phase"], True),
    ("prec", lambda r: r["precision"], True),
    ("batch", lambda r: str(r["batch"]), True),
    ("seq", lambda r: _f(_get(r, "seq"), "d"), False),
    ("GFLOP", lambda r: _f(_get(r, "flop_per_step") and r["flop_per_step"] / 1e9, ",.2f"), True),
    ("s/step", lambda r: _f(_get(r, "seconds_median"), ".4f"), True),
    ("CV", lambda r: "n/a" if _get(r, "seconds_median") is not None and _get(r, "seconds_cv") is None
     else _f(_get(r, "seconds_cv"), ".1%"), True),
    ("TFLOP/s", lambda r: _f(_get(r, "flop_per_s") and r["flop_per_s"] / 1e12, ".3f"), True),
    ("MFU sheet", lambda r: _f(_get(r, "utilisation"), ".1%"), True),
    ("MFU ceil", lambda r: _f(_get(r, "utilisation_ceiling"), ".1%"), True),
    ("HFU", lambda r: _f(_get(r, "hfu"), ".1%"), False),
    ("bwd/fwd t", lambda r: _f(_get(r, "backward_forward_time"), ".2f"), False),
    ("bwd/fwd F", lambda r: _f(_get(r, "backward_forward_flop"), ".2f"), False),
    ("MHz", lambda r: _f(_get(r, "sm_clock_mhz"), ".0f"), False),
    ("W", lambda r: _f(_get(r, "power_watts"), ".0f"), False),
    ("status", status_text, True),
)


def _distributed_columns() -> tuple[Column, ...]:
    return (
        ("ranks", lambda r: str(_get(r, "world_size") or 1), True),
        ("strategy", lambda r: str(_get(r, "strategy")), True),
        ("comm share", lambda r: _f(_get(r, "comm_share"), ".1%"), True),
    )


DROP_ORDER = ("W", "MHz", "bwd/fwd F", "bwd/fwd t", "HFU", "seq", "TFLOP/s", "phase", "prec", "comm share",
              "GFLOP", "CV")
"""The columns a narrow terminal loses first, in order; the rest always stay."""


def table(rows: Sequence[dict[str, Any]], drop: Sequence[str] = ()) -> Table:
    """The rows as a table; columns every row leaves empty ('-') and those in `drop` are left out."""
    device = rows[0].get("device_name", "?") if rows else "?"
    cols = COLUMNS
    if any((r.get("world_size") or 1) > 1 or r.get("strategy") not in (None, "single") for r in rows):
        cols = _distributed_columns() + cols
    cells = [[cell(r) for _, cell, _ in cols] for r in rows]
    keep = [i for i, (name, _, always) in enumerate(cols)
            if name not in drop and (always or any(c[i] != "-" for c in cells))]
    t = Table(title=f"benchmark on {device}", title_justify="left", box=box.SIMPLE_HEAD,
              pad_edge=False, collapse_padding=True)
    for i in keep:
        name = cols[i][0]
        left = name in ("model", "phase", "prec", "status", "strategy")
        t.add_column(name, justify="left" if left else "right", no_wrap=name != "status",
                     min_width=len(name) if name != "status" else 6)
    for c in cells:
        t.add_row(*(c[i] for i in keep))
    return t


def fitted(rows: Sequence[dict[str, Any]], width: int, console: Console) -> tuple[Table, list[str]]:
    """The table with as few columns dropped (DROP_ORDER) as it takes to fit `width`."""
    dropped: list[str] = []
    t = table(rows)
    unbounded = console.options.update(max_width=10_000)
    for name in DROP_ORDER:
        if console.measure(t, options=unbounded).minimum < width:  # status may wrap; nothing else
            break
        shown = {c.header for c in t.columns}
        if name in shown:
            dropped.append(name)
            t = table(rows, dropped)
    return t, dropped


def render(rows: Sequence[dict[str, Any]], fmt: str, stream: IO[str], *, explain: bool = False,
           width: int | None = None) -> None:
    """`table` fits `width` (default: the terminal's); a one-line legend follows, or the full one."""
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
    console = Console(file=stream, width=width)
    t, dropped = fitted(rows, console.width, console)
    console.print(t)
    if dropped:
        console.print(f"hidden to fit {console.width} columns: {', '.join(dropped)} (all in --format json)",
                      highlight=False)
    if explain:
        for name, text in LEGEND.items():
            console.print(f"  {name}: {text}", highlight=False)
    else:
        console.print(SHORT_LEGEND, highlight=False)
