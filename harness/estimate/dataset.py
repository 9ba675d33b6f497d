"""Reading a dataset of ML systems in Epoch AI's "all ML systems" schema, and checking its rows.

`load_systems(path)` reads any CSV with that schema from where the user keeps it (the harness never
copies it) into frozen `SystemRow`s. For each row, `peak_flop_per_s` picks the dense per-chip peak
the hardware method would use, `implied_utilisation` is compute / (chips x seconds x peak), and
`flags` runs small pure detectors that name the likely data error behind an implausible figure.

Reading policy (decided here, once):

* A file that is not a text CSV of this schema (binary, empty, or lacking a required column:
  `REQUIRED_COLUMNS`) raises `DatasetError`, one line naming what is missing. Other columns are
  optional: where absent, their fields are None.
* A cell that cannot be read ("1e", "3 days" in the hours column, "512 GPUs" in the quantity
  column, a negative or zero count, a fine-tune compute of "7" FLOP) never becomes a number by
  guessing: the field is None and the row carries an `unreadable_value` flag quoting the cell.
  The row is kept while some figure (compute, parameters, dataset size, epochs, hours, chip count,
  chip-hours) remains. It goes to `Systems.rejected`, with the reason, when one of those figures
  was unreadable and none remains, when the model name is empty, or when the line has the wrong
  number of cells. A row that is merely sparse (no bad cell) is always kept.
* A hardware name that matches no row of the peak table (or is ambiguous) does not reject the row:
  the names that resolve are kept in `accelerators`, the others give a `hardware_unknown` flag.
* MFU is a fraction. A value in (1, 100], or one written with "%", is read as a percentage
  (mfu = value / 100) and flagged `mfu_percentage_as_fraction`; `mfu_raw` keeps the cell.
* Numerical format: the fastest format listed is the one the matmuls ran in ("TF32,FP32" -> tf32,
  "FP8,BF16,FP32" -> fp8); "Unknown" and unlisted formats give None.

Flag codes: unreadable_value, hardware_unknown, utilisation_above_1, utilisation_below_0.01,
mfu_percentage_as_fraction, implied_above_reported_mfu, chip_hours_as_hours, chip_hours_mismatch,
compute_includes_base_model, sparse_peak_suspected, board_peak_suspected, precision_peak_mismatch,
hardware_method_circular, hardware_method_suspected. Detectors (`DETECTORS`, each `SystemRow -> Flag | None`) compare figures,
they do not fix them: a flag is a hypothesis with its numbers in the message, and several may name
rival explanations of one implausible value.

The arithmetic behind the peak mix-ups: if the compute itself came from the hardware method,
C = n x t x P' x u0 with Epoch's default u0 (0.3 or 0.4) and some peak P', the implied utilisation
against the dense per-chip peak P is u0 x P'/P: 2 x u0 for a 2:4-sparse headline (P' = 2P),
board/chip x u0 for a board figure (TPU v3: 420/123 = 3.41), the peak ratio for another precision
(A100 fp32 19.5 vs bf16 312: 0.0625 x u0). A compute independent of the hardware (operation
counting) carries no peak, but a wrong count of chips (boards counted as chips) or hours (GPU-hours
in the wall-clock column) scales the implied utilisation all the same; such a reading is named
when it brings an out-of-range value back into `PLAUSIBLE`. A fine-tune's compute that includes
its base model's pretraining, over the fine-tune's hours, inflates it by orders of magnitude.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from harness.estimate import methods
from harness.hardware.table import Accelerator, UnknownHardware, resolve

if TYPE_CHECKING:
    import pandas

__all__ = [
    "COLUMNS",
    "DETECTORS",
    "REQUIRED_COLUMNS",
    "DatasetError",
    "Flag",
    "Rejected",
    "SystemRow",
    "Systems",
    "flags",
    "generation",
    "implied_utilisation",
    "load_systems",
    "peak_flop_per_s",
    "row_generation",
    "to_frame",
]

# field -> column of the Epoch schema
COLUMNS: dict[str, str] = {
    "model": "Model",
    "domain": "Domain",
    "organisation": "Organization",
    "date": "Publication date",
    "parameters": "Parameters",
    "compute": "Training compute (FLOP)",
    "dataset_size": "Training dataset size (datapoints)",
    "epochs": "Epochs",
    "hours": "Training time (hours)",
    "hardware": "Training hardware",
    "quantity": "Hardware quantity",
    "chip_hours": "Training chip-hours",
    "mfu": "Hardware utilization (MFU)",
    "precision": "Numerical format",
    "method": "Training compute estimation method",
    "batch_size": "Batch size",
    "confidence": "Confidence",
    "base_model": "Base model",
    "finetune_compute": "Finetune compute (FLOP)",
    "parameters_notes": "Parameters notes",
    "compute_notes": "Training compute notes",
}
REQUIRED_COLUMNS: tuple[str, ...] = (
    "Model",
    "Training compute (FLOP)",
    "Training hardware",
    "Hardware quantity",
    "Training time (hours)",
)
# figures whose presence makes a row usable when one of its cells could not be read
_FIGURES = ("compute", "parameters", "dataset_size", "epochs", "hours", "quantity", "chip_hours")
_UNIT_HINT = {
    "hours": "a bare number of wall-clock hours",
    "quantity": "a bare count of chips",
    "chip_hours": "a bare number of chip-hours",
    "compute": "a bare number of FLOP",
}

PLAUSIBLE: tuple[float, float] = (0.05, 0.75)  # utilisation a real training run can have (wall clock)
LOW_UTILISATION = 0.01  # below this a figure is almost surely wrong, not just slow
DEFAULT_UTILISATIONS: tuple[float, ...] = (0.3, 0.4)  # Epoch's recommended hardware-method defaults
MATCH_TOLERANCE = 0.02  # relative: "implied == factor x default" within 2% (peaks differ by ~0.1%)
MFU_SLACK = 1.25  # implied (wall clock) may exceed the reported MFU by 25% before it is flagged
CHIP_HOURS_RATIO = 1.5  # hours x chips vs the chip-hours column: a factor beyond this is a mismatch
MIN_FINETUNE_FLOP = 1e10  # a fine-tune "compute" below 10 GFLOP is a lost exponent ("7" for 7.8e21)
CHIP_HOURS_TOLERANCE = 0.05  # "hours equals the chip-hours column" within 5%
_INDEPENDENT_METHODS = frozenset({"operation counting", "reported"})
# the fastest listed numerical format is the matmul format; int8 after fp8 (training in int8 is rare)
_PRECISION_SPEED = ("fp8", "int8", "bf16", "fp16", "tf32", "fp32")


class DatasetError(ValueError):
    """A file that is not a CSV of the Epoch systems schema."""


@dataclass(frozen=True)
class Flag:
    """A machine-readable code and a sentence with the numbers behind it."""

    code: str
    message: str


@dataclass(frozen=True)
class Rejected:
    """A line that was skipped, with why. `line` is the record's first physical line (header = 1)."""

    line: int
    model: str
    reason: str


@dataclass(frozen=True)
class SystemRow:
    """One system as read. Figures in their column's unit: compute in FLOP, hours wall-clock."""

    model: str
    line: int = 0
    domain: str | None = None  # first listed domain, lower case: "multimodal,language" -> "multimodal"
    domain_raw: str | None = None
    domains: tuple[str, ...] = ()
    year: int | None = None
    date: float | None = None  # decimal year of the publication date: 2015-07-02 -> 2015.5 (day 183 of 365)
    organisation: str | None = None
    parameters: float | None = None
    compute: float | None = None  # FLOP
    dataset_size: float | None = None  # datapoints
    epochs: float | None = None
    hours: float | None = None  # wall-clock
    chip_hours: float | None = None
    quantity: float | None = None  # chips
    hardware_raw: str | None = None
    accelerators: tuple[Accelerator, ...] = ()
    hardware_unresolved: tuple[str, ...] = ()  # one reason per name that matched nothing
    mfu: float | None = None  # fraction
    mfu_raw: str | None = None
    precision: str | None = None  # fp32 | tf32 | fp16 | bf16 | fp8 | int8
    precision_raw: str | None = None
    estimation_method: str | None = None
    estimation_methods: frozenset[str] = field(default_factory=frozenset)  # lower case
    batch_size: float | None = None
    confidence: str | None = None
    base_model: str | None = None  # the system this one was fine-tuned from
    finetune_compute: float | None = None  # FLOP of the fine-tune alone
    parameters_notes: str | None = None
    compute_notes: str | None = None
    problems: tuple[Flag, ...] = ()  # cells that could not be read


@dataclass(frozen=True)
class Systems:
    rows: list[SystemRow]
    rejected: list[Rejected]
    path: str = ""
    missing_optional: tuple[str, ...] = ()  # optional columns the file lacks (their fields are None)


# ---------------------------------------------------------------------------------------- reading


def _text(cell: str | None) -> str | None:
    cell = (cell or "").strip()
    return cell or None


# a number followed by a word ("3 days", "512 GPUs", "40%"); a lone "e" is a broken exponent, not a unit
_NUMBER_WITH_WORD = re.compile(
    r"^[-+]?[\d.,]+(?:e[-+]?\d+)?\s*(%|[A-Za-z]{2,}[\w-]*|[A-DF-Za-df-z]\b)", re.IGNORECASE
)


def _number(cell: str | None, name: str, column: str) -> tuple[float | None, Flag | None]:
    """(value, None) for a finite positive number, (None, None) for an empty cell, else a flag."""
    text = _text(cell)
    if text is None:
        return None, None
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is not None and math.isfinite(value) and value > 0:
        return value, None
    if value is not None and math.isfinite(value):
        why = "must be positive"
    elif (m := _NUMBER_WITH_WORD.match(text)) is not None:
        want = _UNIT_HINT.get(name, "a bare number")
        why = f"holds a unit ({m.group(1)!r}); the column wants {want}, not converted"
    else:
        why = "is not a number"
    return None, Flag("unreadable_value", f"{column}: {text!r} {why}; field left empty")


def _mfu(cell: str | None, column: str) -> tuple[float | None, list[Flag]]:
    text = _text(cell)
    if text is None:
        return None, []
    percent = text.endswith("%")
    value, bad = _number(text.rstrip("%").strip() if percent else text, "mfu", column)
    if bad is not None:
        return None, [Flag("unreadable_value", f"{column}: {text!r} is not a utilisation; field left empty")]
    assert value is not None
    if percent or 1 < value <= 100:
        said = f"{column} holds {text!r}, a percentage in a fraction column; read as {value / 100:g}"
        return value / 100, [Flag("mfu_percentage_as_fraction", said)]
    if value > 100:
        return None, [Flag("unreadable_value", f"{column}: {text!r} is above 100%; field left empty")]
    return value, []


def _decimal_year(year: int, month: int | None, day: int | None) -> float | None:
    """year + (day of the year - 1) / days in the year; a missing month or day is the 1st."""
    try:
        start = date(year, 1, 1)
        days = (date(year + 1, 1, 1) - start).days if year < 9999 else 365
        return year + (date(year, month or 1, day or 1) - start).days / days
    except ValueError:  # month 13, 30 February: the year still reads
        return None


def _year(cell: str | None, column: str) -> tuple[int | None, float | None, Flag | None]:
    """(year, decimal year, flag) of a "YYYY[-MM[-DD]]" cell."""
    text = _text(cell)
    if text is None:
        return None, None, None
    m = re.match(r"^(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?(?:[ T].*)?$", text)
    if m is None:
        return None, None, Flag("unreadable_value",
                                f"{column}: {text!r} is not a date (YYYY-MM-DD); year left empty")
    year = int(m.group(1))
    return year, _decimal_year(year, *(int(g) if g else None for g in m.groups()[1:])), None


def _precision(cell: str | None) -> str | None:
    words = {w.strip().lower() for w in (cell or "").split(",")}
    return next((p for p in _PRECISION_SPEED if p in words), None)


def _hardware(cell: str | None) -> tuple[tuple[Accelerator, ...], tuple[str, ...]]:
    found: list[Accelerator] = []
    unresolved: list[str] = []
    for part in (cell or "").split(","):
        if not part.strip():
            continue
        try:
            found.append(resolve(part.strip()))
        except UnknownHardware as e:
            unresolved.append(str(e))
    return tuple(found), tuple(unresolved)


def _open_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(first line, cells)]); `DatasetError` for anything that is not a text CSV."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file; pass the path of an Epoch systems CSV") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path} is not a CSV of the Epoch systems schema: not UTF-8 text") from None
    if "\x00" in text:
        raise DatasetError(f"{path} is not a CSV of the Epoch systems schema: binary content (NUL bytes)")
    reader = csv.reader(text.splitlines(keepends=True))
    records: list[tuple[int, list[str]]] = []
    try:
        header = next(reader, None)
        start = reader.line_num + 1
        for cells in reader:
            if cells:
                records.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as e:
        raise DatasetError(f"{path} is not a readable CSV (line {reader.line_num}: {e})") from None
    if not header:
        raise DatasetError(f"{path} is empty: expected a CSV with columns {', '.join(REQUIRED_COLUMNS)}")
    return [h.strip() for h in header], records


def load_systems(path: str | Path) -> Systems:
    """Read a CSV of the Epoch "all ML systems" schema (see the module docstring for the policy)."""
    p = Path(path)
    header, records = _open_rows(p)
    index = {h.lower(): i for i, h in reversed(list(enumerate(header)))}  # first of duplicate names
    missing = [c for c in REQUIRED_COLUMNS if c.lower() not in index]
    if missing:
        named = ", ".join(repr(c) for c in missing)
        raise DatasetError(f"{p} is not an Epoch systems CSV: missing column(s) {named}")
    optional_missing = tuple(c for c in COLUMNS.values() if c.lower() not in index)
    rows: list[SystemRow] = []
    rejected: list[Rejected] = []
    for line, cells in records:
        def cell(name: str, cells: list[str] = cells) -> str | None:
            i = index.get(COLUMNS[name].lower())
            return cells[i] if i is not None and i < len(cells) else None

        model = _text(cell("model")) or ""
        if len(cells) != len(header):
            rejected.append(Rejected(line, model, f"{len(cells)} cells where the header has {len(header)}"))
            continue
        if not model:
            rejected.append(Rejected(line, model, "empty Model name"))
            continue
        row, reason = _parse(line, model, cell)
        if row is None:
            rejected.append(Rejected(line, model, reason))
        else:
            rows.append(row)
    return Systems(rows, rejected, str(p), optional_missing)


def _parse(line: int, model: str, cell: Callable[[str], str | None]) -> tuple[SystemRow | None, str]:
    problems: list[Flag] = []
    figures: dict[str, float | None] = {}
    for name in (*_FIGURES, "batch_size"):
        figures[name], bad = _number(cell(name), name, COLUMNS[name])
        if bad is not None:
            problems.append(bad)
    bad_figures = [f for f in problems if not f.message.startswith(COLUMNS["batch_size"] + ":")]
    if bad_figures and all(figures[n] is None for n in _FIGURES):
        # a figure was there but unreadable, and no other figure remains
        return None, "; ".join(f.message for f in bad_figures) + "; no other figure remains"
    mfu, mfu_flags = _mfu(cell("mfu"), COLUMNS["mfu"])
    problems += mfu_flags
    year, decimal_year, bad_year = _year(cell("date"), COLUMNS["date"])
    if bad_year is not None:
        problems.append(bad_year)
    finetune, bad = _number(cell("finetune_compute"), "compute", COLUMNS["finetune_compute"])
    if finetune is not None and finetune < MIN_FINETUNE_FLOP:
        bad = Flag("unreadable_value",
                   f"{COLUMNS['finetune_compute']}: {_text(cell('finetune_compute'))!r} is not a plausible "
                   f"FLOP count (< {MIN_FINETUNE_FLOP:g}); field left empty")
        finetune = None
    if bad is not None:
        problems.append(bad)
    domain_raw = _text(cell("domain"))
    domains = tuple(d.strip().lower() for d in (domain_raw or "").split(",") if d.strip())
    method_raw = _text(cell("method"))
    accelerators, unresolved = _hardware(cell("hardware"))
    precision_raw = _text(cell("precision"))
    return SystemRow(
        model=model,
        line=line,
        domain=domains[0] if domains else None,
        domain_raw=domain_raw,
        domains=domains,
        year=year,
        date=decimal_year,
        organisation=_text(cell("organisation")),
        parameters=figures["parameters"],
        compute=figures["compute"],
        dataset_size=figures["dataset_size"],
        epochs=figures["epochs"],
        hours=figures["hours"],
        chip_hours=figures["chip_hours"],
        quantity=figures["quantity"],
        hardware_raw=_text(cell("hardware")),
        accelerators=accelerators,
        hardware_unresolved=unresolved,
        mfu=mfu,
        mfu_raw=_text(cell("mfu")),
        precision=_precision(precision_raw),
        precision_raw=precision_raw,
        estimation_method=method_raw,
        estimation_methods=frozenset(m.strip().lower() for m in (method_raw or "").split(",") if m.strip()),
        batch_size=figures["batch_size"],
        confidence=_text(cell("confidence")),
        base_model=_text(cell("base_model")),
        finetune_compute=finetune,
        parameters_notes=_text(cell("parameters_notes")),
        compute_notes=_text(cell("compute_notes")),
        problems=tuple(problems),
    ), ""


# ---------------------------------------------------------------------------------------- peaks


def _matrix_fp16(acc: Accelerator) -> bool:
    """The table's fp16 is a matrix-unit figure (tensor core, MXU, cube), not packed half2.

    NB: the table holds the matrix figure where a chip has one; a GPU without one (Pascal, Vega)
    runs half2 at exactly 2x fp32, tensor cores give 4x or more, so "more than 2x fp32" tells them apart.
    """
    if acc.fp16 is None:
        return False
    return acc.kind != "gpu" or acc.fp32 is None or acc.fp16 > 2.05 * acc.fp32


def _epoch_order(acc: Accelerator) -> tuple[str | None, str]:
    """Epoch's order: Tensor-FP16/BF16, then TF32, then FP16 (TPUs only), then FP32."""
    if acc.bf16 is not None:
        return "bf16", "Tensor-FP16/BF16"
    if _matrix_fp16(acc):
        return "fp16", "Tensor-FP16/BF16"
    if acc.tf32 is not None:
        return "tf32", "TF32"
    if acc.kind == "tpu" and acc.fp16 is not None:
        return "fp16", "FP16 (TPU)"
    if acc.fp32 is not None:
        return "fp32", "FP32"
    return None, "none"


def _chip_peak(acc: Accelerator, precision: str | None) -> tuple[float | None, str | None, str]:
    """(FLOP/s, precision used, rule) for one chip."""
    if precision is not None and acc.has(precision):
        return acc.peak(precision), precision, "the row's numerical format"
    key, step = _epoch_order(acc)
    if key is None:
        return None, None, f"{acc.name} has no peak in the table"
    why = f"Epoch order: {step}" + (f"; {precision} not in the table for this chip" if precision else "")
    return acc.peak(key), key, why


def peak_flop_per_s(row: SystemRow) -> tuple[float | None, str]:
    """The dense per-chip peak the hardware method should use, and the rule that picked it."""
    if not row.accelerators:
        return None, "no resolved hardware" if row.hardware_raw else "no hardware given"
    picks = [_chip_peak(acc, row.precision) for acc in row.accelerators]
    value, key, why = picks[0]
    acc = row.accelerators[0]
    rule = f"{key} of {acc.name}, {why}" if value is not None else why
    if value is not None:
        rule += f": {value / 1e12:g} TFLOP/s dense per chip"
    if len({p[0] for p in picks}) > 1:
        names = ", ".join(a.name for a in row.accelerators)
        rule = f"first of {len(picks)} chips ({names}), peaks differ: {rule}"
    return value, rule


def implied_utilisation(row: SystemRow) -> float | None:
    """compute / (quantity x hours x 3600 x peak); None where an input is missing."""
    peak, _ = peak_flop_per_s(row)
    if None in (row.compute, row.quantity, row.hours, peak):
        return None
    seconds = row.hours * 3600  # type: ignore[operator]
    return methods.implied_utilisation(row.compute, row.quantity, seconds, peak)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------- generations

_GENERATION_OF: dict[str, tuple[str, ...]] = {
    "tesla-gt200": ("GeForce GTX 280", "GeForce GTX 285"),
    "fermi": ("GeForce GTX 580",),
    "kepler": ("Tesla K20c", "Tesla K20X", "Quadro K4000", "Quadro K6000", "GeForce GTX TITAN",
               "GeForce GTX 780", "Tesla K40", "Tesla K80"),
    "maxwell": ("GeForce GTX 980", "GeForce GTX TITAN X", "Tesla M40"),
    "pascal": ("Tesla P100 SXM2 16GB", "Tesla P100 PCIe 16GB", "Tesla P100 PCIe 12GB", "Tesla P40",
               "GeForce GTX 1080", "Quadro GP100", "TITAN X (Pascal)", "GeForce GTX 1080 Ti", "TITAN Xp"),
    "volta": ("Tesla V100 SXM2 16GB", "Tesla V100 SXM2 32GB", "Tesla V100 SXM3 32GB", "Tesla V100 PCIe 16GB",
              "Tesla V100 PCIe 32GB", "Tesla V100S PCIe 32GB", "TITAN V"),
    "turing": ("Tesla T4", "GeForce RTX 2080", "GeForce RTX 2080 Ti", "Quadro RTX 4000", "Quadro RTX 5000",
               "Quadro RTX 6000", "Quadro RTX 8000"),
    "ampere": ("A100 SXM4 40GB", "A100 SXM4 80GB", "A100 PCIe 40GB", "A100 PCIe 80GB", "A800 SXM4 80GB",
               "A800 PCIe 40GB", "A800 PCIe 80GB", "A30", "A10", "A10G", "A40", "RTX A1000", "RTX A5000",
               "RTX A6000", "GeForce RTX 3060", "GeForce RTX 3070", "GeForce RTX 3080", "GeForce RTX 3090",
               "GeForce RTX 3090 Ti"),
    "ada": ("GeForce RTX 4060 Ti", "GeForce RTX 4090", "RTX 6000 Ada Generation", "L4", "L40", "L40S"),
    "hopper": ("H100 SXM5 80GB", "H100 PCIe", "H100 NVL", "H200 SXM 141GB", "H200 NVL", "GH200", "H800 SXM5",
               "H800 PCIe", "H20"),
    "blackwell": ("B200", "GB200"),
    "tpu-v1": ("TPU v1",), "tpu-v2": ("TPU v2",), "tpu-v3": ("TPU v3",), "tpu-v4": ("TPU v4",),
    "tpu-v5e": ("TPU v5e",), "tpu-v5p": ("TPU v5p",), "tpu-v6e": ("TPU v6e",),
    "amd-gcn5": ("Instinct MI50",), "amd-cdna1": ("Instinct MI100",),
    "amd-cdna2": ("Instinct MI250X", "Instinct MI250"), "amd-cdna3": ("Instinct MI300X", "Instinct MI325X"),
    "gaudi2": ("Gaudi 2",), "gaudi3": ("Gaudi 3",),
    "ascend-910": ("Ascend 910",), "ascend-910b": ("Ascend 910B",),
    "trainium1": ("Trainium1", "Inferentia2"), "trainium2": ("Trainium2",),
    "ipu-mk2": ("Graphcore GC200 IPU",), "wse-2": ("Cerebras CS-2",),
    "cpu": ("AMD EPYC 7413", "Intel Core i5-11600K", "Intel Core 2 Quad Q9450", "cpu"),
}
_GENERATION = {name: gen for gen, names in _GENERATION_OF.items() for name in names}


def generation(acc: Accelerator) -> str:
    """The chip's architecture generation ("volta", "ampere", "tpu-v4", ...), looked up by canonical name.

    A chip not listed here falls back to "<vendor>-<kind>-<year>", so grouping still works.
    """
    found = _GENERATION.get(acc.name)
    if found is not None:
        return found
    return f"{acc.vendor.lower() or 'unknown'}-{acc.kind}-{acc.year or 'unknown'}"


def row_generation(row: SystemRow) -> str | None:
    """The generation of the row's chips; "mixed" when they differ, None without resolved hardware."""
    gens = {generation(a) for a in row.accelerators}
    if not gens:
        return None
    return gens.pop() if len(gens) == 1 else "mixed"


# ---------------------------------------------------------------------------------------- detectors


def _near(value: float, target: float, tolerance: float = MATCH_TOLERANCE) -> bool:
    return abs(value / target - 1) <= tolerance


def _default_behind(u: float, factor: float) -> float | None:
    """The standard utilisation d with u == factor x d (within tolerance), if any."""
    return next((d for d in DEFAULT_UTILISATIONS if _near(u, factor * d)), None)


def _plausible(u: float) -> bool:
    return PLAUSIBLE[0] <= u <= PLAUSIBLE[1]


def _uses_hardware_method(row: SystemRow) -> bool:
    return "hardware" in row.estimation_methods


def _circular(row: SystemRow) -> bool:
    return _uses_hardware_method(row) and not (row.estimation_methods & _INDEPENDENT_METHODS)


def detect_hardware_unknown(row: SystemRow) -> Flag | None:
    if not row.hardware_unresolved:
        return None
    return Flag("hardware_unknown", "; ".join(row.hardware_unresolved))


def detect_utilisation_above_1(row: SystemRow) -> Flag | None:
    u = implied_utilisation(row)
    if u is None or u <= 1:
        return None
    return Flag("utilisation_above_1",
                f"implied utilisation {u:.3g} > 1: compute too high, or hours, chips or peak too low")


def detect_utilisation_below_001(row: SystemRow) -> Flag | None:
    u = implied_utilisation(row)
    if u is None or u >= LOW_UTILISATION:
        return None
    return Flag("utilisation_below_0.01",
                f"implied utilisation {u:.3g} < {LOW_UTILISATION}: "
                "compute too low, or hours or chips too high")


def detect_mfu_percentage(row: SystemRow) -> Flag | None:
    return next((f for f in row.problems if f.code == "mfu_percentage_as_fraction"), None)


def detect_implied_above_mfu(row: SystemRow) -> Flag | None:
    """Wall-clock time includes downtime, so the implied utilisation should sit at or below the MFU."""
    u = implied_utilisation(row)
    if u is None or row.mfu is None or u <= MFU_SLACK * row.mfu:
        return None
    return Flag("implied_above_reported_mfu",
                f"implied utilisation {u:.3g} is {u / row.mfu:.2g}x the reported MFU {row.mfu:.3g}: "
                "hours too short, chips too few, or compute too high")


def detect_chip_hours_as_hours(row: SystemRow) -> Flag | None:
    """GPU-hours read as wall-clock hours: hours equals the chip-hours column, or only hours / chips fits."""
    q, h = row.quantity, row.hours
    if q is None or h is None or q <= 1:
        return None
    if row.chip_hours is not None and _near(h, row.chip_hours, CHIP_HOURS_TOLERANCE):
        return Flag("chip_hours_as_hours",
                    f"training time {h:g} h equals the chip-hours column ({row.chip_hours:g}) "
                    f"with {q:g} chips: "
                    f"wall-clock is likely {h / q:.4g} h")
    u = implied_utilisation(row)
    if u is not None and u < LOW_UTILISATION and _plausible(u * q):
        return Flag("chip_hours_as_hours",
                    f"implied utilisation {u:.3g} from {h:g} h, but {u * q:.3g} if {h:g} are chip-hours "
                    f"({h / q:.4g} h wall-clock on {q:g} chips)")
    return None


def _factor_flag(row: SystemRow, code: str, readings: list[tuple[float, str]]) -> Flag | None:
    """The flag when the implied utilisation is `factor` x what it should be, for the best of several
    (factor, what) readings: an exact "factor x default" match first, else the reading that brings an
    out-of-range value nearest the middle of `PLAUSIBLE` (see the module docstring)."""
    u = implied_utilisation(row)
    if u is None:
        return None
    # the exact test needs the compute to be the hardware estimate: hardware only, or mixed (often a
    # geometric mean with a count) where the value is implausible as it stands
    if _circular(row) or (_uses_hardware_method(row) and not _plausible(u)):
        for factor, what in readings:
            d = _default_behind(u, factor)
            if d is not None:
                return Flag(code, f"implied utilisation {u:.3g} = {factor:.3g} x the default {d}: "
                                  f"the hardware-method compute likely used {what}")
    if u > 1 or u < LOW_UTILISATION:
        middle = math.sqrt(PLAUSIBLE[0] * PLAUSIBLE[1])
        fits = sorted((abs(math.log(u / f / middle)), f, what) for f, what in readings if _plausible(u / f))
        if fits:
            _, factor, what = fits[0]
            return Flag(code, f"implied utilisation {u:.3g} is out of range but {u / factor:.3g} with {what}")
    return None


def detect_sparse_peak(row: SystemRow) -> Flag | None:
    """A 2:4-sparse headline (2x dense) used as the peak: implied = 2 x the assumed utilisation."""
    acc = row.accelerators[0] if row.accelerators else None
    if acc is None or not acc.sparse_quoted:
        return None
    return _factor_flag(row, "sparse_peak_suspected", [(2.0, f"{acc.name}'s sparse headline (2x dense)")])


def detect_board_peak(row: SystemRow) -> Flag | None:
    """A per-board figure used per chip, or boards counted as chips: implied = board/chip x the truth."""
    acc = row.accelerators[0] if row.accelerators else None
    if acc is None or acc.chips_per_board <= 1:
        return None
    peak, _ = peak_flop_per_s(row)
    boards = f"a count of {acc.name} boards ({acc.chips_per_board} chips each) as chips"
    readings = [(float(acc.chips_per_board), boards)]
    if acc.board_bf16 is not None and peak:
        figure = f"the {acc.board_bf16 / 1e12:g} TFLOP/s board figure per chip"
        readings.append((acc.board_bf16 / peak, figure))
    return _factor_flag(row, "board_peak_suspected", readings)


def detect_precision_peak(row: SystemRow) -> Flag | None:
    """The peak of another precision behind the compute (FP32 for a bf16 A100 run): ratio = peak ratio."""
    acc = row.accelerators[0] if row.accelerators else None
    peak, _ = peak_flop_per_s(row)
    if acc is None or not peak:
        return None
    readings = [(other / peak, f"the {names} peak ({other / 1e12:g} TFLOP/s, not {peak / 1e12:g})")
                for other, names in sorted(_other_peaks(acc, peak).items())]
    return _factor_flag(row, "precision_peak_mismatch", readings)


def _other_peaks(acc: Accelerator, peak: float) -> dict[float, str]:
    """Peaks of the chip's other training precisions, FLOP/s -> "fp32/tf32" (names sharing a value)."""
    others: dict[float, str] = {}
    for p in ("fp32", "tf32", "fp16", "bf16", "fp8"):
        if acc.has(p) and acc.peak(p) != peak:
            others[acc.peak(p)] = f"{others[acc.peak(p)]}/{p}" if acc.peak(p) in others else p
    return others


def _explained_by_peak(row: SystemRow, u: float) -> bool:
    """A hardware-only compute whose implied utilisation is a default times some peak ratio of its chip."""
    acc = row.accelerators[0] if row.accelerators else None
    peak, _ = peak_flop_per_s(row)
    if acc is None or not peak or not _circular(row):
        return False
    factors = [1.0, *(other / peak for other in _other_peaks(acc, peak))]
    factors += [2.0] if acc.sparse_quoted else []
    factors += [float(acc.chips_per_board)] if acc.chips_per_board > 1 else []
    factors += [acc.board_bf16 / peak] if acc.board_bf16 else []
    return any(_default_behind(u, f) is not None for f in factors)


def detect_chip_hours_mismatch(row: SystemRow) -> Flag | None:
    """hours x chips disagrees with the chip-hours column (one of the three is wrong)."""
    q, h, ch = row.quantity, row.hours, row.chip_hours
    if q is None or h is None or ch is None or _near(h, ch, CHIP_HOURS_TOLERANCE):
        return None  # hours == chip-hours is chip_hours_as_hours
    ratio = h * q / ch
    if 1 / CHIP_HOURS_RATIO <= ratio <= CHIP_HOURS_RATIO:
        return None
    hint = f" (= 1/{q:g}: the chip-hours column counts the chips twice)" if _near(ratio * q, 1) else ""
    return Flag("chip_hours_mismatch",
                f"{h:g} h x {q:g} chips = {h * q:g} chip-hours, but the chip-hours column says {ch:g}: "
                f"ratio {ratio:.3g}{hint}")


def detect_base_model_compute(row: SystemRow) -> Flag | None:
    """A fine-tune's compute that includes its base model's pretraining; hours and chips are the tune's."""
    u = implied_utilisation(row)
    if row.base_model is None or u is None or row.compute is None or _explained_by_peak(row, u):
        return None
    ft = row.finetune_compute
    if ft is not None and row.compute > 2 * ft:
        return Flag("compute_includes_base_model",
                    f"compute {row.compute:.3g} includes the base model ({row.base_model}); the fine-tune's "
                    f"{ft:.3g} FLOP over the same hours gives utilisation {u * ft / row.compute:.3g}, "
                    f"not {u:.3g}")
    if u > 1 or (row.mfu is not None and u > MFU_SLACK * row.mfu):
        return Flag("compute_includes_base_model",
                    f"implied utilisation {u:.3g} for a fine-tune of {row.base_model}: the compute likely "
                    "includes the base model's pretraining while hours and chips are the fine-tune's")
    return None


def detect_hardware_circular(row: SystemRow) -> Flag | None:
    """Compute from the hardware method alone: its implied utilisation is the assumption, not a measure."""
    if not _circular(row):
        return None
    u = implied_utilisation(row)
    d = _default_behind(u, 1.0) if u is not None else None
    said = "" if u is None else f"; implied {u:.3g}" + (f" = the default {d} it assumed" if d else "")
    return Flag("hardware_method_circular",
                f"compute estimated by the hardware method ({row.estimation_method}){said}; "
                "not evidence for calibration")


def detect_hardware_method_suspected(row: SystemRow) -> Flag | None:
    """No estimation method given, but the implied utilisation is exactly a default: likely circular."""
    if row.estimation_methods:
        return None
    u = implied_utilisation(row)
    d = _default_behind(u, 1.0) if u is not None else None
    if d is None:
        return None
    return Flag("hardware_method_suspected",
                f"no estimation method given, and the implied utilisation {u:.3g} is the default {d}: "
                "the compute was likely made by the hardware method; not evidence for calibration")


DETECTORS: tuple[Callable[[SystemRow], Flag | None], ...] = (
    detect_hardware_unknown,
    detect_utilisation_above_1,
    detect_utilisation_below_001,
    detect_mfu_percentage,
    detect_implied_above_mfu,
    detect_chip_hours_as_hours,
    detect_chip_hours_mismatch,
    detect_base_model_compute,
    detect_sparse_peak,
    detect_board_peak,
    detect_precision_peak,
    detect_hardware_circular,
    detect_hardware_method_suspected,
)


def flags(row: SystemRow) -> list[Flag]:
    """Every flag of a row: its unreadable cells first, then each detector's finding."""
    found = [f for f in row.problems if f.code == "unreadable_value"]
    found += [f for f in (d(row) for d in DETECTORS) if f is not None]
    return found


# ---------------------------------------------------------------------------------------- table


def to_frame(systems: Systems | list[SystemRow]) -> pandas.DataFrame:
    """One row per system: parsed fields, generation, peak and its rule, implied utilisation, flags."""
    import pandas as pd

    rows = systems.rows if isinstance(systems, Systems) else systems
    records = []
    for r in rows:
        peak, rule = peak_flop_per_s(r)
        found = flags(r)
        records.append({
            "line": r.line, "model": r.model, "domain": r.domain, "domain_raw": r.domain_raw, "year": r.year, "date": r.date,
            "organisation": r.organisation, "parameters": r.parameters, "compute_flop": r.compute,
            "dataset_size": r.dataset_size, "epochs": r.epochs, "hours": r.hours, "quantity": r.quantity,
            "chip_hours": r.chip_hours, "hardware_raw": r.hardware_raw,
            "accelerators": ";".join(a.name for a in r.accelerators) or None, "generation": row_generation(r),
            "precision": r.precision, "precision_raw": r.precision_raw, "mfu": r.mfu, "mfu_raw": r.mfu_raw,
            "estimation_method": r.estimation_method,
            "estimation_methods": ";".join(sorted(r.estimation_methods)) or None,
            "batch_size": r.batch_size, "confidence": r.confidence, "base_model": r.base_model,
            "finetune_compute_flop": r.finetune_compute,
            "peak_flop_per_s": peak, "peak_rule": rule, "implied_utilisation": implied_utilisation(r),
            "flags": ";".join(dict.fromkeys(f.code for f in found)),
            "flag_messages": " | ".join(f.message for f in found),
        })
    return pd.DataFrame.from_records(records)
