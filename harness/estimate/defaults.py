"""Utilisation defaults for the hardware method: the table, where it lives, and the one lookup.

The lookup (the only one; every caller uses it):

    utilisation_default(keys: SystemKeys, table: Sequence[DefaultRow] | None = None) -> Utilisation

`SystemKeys` holds what is known of a training run in plain units (chip generation, precision,
domain, chip count, parameters, year); `group_keys` turns it into the table's group keys
(`generation`, `family`, `precision`, `domain`, `scale`, `size`, `era`), the bucketing decided
here, once. `table=None` reads the table shipped with the package (package data read with
importlib.resources, so a wheel or a non-editable install finds it); pass a table from
`load_defaults(path)` to use another; pass [] for Epoch's fixed 0.3 / 0.4 rule.

The table has one row per group, columns `group, utilisation, low, high, n, source`:

* `all`: the utilisation of a training run of which nothing is known, its 80% interval;
* `KEY=VALUE` ("generation=ampere", "scale=512-4095"): the default of a run with that one key,
  the fitted additive effect in log space (u = u_all x prod(u_key / u_all) over the matching rows);
* `rule/domain=language`, `rule/domain=other`: written instead of the rows above when the fitted
  model did not beat the fixed rule on its own evaluation: the rule with intervals measured on
  the evidence;
* rows with a `/` in the group (`offset/evidence=mfu`, `measured/...`) are shown, never looked up:
  evidence-class offsets and the harness's own single-device runs.

With no table at all, the lookup warns once and falls back to the fixed rule.
"""

from __future__ import annotations

import csv
import io
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from harness.estimate.methods import Utilisation, fixed_rule

COLUMNS = ("group", "utilisation", "low", "high", "n", "source")
PACKAGE = "harness.estimate"
TABLE_NAME = "utilisation_defaults.csv"
USER_DIR_ENV = "HARNESS_DATA_DIR"
GPU_FAMILIES = {
    "nvidia-gpu": ("tesla-gt200", "fermi", "kepler", "maxwell", "pascal", "volta", "turing", "ampere", "ada",
                   "hopper", "blackwell"),
    "amd-gpu": ("amd-gcn5", "amd-cdna1", "amd-cdna2", "amd-cdna3"),
}
_FAMILY = {g: fam for fam, gens in GPU_FAMILIES.items() for g in gens}
_PREFIX_FAMILY = (("tpu-", "google-tpu"), ("amd-", "amd-gpu"), ("trainium", "aws-trainium"),
                  ("gaudi", "intel-gaudi"), ("ascend", "huawei-ascend"))
_DOMAINS = ("language", "vision", "biology", "multimodal", "speech", "games", "image generation")
SCALE_BUCKETS = ((64, "1-63"), (512, "64-511"), (4096, "512-4095"))  # chips below the limit
ERA_BUCKETS = ((2019, "<=2018"), (2021, "2019-2020"), (2023, "2021-2022"))  # year below the limit


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
        return dict(part.split("=", 1) for part in self.group.split("/") if "=" in part)


@dataclass(frozen=True)
class SystemKeys:
    """What is known of a training run, in plain units; None where unknown."""

    generation: str | None = None  # chip generation: "volta", "ampere", "tpu-v4" (dataset.generation)
    precision: str | None = None  # matmul precision: fp32 | tf32 | fp16 | bf16 | fp8
    domain: str | None = None  # free text: "Language", "multimodal,language"
    chips: float | None = None  # chip count
    parameters: float | None = None  # parameters (the active ones for a mixture of experts)
    year: int | None = None  # publication year


# ---------------------------------------------------------------------------------------- keys


def scale_key(chips: float | None) -> str | None:
    if not chips:
        return None
    return next((name for limit, name in SCALE_BUCKETS if chips < limit), "4096+")


def size_key(parameters: float | None) -> str | None:
    """Model size: small models run small matmuls and use less of the chip."""
    if not parameters:
        return None
    if parameters < 1e9:
        return "<1B"
    return "1B-30B" if parameters < 3e10 else ">30B"


def domain_key(domain: str | None) -> str | None:
    if not domain:
        return None
    d = domain.lower().split(",")[0]  # the first listed domain
    return next((name.replace(" ", "-") for name in _DOMAINS if name in d), "other")


def era_key(year: int | None) -> str | None:
    if not year:
        return None
    return next((name for limit, name in ERA_BUCKETS if year < limit), "2023+")


def family_key(generation: str | None) -> str | None:
    """The chip family a generation belongs to (the parent it pools toward)."""
    if not generation or generation == "mixed":
        return None
    if generation in _FAMILY:
        return _FAMILY[generation]
    return next((fam for prefix, fam in _PREFIX_FAMILY if generation.startswith(prefix)), "other")


def group_keys(keys: SystemKeys) -> dict[str, str]:
    """The table's group keys for a run: key -> value, unknown keys left out."""
    found = {
        "generation": keys.generation if keys.generation != "mixed" else None,
        "family": family_key(keys.generation),
        "precision": keys.precision,
        "domain": domain_key(keys.domain),
        "scale": scale_key(keys.chips),
        "size": size_key(keys.parameters),
        "era": era_key(keys.year),
    }
    return {k: v for k, v in found.items() if v}


# ---------------------------------------------------------------------------------------- files


def user_defaults_path() -> Path:
    """Where `harness calibrate` writes by default: $HARNESS_DATA_DIR, else the user data dir."""
    base = os.environ.get(USER_DIR_ENV)
    if base:
        return Path(base) / TABLE_NAME
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "compute-harness" / TABLE_NAME


def _parse(text: str, where: str) -> list[DefaultRow]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = reader.fieldnames or []
    except csv.Error as e:
        raise DefaultsError(f"{where} is not a readable CSV ({e}); pass a CSV written by `harness calibrate`") from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise DefaultsError(f"{where} is not a defaults table: missing columns {', '.join(missing)}")
    try:
        rows = [DefaultRow(r["group"], float(r["utilisation"]), float(r["low"]), float(r["high"]), int(r["n"]),
                           r["source"]) for r in reader]
    except (TypeError, ValueError, csv.Error) as e:
        raise DefaultsError(f"{where}: unreadable number ({e})") from None
    for r in rows:  # log-space lookups need 0 < low <= utilisation <= high, all finite
        if not (math.isfinite(r.high) and 0 < r.low <= r.utilisation <= r.high):
            raise DefaultsError(f"{where}: group {r.group!r} needs 0 < low <= utilisation <= high, not "
                                f"{r.low:g} <= {r.utilisation:g} <= {r.high:g}; pass a table written by `harness calibrate`")
    return rows


def shipped_defaults() -> list[DefaultRow]:
    """The table shipped as package data; [] (with a warning) when the package has none."""
    try:
        text = resources.files(PACKAGE).joinpath(TABLE_NAME).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        warnings.warn(f"no utilisation defaults table in the {PACKAGE} package; using Epoch's fixed 0.3 / 0.4 rule",
                      stacklevel=3)
        return []
    return _parse(text, f"package data {PACKAGE}/{TABLE_NAME}")


def load_defaults(path: str | Path | None = None) -> list[DefaultRow]:
    """Read a defaults table; None reads the shipped one."""
    if path is None:
        return shipped_defaults()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefaultsError(f"defaults file {p} does not exist; run `harness calibrate --out {p}` first") from None
    except UnicodeDecodeError:
        raise DefaultsError(f"defaults file {p} is not a defaults table (not UTF-8 text); "
                            "pass a CSV written by `harness calibrate`") from None
    except IsADirectoryError:
        raise DefaultsError(f"defaults file {p} is a directory; pass a CSV written by `harness calibrate`") from None
    except OSError as e:
        raise DefaultsError(f"defaults file {p} cannot be read ({(e.strerror or type(e).__name__).lower()}); "
                            "check the path and its permissions") from None
    return _parse(text, str(p))


def format_table(rows: Sequence[DefaultRow]) -> str:
    """The CSV text of a defaults table (what `load_defaults` reads back)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow([r.group, f"{r.utilisation:.4f}", f"{r.low:.4f}", f"{r.high:.4f}", r.n, r.source])
    return out.getvalue()


# ---------------------------------------------------------------------------------------- lookup


def _rule(rows: Sequence[DefaultRow], domain: str | None) -> Utilisation | None:
    which = "language" if domain_key(domain) == "language" else "other"
    row = next((r for r in rows if r.group == f"rule/domain={which}"), None)
    if row is None:
        return None
    return Utilisation(row.utilisation, row.low, row.high,
                       f"fixed rule: {row.utilisation:g} for {which} models (calibration did not beat it; "
                       f"interval measured on n={row.n})")


def combine(keys: dict[str, str], rows: Sequence[DefaultRow]) -> Utilisation | None:
    """The additive log-space combination of the 'all' row and every matching KEY=VALUE row.

    The interval is the widest relative interval among the rows used, applied to the combined value.
    """
    base = next((r for r in rows if r.group == "all"), None)
    if base is None:
        return None
    log_u = math.log(base.utilisation)
    low_ratio, high_ratio = base.low / base.utilisation, base.high / base.utilisation
    used = []
    for row in rows:
        if row.group == "all" or "/" in row.group or "=" not in row.group:
            continue
        k, v = row.group.split("=", 1)
        if keys.get(k) == v:
            log_u += math.log(row.utilisation) - math.log(base.utilisation)
            low_ratio = min(low_ratio, row.low / row.utilisation)
            high_ratio = max(high_ratio, row.high / row.utilisation)
            used.append(row.group)
    central = min(math.exp(log_u), 1.0)
    low = min(central * low_ratio, central)
    high = min(max(central * high_ratio, central), 1.0)
    return Utilisation(central, low, high, f"calibrated: {', '.join(used) or 'all'} (80% interval)")


def utilisation_default(keys: SystemKeys, table: Sequence[DefaultRow] | None = None) -> Utilisation:
    """The utilisation default for a training run (see the module docstring): the one lookup."""
    rows = shipped_defaults() if table is None else table
    return (combine(group_keys(keys), rows) or _rule(rows, keys.domain) or fixed_rule(keys.domain))


# ---------------------------------------------------------------------------------------- writing


def shipped_table_path() -> Path:
    """The package-data file itself (in a source checkout or editable install: the tree's copy)."""
    return Path(str(resources.files(PACKAGE).joinpath(TABLE_NAME)))


def write_text_atomic(text: str, path: str | Path) -> Path:
    """Write `text` to `path` through a temp file beside it, then rename; nothing left behind on failure.

    Raises `DefaultsError` (one line) when the target is a directory, its parent is a file or
    cannot be created, or the folder is not writable.
    """
    p = Path(path)
    if p.is_dir():
        raise DefaultsError(f"{p} is a directory; give a file path for the table")
    parent = p.parent
    blocking = next((a for a in (parent, *parent.parents) if a.exists() and not a.is_dir()), None)
    if blocking is not None:
        raise DefaultsError(f"cannot write {p}: {blocking} is a file, not a folder")
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, p)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise DefaultsError(f"cannot write {p}: {e.strerror or e.__class__.__name__}") from None
    return p
