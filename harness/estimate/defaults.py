"""Utilisation defaults: the calibrated table (results/utilisation_defaults.csv) and its lookup.

The table has one row per group: `group` is a path of keys from general to specific, e.g.
"all", "domain=language", "generation=ampere", "generation=ampere/domain=language", with the
fitted `utilisation`, its bootstrap interval `low`, `high`, the number of systems `n` behind it
and its `source`. A lookup takes the most specific group that matches the system; with no table
(or no match) it falls back to Epoch's fixed 0.3 / 0.4 rule, and says so.
"""

from __future__ import annotations

import csv
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
    """The most specific group whose keys all match; the fixed rule when nothing matches."""
    rows = load_defaults() if table is None else table
    best: DefaultRow | None = None
    for row in rows:
        rk = row.keys
        if all(keys.get(k) == v for k, v in rk.items()):
            if best is None or len(rk) > len(best.keys) or (len(rk) == len(best.keys) and row.n > best.n):
                best = row
    if best is None:
        return fixed_rule(domain or keys.get("domain"))
    return Utilisation(best.utilisation, best.low, best.high, f"calibrated: {best.group} (n={best.n}; {best.source})")
