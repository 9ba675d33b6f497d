"""Reading a dataset of ML systems in Epoch AI's "all ML systems" schema, and checking its rows.

`load_systems(path)` reads any CSV with that schema from where the user keeps it (the harness never
copies it) into frozen `SystemRow`s. For each row, `peak_flop_per_s` picks the dense per-chip peak
the hardware method would use, `implied_utilisation` is compute / (chips x seconds x peak), and
`flags` runs small pure detectors that name the likely data error behind an implausible figure.
Cell readers live in `dataset_cells.py`, the detectors in `dataset_flags.py` (both re-exported
names: `flags`, `DETECTORS`, `decimal_year`); the thresholds in `findings.py`.

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
hardware_method_circular, hardware_method_suspected. Detectors (`DETECTORS`, each `SystemRow -> Finding | None`) compare figures,
they do not fix them: a flag is a hypothesis with its numbers in the message, and several may name
rival explanations of one implausible value.

The arithmetic behind the peak mix-ups: if the compute itself came from the hardware method,
C = n x t x P' x u0 with Epoch's default u0 (0.3 or 0.4) and some peak P', the implied utilisation
against the dense per-chip peak P is u0 x P'/P: 2 x u0 for a 2:4-sparse headline (P' = 2P),
board/chip x u0 for a board figure (TPU v3: 420/123 = 3.41), the peak ratio for another precision
(A100 fp32 19.5 vs bf16 312: 0.0625 x u0). A compute independent of the hardware (operation
counting) carries no peak, but a wrong count of chips (boards counted as chips) or hours (GPU-hours
in the wall-clock column) scales the implied utilisation all the same; such a reading is named
when it brings an out-of-range value back into `PLAUSIBLE_UTILISATION`. A fine-tune's compute that includes
its base model's pretraining, over the fine-tune's hours, inflates it by orders of magnitude.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.estimate import methods
from harness.estimate.dataset_cells import (
    decimal_year,
    read_hardware,
    read_mfu,
    read_number,
    read_precision,
    read_text,
    read_year,
)
from harness.estimate.findings import Finding
from harness.hardware.peak_choice import choose_peak
from harness.hardware.table import Accelerator
from harness.hardware.table import generation as table_generation

if TYPE_CHECKING:
    import pandas

__all__ = [
    "COLUMNS",
    "DETECTORS",
    "REQUIRED_COLUMNS",
    "DatasetError",
    "Finding",
    "Rejected",
    "SystemRow",
    "Systems",
    "decimal_year",
    "flags",
    "generation",
    "implied_utilisation",
    "load_systems",
    "parse_systems",
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

MIN_FINETUNE_FLOP = 1e10  # a fine-tune "compute" below 10 GFLOP is a lost exponent ("7" for 7.8e21)


class DatasetError(ValueError):
    """A file that is not a CSV of the Epoch systems schema."""


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
    problems: tuple[Finding, ...] = ()  # cells that could not be read


@dataclass(frozen=True)
class Systems:
    rows: list[SystemRow]
    rejected: list[Rejected]
    path: str = ""
    missing_optional: tuple[str, ...] = ()  # optional columns the file lacks (their fields are None)


# ---------------------------------------------------------------------------------------- reading


def _read(path: Path) -> bytes:
    """The file's bytes; `DatasetError` naming the file and the fix for anything that is not a file."""
    if path.is_dir():
        raise DatasetError(f"{path} is a directory: pass the path of an Epoch systems CSV file inside it")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file; pass the path of an Epoch systems CSV") from None
    except OSError as e:
        raise DatasetError(f"cannot read {path} ({e.strerror or type(e).__name__}); "
                           "check the path and its permissions") from None


def _records(data: bytes, source: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(first line, cells)]); `DatasetError` for anything that is not a text CSV."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DatasetError(f"{source} is not a CSV of the Epoch systems schema: not UTF-8 text") from None
    if "\x00" in text:
        raise DatasetError(f"{source} is not a CSV of the Epoch systems schema: binary content (NUL bytes)")
    reader = csv.reader(io.StringIO(text, newline=""))  # only \r and \n end a line (not \x0c, \x85)
    records: list[tuple[int, list[str]]] = []
    try:
        header = next(reader, None)
        start = reader.line_num + 1
        for cells in reader:
            if cells:
                records.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as e:
        raise DatasetError(f"{source} is not a readable CSV (line {reader.line_num}: {e})") from None
    if not header or not any(h.strip() for h in header):
        raise DatasetError(f"{source} is empty: expected a CSV with columns {', '.join(REQUIRED_COLUMNS)}")
    return [h.strip() for h in header], records


def load_systems(path: str | Path) -> Systems:
    """Read a CSV of the Epoch "all ML systems" schema (see the module docstring for the policy)."""
    p = Path(path)
    return parse_systems(_read(p), str(p))


def parse_systems(data: bytes, source: str = "<bytes>") -> Systems:
    """The systems in the bytes of a CSV; `source` names it in messages. Any bytes give `Systems`
    or one `DatasetError`."""
    header, records = _records(data, source)
    index = {h.lower(): i for i, h in reversed(list(enumerate(header)))}  # first of duplicate names
    missing = [c for c in REQUIRED_COLUMNS if c.lower() not in index]
    if missing:
        named = ", ".join(repr(c) for c in missing)
        raise DatasetError(f"{source} is not an Epoch systems CSV: missing column(s) {named}")
    optional_missing = tuple(c for c in COLUMNS.values() if c.lower() not in index)
    rows: list[SystemRow] = []
    rejected: list[Rejected] = []
    for line, cells in records:
        def cell(name: str, cells: list[str] = cells) -> str | None:
            i = index.get(COLUMNS[name].lower())
            return cells[i] if i is not None and i < len(cells) else None

        model = read_text(cell("model")) or ""
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
    return Systems(rows, rejected, source, optional_missing)


def _parse(line: int, model: str, cell: Callable[[str], str | None]) -> tuple[SystemRow | None, str]:
    problems: list[Finding] = []
    figures: dict[str, float | None] = {}
    for name in (*_FIGURES, "batch_size"):
        figures[name], bad = read_number(cell(name), name, COLUMNS[name])
        if bad is not None:
            problems.append(bad)
    bad_figures = [f for f in problems if not f.message.startswith(COLUMNS["batch_size"] + ":")]
    if bad_figures and all(figures[n] is None for n in _FIGURES):
        # a figure was there but unreadable, and no other figure remains
        return None, "; ".join(f.message for f in bad_figures) + "; no other figure remains"
    mfu, mfu_flags = read_mfu(cell("mfu"), COLUMNS["mfu"])
    problems += mfu_flags
    year, when, bad_year = read_year(cell("date"), COLUMNS["date"])
    if bad_year is not None:
        problems.append(bad_year)
    finetune, bad = read_number(cell("finetune_compute"), "compute", COLUMNS["finetune_compute"])
    if finetune is not None and finetune < MIN_FINETUNE_FLOP:
        bad = Finding("unreadable_value",
                      f"{COLUMNS['finetune_compute']}: {read_text(cell('finetune_compute'))!r} is not a plausible "
                      f"FLOP count (< {MIN_FINETUNE_FLOP:g}); field left empty")
        finetune = None
    if bad is not None:
        problems.append(bad)
    domain_raw = read_text(cell("domain"))
    domains = tuple(d.strip().lower() for d in (domain_raw or "").split(",") if d.strip())
    method_raw = read_text(cell("method"))
    accelerators, unresolved = read_hardware(cell("hardware"))
    precision_raw = read_text(cell("precision"))
    return SystemRow(
        model=model,
        line=line,
        domain=domains[0] if domains else None,
        domain_raw=domain_raw,
        domains=domains,
        year=year,
        date=when,
        organisation=read_text(cell("organisation")),
        parameters=figures["parameters"],
        compute=figures["compute"],
        dataset_size=figures["dataset_size"],
        epochs=figures["epochs"],
        hours=figures["hours"],
        chip_hours=figures["chip_hours"],
        quantity=figures["quantity"],
        hardware_raw=read_text(cell("hardware")),
        accelerators=accelerators,
        hardware_unresolved=unresolved,
        mfu=mfu,
        mfu_raw=read_text(cell("mfu")),
        precision=read_precision(precision_raw),
        precision_raw=precision_raw,
        estimation_method=method_raw,
        estimation_methods=frozenset(m.strip().lower() for m in (method_raw or "").split(",") if m.strip()),
        batch_size=figures["batch_size"],
        confidence=read_text(cell("confidence")),
        base_model=read_text(cell("base_model")),
        finetune_compute=finetune,
        parameters_notes=read_text(cell("parameters_notes")),
        compute_notes=read_text(cell("compute_notes")),
        problems=tuple(problems),
    ), ""


# ---------------------------------------------------------------------------------------- peaks


def peak_flop_per_s(row: SystemRow) -> tuple[float | None, str]:
    """The dense per-chip peak the hardware method should use, and the rule that picked it."""
    if not row.accelerators:
        return None, "no resolved hardware" if row.hardware_raw else "no hardware given"
    picks = [choose_peak(acc, row.precision) for acc in row.accelerators]
    value = picks[0].flop_per_s
    rule = picks[0].rule("the row's numerical format")
    if len({p.flop_per_s for p in picks}) > 1:
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

def generation(acc: Accelerator) -> str | None:
    """The chip's architecture generation ("volta", "ampere", "tpu-v4"): the peak table's column.

    None where the table names none (such a chip is grouped on its own, never under an invented name).
    """
    return table_generation(acc)


def row_generation(row: SystemRow) -> str | None:
    """The generation of the row's chips; "mixed" when they differ, None without resolved hardware."""
    gens = {generation(a) for a in row.accelerators}
    if not gens or gens == {None}:
        return None
    return gens.pop() if len(gens) == 1 else "mixed"


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


# the detectors live in their own module; re-exported here, where callers have always found them
from harness.estimate.dataset_flags import DETECTORS, flags
