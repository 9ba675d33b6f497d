"""The claim: what a paper says about one training run, and reading claims from CSV or YAML.

Public, stable: `Claim` (with `Claim.from_fields`, `Claim.from_mapping`, `Claim.from_entry`),
`ClaimsError`, `load_claims(path)`, `parse_claims(data, source, fmt)`, `load_catalogue()` and
`CATALOGUE_PATH` (the packaged claims.csv).

Every number goes through `harness.estimate.units`: a positive finite figure inside its plausible
range (`plausible.csv`); a chip count is a whole number. Anything else is a `ValueError` naming the
field and the value.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from harness.estimate.counted import CountedEstimate, counted_basis
from harness.estimate.runs import TrainingRun, run_for
from harness.estimate.units import NumberError, implausible, is_whole, parse_number
from harness.hardware.table import canonical_precision, resolve

__all__ = ["CATALOGUE_PATH", "Claim", "ClaimsError", "load_catalogue", "load_claims", "parse_claims"]

CATALOGUE_PATH = Path(str(resources.files("harness.estimate").joinpath("claims.csv")))

NUMBER_FIELDS = ("params", "active_params", "tokens", "examples", "epochs", "flop_per_example", "counted_flop", "count",
                 "seconds", "chip_hours", "utilisation", "peak", "claimed")
TIME_UNITS = {"seconds": 1.0, "hours": 3600.0, "days": 86400.0}
TEXT_FIELDS = ("name", "zoo", "hardware", "precision", "domain", "sources", "notes")


class ClaimsError(ValueError):
    """A claims file that cannot be read; the message (one line) names the file and the fix."""


@dataclass(frozen=True)
class Claim:
    """What a paper says about one training run; None where it says nothing.

    `tokens` are all tokens seen (every epoch); `examples` are per epoch. `active_params` is the
    per-token parameter count of a sparse (mixture-of-experts) model. `chip_hours` replaces
    count x time where a source gives only GPU-hours (then `count`, if given, is informational).
    `peak` is the per-chip FLOP/s the claim itself used; `utilisation` the MFU it reports.
    `flop_per_example` is a counted training FLOP per example (passed in by the caller that counted it);
    `counted_flop` a counted training compute of the whole run (`harness.estimate.counted`), with
    its parts and closed form in `counted_basis`: method 1 then uses it.
    """

    name: str = "claim"
    params: float | None = None
    tokens: float | None = None
    examples: float | None = None
    epochs: float | None = None
    hardware: str | None = None
    count: float | None = None
    seconds: float | None = None
    precision: str | None = None
    utilisation: float | None = None
    peak: float | None = None
    claimed: float | None = None
    domain: str | None = None
    sources: str = ""
    notes: str = ""
    active_params: float | None = None
    chip_hours: float | None = None
    flop_per_example: float | None = None
    counted_flop: float | None = None
    counted_basis: str = ""
    zoo: str | None = None  # a zoo entry whose recorded run this claim is (catalogue rows refer to it by name)

    def __post_init__(self) -> None:
        for name in NUMBER_FIELDS:
            v = getattr(self, name)
            if v is None:
                continue
            if isinstance(v, bool) or not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"{self.name}: {name} must be a positive number, not {v!r}")
            why = implausible(name, v)
            if why is not None:
                raise ValueError(f"{self.name}: {name} {v:g} {why}; check the exponent")
        if self.count is not None and not is_whole(self.count):
            raise ValueError(f"{self.name}: count {self.count:g} is not a whole number of chips")
        if self.precision is not None:
            object.__setattr__(self, "precision", canonical_precision(self.precision))
        if self.seconds is not None and self.chip_hours is not None:
            raise ValueError(f"{self.name}: give a training time or chip-hours, not both")
        if self.active_params is not None and self.params is not None and self.active_params > self.params:
            raise ValueError(f"{self.name}: active_params {self.active_params:g} exceeds params {self.params:g}")

    @property
    def hours(self) -> float | None:
        return None if self.seconds is None else self.seconds / 3600

    @classmethod
    def from_fields(cls, name: str | None = "claim", *, hours: float | None = None, days: float | None = None,
                    seconds: float | None = None, strict_hardware: bool = True, **values: Any) -> Claim:
        """From CLI-style fields: at most one of hours / days / seconds; the hardware must resolve.

        Other keywords: the `Claim` fields (params, tokens, examples, epochs, hardware, count,
        precision, utilisation, peak, claimed, domain, sources, notes, active_params, chip_hours,
        flop_per_example); None means not given.
        """
        name = name or "claim"
        unknown = sorted(set(values) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"{name}: unknown field(s) {', '.join(unknown)}")
        secs = _seconds(name, hours=hours, days=days, seconds=seconds)
        hw = values.pop("hardware", None)
        if hw is not None and strict_hardware:
            resolve(hw)  # raises UnknownHardware (a ValueError) naming close candidates
        return cls(name=name, hardware=hw, seconds=secs, **values)

    @classmethod
    def from_mapping(cls, row: Mapping[Any, Any], where: str = "") -> Claim:
        """From one CSV / YAML record with the field names (hours / days / seconds for the time)."""
        name = " ".join((_text(row.get("name")) or "claim").split())  # one line: it heads every message
        label = f"{where} ({name})" if where else name
        known = set(NUMBER_FIELDS) | set(TEXT_FIELDS) | set(TIME_UNITS)
        unknown = sorted(str(k) for k in row if k not in known and k is not None)
        if unknown:
            raise ValueError(f"{label}: unknown column(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        nums: dict[str, float | None] = {}
        for key in (*NUMBER_FIELDS, *TIME_UNITS):
            try:
                nums[key] = parse_number(row.get(key))
            except NumberError as e:
                fix = "; write a bare number (1.75e11, not 175B)" if e.unit else ""
                raise ValueError(f"{label}: {key} {e.text!r} {e.reason}{fix}") from None
        texts = {k: _text(row.get(k)) for k in TEXT_FIELDS if k != "name"}
        try:
            return cls.from_fields(
                name, hours=nums.pop("hours"), days=nums.pop("days"), seconds=nums.pop("seconds"),
                sources=texts.pop("sources") or "", notes=texts.pop("notes") or "", **texts, **nums,
            )
        except ValueError as e:
            if not where:
                raise
            raise ValueError(f"{where}: {e}") from None

    @classmethod
    def from_entry(cls, entry: Any, flop_per_example: float | None = None, run: TrainingRun | None = None,
                   counted: CountedEstimate | None = None) -> Claim:
        """From a zoo entry's published facts and its recorded run (`runs.run_for(entry.name)`, or
        `run`): what its paper reports.

        `entry` is any object with `name`, `domain` and `facts` (the zoo's `Entry`; this module does
        not import the zoo). A hardware name the peak table does not know is dropped (said in
        `notes`), not an error.
        """
        facts = entry.facts
        if facts is None:
            raise ValueError(f"zoo entry {entry.name!r} has no published facts to check")
        t = run if run is not None else run_for(entry.name)
        notes = [t.notes] if t.notes else []
        hw = t.hardware
        if hw is not None:
            try:
                resolve(hw)
            except ValueError as e:
                notes.append(f"hardware left out: {e}")
                hw = None
        sources = "; ".join(s for s in (f"parameters: {facts.parameters_source}", t.source) if s)
        return cls(
            name=entry.name, params=facts.published_parameters, tokens=t.tokens, examples=t.examples,
            epochs=t.epochs, hardware=hw, count=t.chip_count,
            seconds=None if t.hours is None or t.chip_hours is not None else t.hours * 3600, chip_hours=t.chip_hours,
            peak=t.peak_flop_per_s, active_params=None if t.moe is None else t.moe.active_parameters, zoo=entry.name,
            precision=t.precision, utilisation=t.mfu, claimed=t.compute_flop, domain=entry.domain,
            sources=sources, notes=" ".join(notes), flop_per_example=flop_per_example,
            counted_flop=None if counted is None or not counted.flop else counted.flop,
            counted_basis="" if counted is None else counted_basis(counted),
        )

    def updated(self, *, hours: float | None = None, days: float | None = None, seconds: float | None = None,
                **values: Any) -> Claim:
        """This claim with some fields replaced (CLI-style: one of hours / days / seconds for the time;
        a hardware name must resolve). A new time replaces chip-hours, and new chip-hours the time."""
        unknown = sorted(set(values) - {f.name for f in fields(self)})
        if unknown:
            raise ValueError(f"{self.name}: unknown field(s) {', '.join(unknown)}")
        secs = _seconds(self.name, hours=hours, days=days, seconds=seconds)
        if secs is not None:
            values |= {"seconds": secs, "chip_hours": None}
        elif values.get("chip_hours") is not None:
            values["seconds"] = None
        if values.get("hardware") is not None:
            resolve(values["hardware"])
        return replace(self, **values)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hours"] = self.hours
        return d


def _seconds(name: str, **given: float | None) -> float | None:
    """Seconds from at most one of hours / days / seconds."""
    given = {u: v for u, v in given.items() if v is not None}
    if len(given) > 1:
        both = " and ".join(f"{u}={v:g}" for u, v in given.items())  # type: ignore[str-format]
        raise ValueError(f"{name}: give one training time (hours, days or seconds), not {both}")
    for unit, v in given.items():
        if isinstance(v, bool) or not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name}: {unit} must be a positive number, not {v!r}")
        secs = float(v) * TIME_UNITS[unit]
        why = implausible("seconds", secs)
        if why is not None:
            raise ValueError(f"{name}: {unit} {v:g} ({secs:g} seconds) {why}; check the exponent")
        return secs
    return None


def _text(cell: Any) -> str | None:
    if cell is None:
        return None
    s = str(cell).strip()
    return s or None


def parse_claims(data: bytes | str, source: str, fmt: Literal["csv", "yaml"] = "csv") -> list[Claim]:
    """Claims from the bytes (or text) of a CSV (a header of field names) or a YAML file (a list of
    records, one record, or {"claims": [...]}); `source` names the file in messages. Any input gives
    claims or one `ValueError` (a `ClaimsError` when the file as a whole is unreadable)."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ClaimsError(f"{source} is not UTF-8 text: give a CSV or YAML claims file") from None
    else:
        text = data
    if "\x00" in text:
        raise ClaimsError(f"{source} holds binary content (NUL bytes): give a CSV or YAML claims file")
    return _parse_yaml(text, source) if fmt == "yaml" else _parse_csv(text, source)


def _parse_yaml(text: str, source: str) -> list[Claim]:
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        raise ClaimsError(f"reading {source} needs PyYAML: pip install pyyaml (or give a CSV)") from None
    try:
        data = yaml.safe_load(text)
    except Exception as e:  # noqa: BLE001 - yaml raises YAMLError, ValueError (bad dates), RecursionError
        first = (str(e).splitlines() or [type(e).__name__])[0]
        raise ClaimsError(f"{source}: not valid YAML ({first})") from None
    if isinstance(data, Mapping) and "claims" in data:
        data = data["claims"]
    records = [data] if isinstance(data, Mapping) else data
    if not isinstance(records, list) or not records or not all(isinstance(r, Mapping) for r in records):
        raise ClaimsError(f"{source}: expected a list of claims (mappings of field names to values)")
    name = Path(source).name
    return [Claim.from_mapping(r, f"{name} claim {i}") for i, r in enumerate(records, 1)]


def _parse_csv(text: str, source: str) -> list[Claim]:
    name = Path(source).name
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = reader.fieldnames
        if not header or "name" not in header:
            raise ClaimsError(f"{source}: not a claims CSV (needs a header with at least a 'name' column)")
        rows = list(enumerate(reader, 2))
    except csv.Error as e:
        raise ClaimsError(f"{source}: not a readable CSV ({e})") from None
    for line, r in rows:  # a cell beyond the header would be dropped without a word
        if r.get(None):
            raise ClaimsError(f"{name} line {line}: {len(header) + len(r[None])} cells where the header has "
                              f"{len(header)}; quote a value that holds a comma")
    return [Claim.from_mapping({k: v for k, v in r.items() if k is not None}, f"{name} line {line}")
            for line, r in rows]


def load_claims(path: str | Path) -> list[Claim]:
    """Claims from a CSV or (by its .yaml / .yml suffix) a YAML file; YAML needs PyYAML."""
    p = Path(path)
    if p.is_dir():
        raise ClaimsError(f"claims file {p} is a directory: give a CSV or YAML file")
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ClaimsError(f"claims file {p} does not exist") from None
    except OSError as e:
        raise ClaimsError(f"cannot read claims file {p} ({e.strerror or e}); check the path and its permissions") from None
    return parse_claims(data, str(p), "yaml" if p.suffix.lower() in (".yaml", ".yml") else "csv")


def load_catalogue() -> list[Claim]:
    """The packaged catalogue of documented claims (claims.csv, package data)."""
    text = resources.files("harness.estimate").joinpath("claims.csv").read_text(encoding="utf-8")
    return parse_claims(text, "claims.csv")
