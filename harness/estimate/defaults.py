"""Utilisation defaults: the calibrated table (results/utilisation_defaults.csv) and its lookup.

The table has one row per group: "all", then one per key value ("generation=ampere",
"domain=language", "scale=512-4095", "era=2022-2023"), with the fitted `utilisation`, its
bootstrap interval `low`, `high`, the number of systems `n` behind it and its `source`. Rows
whose group starts with "measured" hold the harness's own single-device runs (shown, not pooled).
With no table it falls back to Epoch's fixed 0.3 / 0.4 rule, and says so.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from harness.estimate.methods import Utilisation, fixed_rule

DEFAULTS_PATH = Path(__file__).resolve().parents[2] / "results" / "utilisation_defaults.csv"
COLUMNS = ("group", "utilisation", "low", "high", "n", "source")


class DefaultsError(ValueError):
    """A defaults file that cannot be read."""


@dataclass(frozen=True)
class DefaultRow:
    group: str
    utilisation: float
    low: float
    high: float
    n: int
    source: str

    @property
    def keys(self) -> dict[str, str]:
        if self.group == "all":
            return {}
        return dict(part.split("=", 1) for part in self.group.split("/"))


def load_defaults(path: str | Path | None = None) -> list[DefaultRow]:
    """Read a defaults table; None reads the committed one (an empty list if it is missing)."""
    p = Path(path) if path is not None else DEFAULTS_PATH
    if not p.exists():
        if path is not None:
            raise DefaultsError(f"defaults file {p} does not exist; run `harness calibrate --out {p}` first")
        return []
    with p.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DefaultsError(f"{p} is not a defaults table: missing columns {', '.join(missing)}")
        try:
            return [
                DefaultRow(r["group"], float(r["utilisation"]), float(r["low"]), float(r["high"]), int(r["n"]), r["source"])
                for r in reader
            ]
        except ValueError as e:
            raise DefaultsError(f"{p}: unreadable number ({e})") from None


def system_keys(generation: str | None, precision: str | None, domain: str | None,
                scale: str | None = None, era: str | None = None) -> dict[str, str]:
    """The group keys a system has; None where unknown."""
    keys = {"generation": generation, "precision": precision, "domain": domain, "scale": scale, "era": era}
    return {k: v for k, v in keys.items() if v}


def lookup(keys: dict[str, str], table: list[DefaultRow] | None = None, domain: str | None = None) -> Utilisation:
    """The calibrated utilisation for a system with these group keys; the fixed rule without a table.

    The table's 'all' row is combined with every matching single-key row in log space (the
    calibration's additive model: u = u_all x prod(u_key / u_all)). The interval is the relative
    interval of the matching row with the fewest systems (the least certain part), applied to the
    combined value.
    """
    rows = load_defaults() if table is None else table
    base = next((r for r in rows if r.group == "all"), None)
    if base is None:
        return fixed_rule(domain or keys.get("domain"))
    log_u = math.log(base.utilisation)
    least, used = base, []
    for row in rows:
        if row.group == "all" or "/" in row.group or row.group.startswith("measured"):
            continue
        k, v = row.group.split("=", 1)
        if keys.get(k) == v:
            log_u += math.log(row.utilisation) - math.log(base.utilisation)
            used.append(row.group)
            if row.n < least.n:
                least = row
    central = min(math.exp(log_u), 1.0)
    low = min(central * least.low / least.utilisation, central)
    high = min(max(central * least.high / least.utilisation, central), 1.0)
    groups = ", ".join(used) or "all"
    return Utilisation(central, low, high, f"calibrated: {groups} (interval from {least.group}, n={least.n})")
