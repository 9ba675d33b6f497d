"""The accelerator peak table (`peaks.csv`, one row per chip) and hardware-name matching.

The CSV holds, per chip, DENSE peak rates in TFLOP/s (TOPS for int8) for each precision in
`PRECISIONS`, memory in GB and bandwidth in GB/s, with a source and notes per row. An empty cell
means the chip has no such mode or no published figure (the row's notes say which). Conventions:

* ``unit`` is always "chip": a figure quoted per board (K80, TPU v2/v3 boards, MI250X packages) is
  divided by ``chips_per_board``; ``board_bf16`` keeps the quoted board figure where one is common,
  so a cross-check can recognise it.
* fp16/bf16 (and fp64 on A100/H100, fp32 on AMD CDNA) are the matrix-unit figures where one exists;
  ``sparse_quoted`` marks rows whose vendor headline is the 2:4-sparse figure (the table holds half).
* ``generation`` names the architecture generation a chip shares with its siblings ("volta",
  "ampere", "tpu-v4"); empty where none is known, and then `generation()` says None rather than
  inventing a group. ``cores_per_chip`` is the number of cores a paper or a slice name may count
  instead of chips (TPU TensorCores: a "v3-256" slice is 128 chips); empty for GPUs.
* In the `Accelerator` objects every rate is in FLOP/s (TFLOP/s x 1e12).

Name matching (`resolve`), in this order, none of it order-dependent:

1. exact: the canonical name or an alias, compared case-insensitively after dropping vendor prefixes
   ("NVIDIA", "Tesla", "Google", "AMD", "Intel", "Habana", "Apple", ...), trademark marks ("(R)",
   "(TM)"), punctuation and spaces;
2. tokens: a row matches when the query's words are all among one of its names' words and the
   words it leaves out are only qualifiers (form factor such as SXM4/PCIe/NVL, memory size such as
   80GB, product line such as GeForce/GTX/Quadro, architecture such as Ada/Pascal). Exactly one
   matching row is an answer;
3. default: several matching rows resolve only when the query is listed in one row's
   ``default_for`` column (e.g. "V100" -> V100 SXM2 16GB, "H100" -> H100 SXM5, "A100" -> A100 SXM4
   40GB, "P100" -> P100 PCIe 16GB: the variant whose figures Epoch's generic row carries). Pass
   ``allow_default=False`` to refuse defaults.

Anything else raises `UnknownHardware` naming up to five close candidates. A vendor named in the
query must agree with the row's vendor ("Intel A100" is refused, not read as an NVIDIA A100).
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path

from harness.hardware.names import compact, normalise, optional, ratio, tokens, vendor_key

__all__ = [
    "KINDS",
    "PRECISIONS",
    "Accelerator",
    "PrecisionUnsupported",
    "UnknownHardware",
    "canonical_precision",
    "cores_per_chip",
    "generation",
    "load_table",
    "resolve",
    "resolve_many",
]

PRECISIONS: tuple[str, ...] = ("fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8")
KINDS: tuple[str, ...] = ("gpu", "tpu", "npu", "ipu", "wafer", "cpu")

_COLUMNS = (
    "name",
    "aliases",
    "default_for",
    "vendor",
    "kind",
    "year",
    *PRECISIONS,
    "memory_gb",
    "memory_bandwidth_gbs",
    "unit",
    "chips_per_board",
    "board_bf16",
    "sparse_quoted",
    "generation",
    "cores_per_chip",
    "source",
    "notes",
)

# other spellings of a precision (torch dtype names included, so str(torch.bfloat16) works)
_PRECISION_ALIASES = {
    "float64": "fp64",
    "double": "fp64",
    "f64": "fp64",
    "float32": "fp32",
    "float": "fp32",
    "f32": "fp32",
    "tensorfloat32": "tf32",
    "float16": "fp16",
    "half": "fp16",
    "f16": "fp16",
    "bfloat16": "bf16",
    "float8": "fp8",
    "float8_e4m3fn": "fp8",
    "float8_e5m2": "fp8",
    "float8_e4m3fnuz": "fp8",
    "float8_e5m2fnuz": "fp8",
    "e4m3": "fp8",
    "e5m2": "fp8",
    "cfp8": "fp8",
    "qint8": "int8",
}


class PrecisionUnsupported(ValueError):
    """The chip has no peak figure for this precision (or the precision name is unknown)."""


class UnknownHardware(ValueError):
    """A hardware name that matches no row, or several rows with no declared default."""

    def __init__(self, message: str, candidates: tuple[str, ...] = (), matches: tuple[str, ...] = ()):
        super().__init__(message)
        self.candidates = candidates  # close canonical names, best first (at most 5)
        self.matches = matches  # every row that matched when the name was ambiguous


def canonical_precision(precision: object) -> str:
    """'fp32', 'bf16', ... from a table name, a dtype name ('bfloat16') or a torch dtype."""
    key = str(precision).strip().lower().removeprefix("torch.")
    key = _PRECISION_ALIASES.get(key, key)
    if key not in PRECISIONS:
        raise PrecisionUnsupported(f"unknown precision {precision!r}; known: {', '.join(PRECISIONS)}")
    return key


@dataclass(frozen=True)
class Accelerator:
    """One row of the peak table. Rates in FLOP/s (OP/s for int8), dense, per chip."""

    name: str
    aliases: tuple[str, ...]
    default_for: tuple[str, ...]
    vendor: str
    kind: str
    year: int | None
    fp64: float | None
    fp32: float | None
    tf32: float | None
    fp16: float | None
    bf16: float | None
    fp8: float | None
    int8: float | None
    memory_gb: float | None
    memory_bandwidth_gbs: float | None
    unit: str
    chips_per_board: int
    board_bf16: float | None
    sparse_quoted: bool
    generation: str | None  # architecture generation ("volta", "tpu-v4"); None where the table names none
    cores_per_chip: int | None  # cores a paper may count instead of chips (TPU TensorCores); None: not stated
    source: str
    notes: str

    @property
    def precisions(self) -> tuple[str, ...]:
        """The precisions this chip has a peak for, in `PRECISIONS` order."""
        return tuple(p for p in PRECISIONS if getattr(self, p) is not None)

    def has(self, precision: object) -> bool:
        return getattr(self, canonical_precision(precision)) is not None

    def peak(self, precision: object) -> float:
        """Dense peak of one chip in FLOP/s; `PrecisionUnsupported` where the table has none."""
        key = canonical_precision(precision)
        value: float | None = getattr(self, key)
        if value is None:
            have = ", ".join(self.precisions) or "none (use a measured ceiling)"
            raise PrecisionUnsupported(f"{self.name} has no {key} peak in the table; it has: {have}")
        return value

    def board_peak(self, precision: object) -> float:
        """peak x chips_per_board: the rate of one board/package (K80 board, MI250X OAM, TPU v3 board)."""
        return self.peak(precision) * self.chips_per_board

    def peaks(self) -> dict[str, float]:
        """Every available peak, FLOP/s, keyed by precision."""
        return {p: self.peak(p) for p in self.precisions}


# ---------------------------------------------------------------------------------------- loading

_GENERATION_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def _packaged_csv() -> str:
    return resources.files("harness.hardware").joinpath("peaks.csv").read_text(encoding="utf-8")


def _num(text: str, where: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{where}: {text!r} must be a positive number or empty")
    return value


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(";") if part.strip())


def _parse_row(raw: dict[str, str], line: int) -> Accelerator:
    where = f"peaks.csv line {line}"
    name = raw["name"].strip()
    if not name:
        raise ValueError(f"{where}: empty name")
    where = f"{where} ({name})"
    kind = raw["kind"].strip()
    if kind not in KINDS:
        raise ValueError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    unit = raw["unit"].strip()
    if unit != "chip":
        raise ValueError(f"{where}: unit must be 'chip' (convert board figures), got {unit!r}")
    sparse = raw["sparse_quoted"].strip().lower()
    if sparse not in ("true", "false"):
        raise ValueError(f"{where}: sparse_quoted must be true or false, got {sparse!r}")
    cpb = raw["chips_per_board"].strip() or "1"
    if not cpb.isdigit() or int(cpb) < 1:
        raise ValueError(f"{where}: chips_per_board must be a positive integer, got {cpb!r}")
    year = raw["year"].strip()
    if year and not year.isdigit():
        raise ValueError(f"{where}: year {year!r} is not an integer")
    generation = raw["generation"].strip()
    if generation and not _GENERATION_NAME.fullmatch(generation):
        raise ValueError(f"{where}: generation {generation!r} must be lower-case words joined by '-'")
    cores = raw["cores_per_chip"].strip()
    if cores and (not cores.isdigit() or int(cores) < 1):
        raise ValueError(f"{where}: cores_per_chip must be a positive integer or empty, got {cores!r}")
    source = raw["source"].strip()
    if not source:
        raise ValueError(f"{where}: every row needs a source")

    def rate(column: str) -> float | None:
        # TFLOP/s -> FLOP/s in decimal arithmetic, so "15.7" becomes exactly the float 15.7e12
        value = _num(raw[column], f"{where} {column}")
        return None if value is None else float(Decimal(raw[column].strip()) * 10**12)

    return Accelerator(
        name=name,
        aliases=_split(raw["aliases"]),
        default_for=_split(raw["default_for"]),
        vendor=raw["vendor"].strip(),
        kind=kind,
        year=int(year) if year else None,
        fp64=rate("fp64"),
        fp32=rate("fp32"),
        tf32=rate("tf32"),
        fp16=rate("fp16"),
        bf16=rate("bf16"),
        fp8=rate("fp8"),
        int8=rate("int8"),
        memory_gb=_num(raw["memory_gb"], f"{where} memory_gb"),
        memory_bandwidth_gbs=_num(raw["memory_bandwidth_gbs"], f"{where} memory_bandwidth_gbs"),
        unit=unit,
        chips_per_board=int(cpb),
        board_bf16=rate("board_bf16"),
        sparse_quoted=sparse == "true",
        generation=generation or None,
        cores_per_chip=int(cores) if cores else None,
        source=source,
        notes=raw["notes"].strip(),
    )


@functools.lru_cache(maxsize=8)
def _load(path: str | None) -> tuple[Accelerator, ...]:
    text = _packaged_csv() if path is None else Path(path).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in _COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise ValueError(f"peaks table {path or 'peaks.csv'} lacks columns: {', '.join(missing)}")
    rows: list[Accelerator] = []
    seen: set[str] = set()
    for line, raw in enumerate(reader, start=2):
        acc = _parse_row(raw, line)
        if acc.name in seen:
            raise ValueError(f"peaks.csv line {line}: duplicate name {acc.name!r}")
        seen.add(acc.name)
        rows.append(acc)
    _build_index(tuple(rows))  # validates that no name or alias points at two rows
    return tuple(rows)


def load_table(path: str | Path | None = None) -> dict[str, Accelerator]:
    """Canonical name -> `Accelerator`, from the packaged peaks.csv unless `path` is given (cached)."""
    return {acc.name: acc for acc in _load(None if path is None else str(path))}


# ---------------------------------------------------------------------------------------- matching

@dataclass(frozen=True)
class _Index:
    rows: tuple[Accelerator, ...]
    exact: dict[str, Accelerator]  # compact name/alias -> row
    defaults: dict[str, Accelerator]  # compact default_for entry -> row
    # per row: the row, its normalised names and aliases, and their word sets
    keys: tuple[tuple[Accelerator, tuple[str, ...], tuple[frozenset[str], ...]], ...]


def _build_index(rows: tuple[Accelerator, ...]) -> _Index:
    exact: dict[str, Accelerator] = {}
    defaults: dict[str, Accelerator] = {}
    keys = []
    for acc in rows:
        names: list[str] = []
        for label in (acc.name, *acc.aliases):
            norm, _ = normalise(label)
            key = compact(norm)
            other = exact.get(key)
            if other is not None and other is not acc:
                raise ValueError(f"peaks table: {label!r} names both {other.name!r} and {acc.name!r}")
            exact[key] = acc
            names.append(norm)
        for label in acc.default_for:
            key = compact(normalise(label)[0])
            if key in exact and exact[key] is not acc:
                raise ValueError(
                    f"peaks table: default {label!r} of {acc.name!r} is a name of {exact[key].name!r}"
                )
            if key in defaults and defaults[key] is not acc:
                raise ValueError(f"peaks table: {label!r} is the default of two rows")
            defaults[key] = acc
        keys.append((acc, tuple(dict.fromkeys(names)), tuple(tokens(n) for n in dict.fromkeys(names))))
    return _Index(rows, exact, defaults, tuple(keys))


@functools.lru_cache(maxsize=8)
def _index(path: str | None) -> _Index:
    return _build_index(_load(path))


def _token_matches(index: _Index, query: frozenset[str]) -> list[Accelerator]:
    found = []
    for acc, _names, token_sets in index.keys:
        if any(query <= ks and all(optional(w) for w in ks - query) for ks in token_sets):
            found.append(acc)
    return found


def _candidates(index: _Index, norm: str, limit: int = 5) -> tuple[str, ...]:
    """Rows whose names, or words, are close to the query (difflib ratios), best first."""
    words = norm.split()
    scored = []
    for acc, names, token_sets in index.keys:
        whole = max(ratio(norm, n) for n in names)
        row_words = sorted(set().union(*token_sets))
        per_word = sum(max(ratio(w, rw) for rw in row_words) for w in words) / len(words)
        score = max(whole, per_word)
        if score >= 0.6:
            scored.append((-score, acc.name))
    return tuple(name for _, name in sorted(scored)[:limit])


def _vendor_ok(acc: Accelerator, vendor: str | None) -> bool:
    return vendor is None or vendor_key(acc.vendor) == vendor


@functools.lru_cache(maxsize=4096)
def _resolve(name: str, path: str | None, allow_default: bool) -> Accelerator:
    index = _index(path)
    norm, vendor = normalise(name)
    if not norm:
        raise UnknownHardware(f"empty hardware name {name!r}")
    key = compact(norm)

    def refuse_vendor(found: list[Accelerator]) -> UnknownHardware:
        others = ", ".join(f"{a.name} ({a.vendor})" for a in found[:5])
        return UnknownHardware(
            f"hardware {name!r} names vendor {vendor} but matches only other vendors' chips: {others}",
            candidates=tuple(a.name for a in found[:5]),
        )

    hit = index.exact.get(key)
    if hit is not None:
        if not _vendor_ok(hit, vendor):
            raise refuse_vendor([hit])
        return hit

    every = _token_matches(index, tokens(norm))
    found = [a for a in every if _vendor_ok(a, vendor)]
    if len(found) == 1:
        return found[0]
    default = index.defaults.get(key)
    if allow_default and default is not None and _vendor_ok(default, vendor):
        return default
    if every and not found:
        raise refuse_vendor(every)
    if found:
        names = tuple(a.name for a in found)
        more = f" and {len(names) - 5} more" if len(names) > 5 else ""
        hint = "" if allow_default or default is None else f" (default {default.name} refused)"
        raise UnknownHardware(
            f"ambiguous hardware name {name!r}: matches {', '.join(names[:5])}{more}; name the variant{hint}",
            candidates=names[:5],
            matches=names,
        )
    close = _candidates(index, norm)
    listed = ", ".join(close) if close else "none"
    raise UnknownHardware(f"unknown hardware {name!r}; close: {listed}", candidates=close)


def resolve(name: str, path: str | Path | None = None, *, allow_default: bool = True) -> Accelerator:
    """The table row a hardware name denotes (see the module docstring for the rules)."""
    return _resolve(str(name), None if path is None else str(path), allow_default)


def resolve_many(
    cell: str | float | None, path: str | Path | None = None, *, allow_default: bool = True
) -> list[Accelerator]:
    """Rows for a dataset cell listing several chips separated by commas (empty or NaN cell -> [])."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return []
    return [resolve(part, path, allow_default=allow_default) for part in str(cell).split(",") if part.strip()]


def _row(chip: str | Accelerator, path: str | Path | None) -> Accelerator:
    return chip if isinstance(chip, Accelerator) else resolve(chip, path)


def generation(chip: str | Accelerator, path: str | Path | None = None) -> str | None:
    """The chip's architecture generation from the table's `generation` column ("volta", "tpu-v4").

    None where the row names no generation: callers group such a chip on its own or say it has none,
    never under an invented name. A name that resolves to no row raises `UnknownHardware`.
    """
    return _row(chip, path).generation


def cores_per_chip(chip: str | Accelerator, path: str | Path | None = None) -> int | None:
    """Cores per chip that a paper or a slice name may count instead of chips (TPU v2/v3/v4/v5p: 2).

    None where the table states no such count (GPUs: a GPU is counted as one device).
    """
    return _row(chip, path).cores_per_chip
