"""The results database: one SQLite file, WAL mode, one flat row per measurement.

* **Where.** ``Store(path)``; else ``$HARNESS_DB``; else ``$XDG_DATA_HOME/compute-harness/results.sqlite``;
  else ``~/.local/share/compute-harness/results.sqlite`` (see :func:`default_path`).
* **Schema as data.** :data:`COLUMNS` is the whole ``runs`` table: name, SQL type, meaning, and
  whether a row must give it. The DDL, the validation and the docs are all generated from it.
  Keys a row gives that are not columns go, JSON-encoded, into the ``extra`` column.
* **Provenance on every row.** The columns in :data:`PROVENANCE` are NOT NULL (``driver`` and
  ``cuda_version`` may be NULL on CPU); :func:`provenance` gathers them for the current process.
* **Resume and repeats.** ``run_key`` is a deterministic hash of the configuration (:func:`run_key`,
  :func:`run_key_for`); :meth:`Store.has_ok` tells a sweep what to skip. A second 'ok' row of a
  key is refused (:class:`DuplicateRunError`) unless it is added as a repeat (``repeat=True``:
  the next ``repeat`` number, decided inside the write transaction, so two processes measuring
  the same configuration at once both keep their row) or replaces the first (``replace=True``).
  'oom' and 'error' rows may repeat freely.
* **Two writers at once.** WAL journal, a busy timeout, and every write in one ``BEGIN IMMEDIATE``
  transaction: a row is written whole or not at all, and two processes writing the same file both
  succeed.
* **Versions.** ``meta.schema_version`` is checked on open: newer than :data:`SCHEMA_VERSION` is
  refused, older is upgraded in place by :data:`MIGRATIONS`, inside one transaction.
* **Bad files** (read-only, a directory, not SQLite, from a newer harness) raise :class:`StoreError`,
  a ``ValueError`` with a one-line message that says what to do.

pandas is imported only by :meth:`Store.frame` and :meth:`Store.export`; Parquet needs pyarrow.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import importlib.resources
import json
import math
import os
import platform
import socket
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

from harness.hardware.host import cpu_name, driver_version

SCHEMA_VERSION = 2
"""Version of the ``runs`` schema this code writes. Bump it together with an entry in MIGRATIONS."""

MIGRATIONS: dict[int, list[str]] = {
    # 2: every row names where its model came from; a configuration measured again (or by two
    # processes at once) keeps every sample as a numbered repeat instead of refusing the second
    2: [
        "ALTER TABLE runs ADD COLUMN source TEXT",
        "ALTER TABLE runs ADD COLUMN repeat INTEGER NOT NULL DEFAULT 0 CHECK (repeat >= 0)",
        "UPDATE runs SET source = 'zoo:' || model",
        "DROP INDEX runs_ok_key",
        "CREATE UNIQUE INDEX runs_ok_key ON runs(run_key, repeat) WHERE status = 'ok'",
    ],
}
"""``MIGRATIONS[v]``: the SQL statements that upgrade a database from version ``v - 1`` to ``v``.

Run in order, in the same transaction as the ``meta`` update, when an older file is opened.
"""

ENV_DB = "HARNESS_DB"
APP_DIR = "compute-harness"
DB_NAME = "results.sqlite"
BUSY_TIMEOUT_S = 60.0
_INT64_MAX = 2**63 - 1


class StoreError(ValueError):
    """The results database cannot be used as asked; the message (one line) says what to do."""


class DuplicateRunError(StoreError):
    """An 'ok' row with this run_key is already stored (pass ``repeat=True`` or ``replace=True``)."""


class Column(NamedTuple):
    name: str
    sqltype: str  # INTEGER | REAL | TEXT
    description: str
    required: bool = False  # NOT NULL: a row must give it (or the store fills a default)
    default: Any = None  # filled in when the row does not give the column
    check: str | None = None  # SQL CHECK expression
    json: bool = False  # TEXT holding JSON (lists / objects are encoded on the way in)


_PHASES = ("inference", "train")
_STATUSES = ("ok", "oom", "error")

COLUMNS: tuple[Column, ...] = (
    # identity
    Column("run_key", "TEXT", "deterministic hash of the measurement configuration (see run_key_for); "
           "sweeps skip keys that already have an ok row", required=True),
    Column("run_id", "TEXT", "uuid4 of this row (filled in when absent)", required=True),
    # configuration
    Column("model", "TEXT", "model name in the zoo registry", required=True),
    Column("family", "TEXT", "model family (transformer, resnet, lstm, ...)"),
    Column("batch", "INTEGER", "examples per step (per device)", required=True, check="batch >= 1"),
    Column("seq", "INTEGER", "sequence length; NULL for models without one"),
    Column("phase", "TEXT", "'inference' (forward only) or 'train' (forward, backward, optimizer step)",
           required=True, check="phase IN ('inference', 'train')"),
    Column("precision", "TEXT", "numeric precision of the step (fp32, tf32, bf16, fp16, ...)", required=True),
    Column("compile", "INTEGER", "1 if the model ran through torch.compile", required=True, default=0,
           check="compile IN (0, 1)"),
    Column("checkpointing", "INTEGER", "1 if activation checkpointing was on", required=True, default=0,
           check="checkpointing IN (0, 1)"),
    Column("world_size", "INTEGER", "number of devices in the run", required=True, default=1,
           check="world_size >= 1"),
    Column("strategy", "TEXT", "parallelism: single, ddp, fsdp, ...", required=True, default="single"),
    Column("source", "TEXT", "where the model came from: zoo:NAME, FILE.py:FUNC, pkg.mod:FUNC, hf:PATH, "
           "module:CLASS"),
    Column("repeat", "INTEGER", "0 for the first ok row of a run_key, 1, 2, ... for each measured again",
           required=True, default=0, check="repeat >= 0"),
    # FLOP (1 multiply-accumulate = 2 FLOP)
    Column("flop_per_step", "INTEGER", "model FLOP of one step, all phases, no recomputation"),
    Column("hardware_flop_per_step", "INTEGER",
           "FLOP executed in one step, activation recomputation included"),
    Column("flop_forward", "INTEGER", "model FLOP of the forward pass"),
    Column("flop_backward", "INTEGER", "model FLOP of the backward pass"),
    Column("flop_optimizer", "INTEGER", "FLOP of the optimizer step"),
    # timing
    Column("seconds_median", "REAL", "median seconds per step (required when status is 'ok')"),
    Column("seconds_iqr", "REAL", "interquartile range of the step seconds"),
    Column("seconds_cv", "REAL", "coefficient of variation of the step seconds"),
    Column("seconds_samples", "TEXT", "JSON list of every timed step, in seconds", json=True),
    Column("seconds_forward", "REAL", "median seconds of the forward pass"),
    Column("seconds_backward", "REAL", "median seconds of the backward pass"),
    Column("seconds_optimizer", "REAL", "median seconds of the optimizer step"),
    # rates
    Column("flop_per_s", "REAL", "flop_per_step / seconds_median"),
    Column("peak_flop_per_s", "REAL", "datasheet dense peak of the device at this precision"),
    Column("ceiling_flop_per_s", "REAL", "measured matmul ceiling of the device at this precision"),
    Column("utilisation", "REAL", "flop_per_s / peak_flop_per_s (model FLOP utilisation)"),
    Column("utilisation_ceiling", "REAL", "flop_per_s / ceiling_flop_per_s"),
    Column("hfu", "REAL", "hardware FLOP utilisation: hardware_flop_per_step / seconds / peak"),
    # outcome
    Column("status", "TEXT", "'ok', 'oom' (out of memory) or 'error'", required=True,
           check="status IN ('ok', 'oom', 'error')"),
    Column("error", "TEXT", "what went wrong, one line, when status is not 'ok'"),
    # telemetry (NULL where the device gives none)
    Column("sm_clock_mhz", "REAL", "median SM clock seen during the timed steps (NVML)"),
    Column("power_watts", "REAL", "median board power during the timed steps (NVML)"),
    Column("energy_joules", "REAL", "energy used over the timed steps (NVML)"),
    Column("temperature_c", "REAL", "maximum GPU temperature during the timed steps (NVML)"),
    Column("gpu_util", "REAL", "median NVML GPU utilisation, percent"),
    Column("memory_bytes", "INTEGER", "peak device memory allocated"),
    # provenance
    Column("device_name", "TEXT", "CUDA device name, or the CPU model", required=True),
    Column("device_kind", "TEXT", "torch device type: cuda, cpu, mps, ...", required=True),
    Column("driver", "TEXT", "GPU driver version (NVML); NULL without one"),
    Column("torch_version", "TEXT", "torch.__version__", required=True),
    Column("cuda_version", "TEXT", "torch.version.cuda; NULL on CPU builds"),
    Column("hostname", "TEXT", "machine that ran the measurement", required=True),
    Column("project_commit", "TEXT",
           "git commit of the harness, '-dirty' with changes; 'unknown' without git",
           required=True),
    Column("utc", "TEXT", "UTC time of the measurement, ISO 8601", required=True),
    Column("schema_version", "INTEGER", "schema version the row was written under (filled in)",
           required=True),
    Column("python_version", "TEXT", "platform.python_version()", required=True),
    # everything else
    Column("extra", "TEXT", "JSON object: every key of the row that is not a column", json=True),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
_BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}

PROVENANCE: tuple[str, ...] = (
    "device_name", "device_kind", "driver", "torch_version", "cuda_version", "hostname",
    "project_commit", "utc", "schema_version", "python_version",
)
"""Provenance columns; all required except driver and cuda_version (NULL on CPU)."""

CONFIG_FIELDS: tuple[str, ...] = (
    "model", "batch", "seq", "phase", "precision", "compile", "checkpointing", "world_size", "strategy",
    "device_name", "device_kind", "source",
)
"""The columns that identify a measurement configuration: run_key_for(row) hashes these. A zoo
model's source (``zoo:NAME``) says no more than its name, and is left out of the key."""


# --------------------------------------------------------------------------- keys and provenance


def _canonical(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        value = value.value
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", None) == 0:
        value = value.item()  # numpy / torch scalars
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (str, int, float)) or value is None:
        return value
    return str(value)


def run_key(**config: Any) -> str:
    """Deterministic short hash (16 hex digits) of a configuration.

    Keys are sorted; fields whose value is None are left out (so a field added later with a None
    default leaves old keys valid); booleans count as 0/1 and integral floats as integers.
    """
    canon = {k: _canonical(v) for k, v in config.items() if v is not None}
    blob = json.dumps(canon, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def run_key_for(row: Mapping[str, Any]) -> str:
    """The run_key of a row: :func:`run_key` of its :data:`CONFIG_FIELDS`, column defaults filled in."""
    config = {}
    for name in CONFIG_FIELDS:
        value = row.get(name)
        config[name] = _BY_NAME[name].default if value is None else value
    if config["source"] == f"zoo:{config['model']}":
        config["source"] = None  # the keys of zoo rows stay what they were before sources existed
    return run_key(**config)


@functools.lru_cache(maxsize=1)
def project_commit() -> str:
    """``git rev-parse --short HEAD`` of the project, '-dirty' if the tree has changes; else 'unknown'.

    Computed once per process: the code that runs is the code that was imported.
    """
    root = Path(str(importlib.resources.files("harness")))  # git finds the checkout from the package

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = bool(git("status", "--porcelain"))
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}-dirty" if dirty else commit or "unknown"


def provenance(device: Any = None, name: str | None = None) -> dict[str, Any]:
    """The provenance columns for a measurement made now, in this process, on ``device``.

    ``device`` (a torch.device or a string such as 'cuda:0' or 'cpu'): default CUDA if available,
    else CPU. ``name``: the device's name where the caller knows it (MPS, XPU, XLA); else the CUDA
    device name or the CPU model. Use as ``store.add({**provenance(device), **row})``.
    """
    try:
        import torch
    except ImportError:  # torch is a dependency; keep provenance usable without it
        torch = None

    if device is None:
        kind = "cuda" if torch is not None and torch.cuda.is_available() else "cpu"
        index = None
    else:
        kind = str(getattr(device, "type", device)).split(":")[0]
        index = getattr(device, "index", None)
        if index is None and ":" in str(device):
            index = int(str(device).split(":")[1])
    if name is not None:
        pass
    elif kind == "cuda" and torch is not None and torch.cuda.is_available():
        name = torch.cuda.get_device_name(torch.cuda.current_device() if index is None else index)
    else:
        name = cpu_name()

    return {
        "device_name": name,
        "device_kind": kind,
        "driver": driver_version(),
        "torch_version": torch.__version__ if torch is not None else "not installed",
        "cuda_version": torch.version.cuda if torch is not None else None,
        "hostname": socket.gethostname(),
        "project_commit": project_commit(),
        "utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "schema_version": SCHEMA_VERSION,
        "python_version": platform.python_version(),
    }


# --------------------------------------------------------------------------- paths


def default_path() -> Path:
    """``$HARNESS_DB``, else ``$XDG_DATA_HOME/compute-harness/results.sqlite``,
    else ``~/.local/share/compute-harness/results.sqlite``."""
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg and Path(xdg).expanduser().is_absolute() else None
    if base is None:  # the XDG spec: unset, empty or relative means the default
        base = Path.home() / ".local" / "share"
    return base / APP_DIR / DB_NAME


# --------------------------------------------------------------------------- rows


def _json_default(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if hasattr(value, "tolist"):  # numpy / torch arrays and scalars
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _to_json(name: str, value: Any) -> str:
    try:
        return json.dumps(value, default=_json_default, allow_nan=True)
    except (TypeError, ValueError) as e:
        raise ValueError(f"column {name!r}: {e}") from None


def _coerce(col: Column, value: Any) -> Any:
    """Python value -> SQLite value for one column, or ValueError naming the column."""
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        value = value.value
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", None) == 0:
        value = value.item()
    if col.json:
        if isinstance(value, str):
            try:
                json.loads(value)
            except ValueError:
                raise ValueError(f"column {col.name!r}: the string given is not JSON") from None
            return value
        return _to_json(col.name, value)
    if col.sqltype == "INTEGER":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise ValueError(f"column {col.name!r} takes an integer, got {type(value).__name__} {value!r}")
        if abs(value) > _INT64_MAX:
            raise ValueError(f"column {col.name!r}: {value} does not fit in a 64-bit integer")
        return int(value)
    if col.sqltype == "REAL":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"column {col.name!r} takes a number, got {type(value).__name__} {value!r}")
        value = float(value)
        return None if math.isnan(value) else value
    if not isinstance(value, str):
        raise ValueError(f"column {col.name!r} takes a string, got {type(value).__name__} {value!r}")
    return value


def prepare_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a row and turn it into column -> SQLite value (what :meth:`Store.add` writes).

    Unknown keys go into ``extra``; defaults and ``run_id``, ``run_key``, ``schema_version`` are
    filled in; a missing required column raises ValueError naming every one missing.
    """
    if not isinstance(row, Mapping):
        raise TypeError(f"a row is a mapping of column -> value, not {type(row).__name__}")
    data = dict(row)
    extra = data.pop("extra", None)
    if isinstance(extra, str):
        extra = json.loads(extra) if extra else None
    if extra is not None and not isinstance(extra, Mapping):
        raise ValueError(f"column 'extra' takes a mapping, got {type(extra).__name__}")
    extra = dict(extra or {})
    for key in [k for k in data if k not in _BY_NAME]:
        extra[str(key)] = data.pop(key)

    version = data.get("schema_version")
    if version is not None and version != SCHEMA_VERSION:
        raise ValueError(f"row says schema_version {version!r}, this store writes {SCHEMA_VERSION}")
    data["schema_version"] = SCHEMA_VERSION
    if data.get("run_id") is None:
        data["run_id"] = str(uuid.uuid4())
    for col in COLUMNS:
        if data.get(col.name) is None and col.default is not None:
            data[col.name] = col.default

    out = {col.name: _coerce(col, data.get(col.name)) for col in COLUMNS if col.name != "extra"}
    out["extra"] = _to_json("extra", extra) if extra else None
    keyed = ("model", "batch", "phase", "precision")
    if out["run_key"] is None and all(out.get(f) is not None for f in keyed):
        out["run_key"] = run_key_for(out)

    missing = [c.name for c in COLUMNS if c.required and out.get(c.name) is None]
    if missing:
        prov = [m for m in missing if m in PROVENANCE]
        other = [m for m in missing if m not in PROVENANCE]
        parts = []
        if other:
            parts.append(f"required fields {', '.join(other)}")
        if prov:
            parts.append(f"provenance {', '.join(prov)} (gather it with harness.store.provenance())")
        raise ValueError(f"row lacks {'; and '.join(parts)}")
    if out["phase"] not in _PHASES:
        raise ValueError(f"phase must be one of {_PHASES}, got {out['phase']!r}")
    if out["status"] not in _STATUSES:
        raise ValueError(f"status must be one of {_STATUSES}, got {out['status']!r}")
    for flag in ("compile", "checkpointing"):
        if out[flag] not in (0, 1):
            raise ValueError(f"{flag} must be 0/1 or a bool, got {out[flag]!r}")
    if out["status"] == "ok" and out["seconds_median"] is None:
        raise ValueError("an 'ok' row needs seconds_median")
    return out


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for col in COLUMNS:
        if col.json and row.get(col.name) is not None:
            row[col.name] = json.loads(row[col.name])
    return row


def _where(filters: Mapping[str, Any]) -> tuple[str, list[Any]]:
    unknown = sorted(set(filters) - set(COLUMN_NAMES))
    if unknown:
        raise ValueError(f"unknown column(s) to filter on: {', '.join(unknown)}")
    clauses, params = [], []
    for name, value in filters.items():
        if value is None:
            clauses.append(f"{name} IS NULL")
        elif isinstance(value, (list, tuple, set, frozenset)):
            values = [_canonical(v) for v in value]
            if not values:
                clauses.append("0")
            else:
                clauses.append(f"{name} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        else:
            clauses.append(f"{name} = ?")
            params.append(_canonical(value))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _ddl() -> list[str]:
    cols = []
    for c in COLUMNS:
        decl = f"{c.name} {c.sqltype}"
        if c.required:
            decl += " NOT NULL"
        if c.default is not None:
            decl += f" DEFAULT {c.default!r}" if isinstance(c.default, str) else f" DEFAULT {c.default}"
        if c.check:
            decl += f" CHECK ({c.check})"
        cols.append(decl)
    return [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE runs (\n  " + ",\n  ".join(cols) + "\n)",
        "CREATE UNIQUE INDEX runs_run_id ON runs(run_id)",
        "CREATE UNIQUE INDEX runs_ok_key ON runs(run_key, repeat) WHERE status = 'ok'",
        "CREATE INDEX runs_key ON runs(run_key)",
        "CREATE INDEX runs_model_device ON runs(model, device_name)",
    ]


# --------------------------------------------------------------------------- the store


class Store:
    """The results database. ``Store(path=None)``; use as a context manager or call :meth:`close`."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, timeout: float = BUSY_TIMEOUT_S,
                 create: bool = True):
        """``create=False``: open an existing database for reading only. A missing file is refused and
        nothing is created; the file is never written (no WAL switch, no schema upgrade): its contents
        are copied into memory and an older schema is upgraded there."""
        self.memory = str(path) == ":memory:"
        self.path = Path(":memory:") if self.memory else Path(path).expanduser() if path else default_path()
        self.timeout = timeout
        self.read_only = not create and not self.memory
        self._conn: sqlite3.Connection | None = None
        if self.read_only:
            if not self.path.is_file():
                raise StoreError(f"no results database at {self.path}: measure something with harness bench "
                                 f"first, or {self._hint()}")
            self._inspect_read_only()
        elif not self.memory:
            self._check_location()
            self._inspect_read_only()
        try:
            if self.read_only:
                self._conn = self._snapshot()
            else:
                self._conn = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
                self._conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
                self._enable_wal()
                self._conn.execute("PRAGMA synchronous = NORMAL")  # WAL: durable on commit, never corrupt
            self.schema_version = self._initialise()
        except sqlite3.Error as e:
            self.close()
            raise self._error(e) from None
        except StoreError:
            self.close()
            raise

    # -- opening

    def _hint(self) -> str:
        return f"pass --db PATH or set {ENV_DB}"

    def _check_location(self) -> None:
        p = self.path
        if p.is_dir():
            raise StoreError(f"results database {p} is a directory; {self._hint()}")
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(
                f"cannot create the folder {p.parent} for the results database ({e.strerror}); {self._hint()}"
            ) from None
        if p.exists() and not os.access(p, os.R_OK):
            raise StoreError(f"results database {p} is not readable; {self._hint()}")
        if p.exists() and not os.access(p, os.W_OK):
            raise StoreError(f"results database {p} is read-only; {self._hint()}")
        if not os.access(p.parent, os.W_OK | os.X_OK):  # WAL writes -wal and -shm files beside it
            raise StoreError(f"results database folder {p.parent} is read-only; {self._hint()}")

    def _inspect_read_only(self) -> None:
        """Refuse a file that is not a harness database before anything writes to it (WAL included)."""
        p = self.path
        if not p.exists() or p.stat().st_size == 0:
            return
        try:
            conn = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True, timeout=self.timeout)
        except sqlite3.Error as e:
            raise self._error(e) from None
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.Error as e:
            raise self._error(e) from None
        finally:
            conn.close()
        if tables and not {"meta", "runs"} <= tables:
            raise StoreError(
                f"{p} is a SQLite file but not a harness results database (tables: "
                f"{', '.join(sorted(tables))}); it was left untouched; {self._hint()}"
            )

    def _snapshot(self) -> sqlite3.Connection:
        """The file's contents in an in-memory database, read through a read-only connection."""
        source = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=self.timeout)
        try:
            copy = sqlite3.connect(":memory:", isolation_level=None)
            source.backup(copy)
        finally:
            source.close()
        return copy

    def _error(self, e: sqlite3.Error) -> StoreError:
        msg = str(e).lower()
        where = f"results database {self.path}"
        if "readonly" in msg or "read-only" in msg:
            return StoreError(f"{where} is read-only; {self._hint()}")
        if "not a database" in msg or "encrypted" in msg or "malformed" in msg:
            return StoreError(
                f"{where} is not a SQLite results database ({e}); move it aside or {self._hint()}"
            )
        if "locked" in msg or "busy" in msg:
            return StoreError(f"{where} stayed locked by another process for {self.timeout:g} s; retry later")
        if "unable to open" in msg:
            return StoreError(f"cannot open {where} ({e}); {self._hint()}")
        if isinstance(e, sqlite3.IntegrityError):
            return StoreError(f"{where} refused the row: {e}")
        return StoreError(f"{where}: {e}")

    def _enable_wal(self) -> None:
        assert self._conn is not None
        if self.memory:
            return
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as e:  # another process holds the lock right now
                if "locked" not in str(e).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        if str(mode).lower() != "wal":
            raise StoreError(
                f"results database {self.path} cannot use WAL journaling (journal_mode={mode}; a network "
                f"filesystem?); {self._hint()}"
            )

    def _initialise(self) -> int:
        """Create the tables of a new file, or check / upgrade an existing one. Returns the schema version."""
        conn = self._conn
        assert conn is not None
        with self._transaction():
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                for sql in _ddl():
                    conn.execute(sql)
                conn.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [("schema_version", str(SCHEMA_VERSION)), ("application", APP_DIR),
                     ("created_utc", datetime.now(timezone.utc).isoformat(timespec="seconds"))],
                )
                return SCHEMA_VERSION
            if not {"meta", "runs"} <= tables:
                raise StoreError(
                    f"{self.path} is a SQLite file but not a harness results database (tables: "
                    f"{', '.join(sorted(tables))}); {self._hint()}"
                )
            got = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            try:
                version = int(got[0])
            except (TypeError, ValueError):
                raise StoreError(
                    f"results database {self.path} has no valid schema_version in its meta table; "
                    f"{self._hint()}"
                ) from None
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"results database {self.path} has schema version {version}, newer than this harness "
                    f"reads ({SCHEMA_VERSION}); upgrade compute-harness or {self._hint()}"
                )
            if version < SCHEMA_VERSION:
                self._migrate(version)
            have = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
            lacking = [c for c in COLUMN_NAMES if c not in have]
            if lacking:
                raise StoreError(
                    f"results database {self.path} lacks column(s) {', '.join(lacking)} of schema version "
                    f"{SCHEMA_VERSION}; {self._hint()}"
                )
            return SCHEMA_VERSION

    def _migrate(self, version: int) -> None:
        """Upgrade from ``version`` to SCHEMA_VERSION; runs inside the caller's transaction."""
        conn = self._conn
        assert conn is not None
        for target in range(version + 1, SCHEMA_VERSION + 1):
            if target not in MIGRATIONS:
                raise StoreError(
                    f"results database {self.path} has schema version {version} and this harness has no "
                    f"migration to version {target}; {self._hint()}"
                )
            for sql in MIGRATIONS[target]:
                conn.execute(sql)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))

    # -- plumbing

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"results database {self.path} is closed")
        return self._conn

    class _Tx:
        def __init__(self, conn: sqlite3.Connection):
            self.conn = conn

        def __enter__(self) -> sqlite3.Connection:
            self.conn.execute("BEGIN IMMEDIATE")  # take the write lock now: no upgrade deadlock later
            return self.conn

        def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
            if exc_type is None:
                self.conn.execute("COMMIT")
            elif self.conn.in_transaction:
                self.conn.execute("ROLLBACK")

    def _transaction(self) -> Store._Tx:
        return Store._Tx(self._connection())

    # -- writing

    def _check_writable(self) -> None:
        if self.read_only:
            raise StoreError(f"results database {self.path} was opened for reading only (create=False)")

    def add(self, row: Mapping[str, Any], *, replace: bool = False, repeat: bool = False) -> str:
        """Validate and write one row in one transaction; returns its run_id.

        Keys that are not columns go into ``extra``. A missing required column (provenance
        included) raises ValueError naming them. A second 'ok' row for a run_key raises
        DuplicateRunError, unless ``repeat=True`` (the row is kept beside the others with the
        next ``repeat`` number) or ``replace=True`` (it swaps every earlier ok row of the key out).
        Both are decided inside the write transaction, so concurrent writers cannot collide.
        """
        self._check_writable()
        values = prepare_row(row)
        names = list(values)
        sql = f"INSERT INTO runs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        try:
            with self._transaction() as conn:
                if values["status"] == "ok":
                    old = conn.execute(
                        "SELECT run_id, repeat FROM runs WHERE run_key = ? AND status = 'ok' ORDER BY repeat",
                        (values["run_key"],),
                    ).fetchall()
                    if old and replace:
                        conn.execute("DELETE FROM runs WHERE run_key = ? AND status = 'ok'", (values["run_key"],))
                        values["repeat"] = 0
                    elif old and repeat:
                        values["repeat"] = old[-1][1] + 1
                    elif old:
                        raise DuplicateRunError(
                            f"run_key {values['run_key']} already has an ok row (run_id {old[0][0]}); "
                            "pass repeat=True to keep both or replace=True to overwrite it"
                        )
                conn.execute(sql, [values[n] for n in names])
        except sqlite3.Error as e:
            raise self._error(e) from None
        return values["run_id"]

    def add_many(self, rows: Iterable[Mapping[str, Any]]) -> list[str]:
        """Write several rows in one transaction: all of them or none. 'ok' duplicates raise."""
        self._check_writable()
        prepared = [prepare_row(r) for r in rows]
        ids = []
        try:
            with self._transaction() as conn:
                for values in prepared:
                    names = list(values)
                    conn.execute(
                        f"INSERT INTO runs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                        [values[n] for n in names],
                    )
                    ids.append(values["run_id"])
        except sqlite3.IntegrityError as e:
            raise DuplicateRunError(
                f"results database {self.path} refused the rows (nothing written): {e}"
            ) from None
        except sqlite3.Error as e:
            raise self._error(e) from None
        return ids

    # -- reading

    def has_ok(self, run_key: str) -> bool:
        """True if a row with this run_key and status 'ok' is stored: a resumed sweep skips it."""
        try:
            got = self._connection().execute(
                "SELECT 1 FROM runs WHERE run_key = ? AND status = 'ok' LIMIT 1", (run_key,)
            ).fetchone()
        except sqlite3.Error as e:
            raise self._error(e) from None
        return got is not None

    def ok_keys(self) -> set[str]:
        """Every run_key with an 'ok' row."""
        return {r[0] for r in self._query("SELECT run_key FROM runs WHERE status = 'ok'", [])}

    def _query(self, sql: str, params: list[Any]) -> list[tuple]:
        try:
            return self._connection().execute(sql, params).fetchall()
        except sqlite3.Error as e:
            raise self._error(e) from None

    def count(self, **filters: Any) -> int:
        where, params = _where(filters)
        return self._query(f"SELECT COUNT(*) FROM runs{where}", params)[0][0]

    def rows(self, **filters: Any) -> list[dict[str, Any]]:
        """Stored rows as dicts, oldest first, JSON columns decoded. ``filters``: column=value,
        column=[values] (IN), column=None (IS NULL)."""
        where, params = _where(filters)
        got = self._query(f"SELECT {', '.join(COLUMN_NAMES)} FROM runs{where} ORDER BY rowid", params)
        return [_decode(dict(zip(COLUMN_NAMES, r))) for r in got]

    def frame(self, **filters: Any) -> Any:
        """Stored rows as a pandas DataFrame (columns in schema order, JSON columns as text,
        integer columns as nullable Int64). Filters as in :meth:`rows`."""
        try:
            import pandas as pd
        except ImportError:
            raise StoreError("reading results as a DataFrame needs pandas: pip install pandas") from None
        where, params = _where(filters)
        got = self._query(f"SELECT {', '.join(COLUMN_NAMES)} FROM runs{where} ORDER BY rowid", params)
        df = pd.DataFrame.from_records(got, columns=list(COLUMN_NAMES))
        for col in COLUMNS:
            if col.sqltype == "INTEGER":
                df[col.name] = df[col.name].astype("Int64")
            elif col.sqltype == "REAL":
                df[col.name] = df[col.name].astype("float64")
        return df

    def export(self, path: str | os.PathLike[str], fmt: str | None = None, **filters: Any) -> int:
        """Write the rows (filtered as in :meth:`rows`) to csv | parquet | json; returns the row count.

        The format is ``fmt``, else the file's suffix (:func:`export_format`; a mismatch is refused).
        The file is written beside the target and renamed into place, so a failed export never
        leaves half a file; a target that cannot be written raises StoreError naming it.
        """
        path = Path(path).expanduser()
        fmt = export_format(path, fmt)
        check_writable(path)
        if fmt == "parquet":
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise StoreError("exporting Parquet needs pyarrow: pip install pyarrow") from None
        df = self.frame(**filters)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            if fmt == "csv":
                df.to_csv(tmp, index=False)
            elif fmt == "json":
                df.to_json(tmp, orient="records", indent=1)
            else:
                df.to_parquet(tmp, index=False, engine="pyarrow")
            os.replace(tmp, path)
        except OSError as e:
            raise StoreError(f"cannot write {path} ({e.strerror or e}); choose another --out") from None
        finally:
            tmp.unlink(missing_ok=True)
        return len(df)

    # -- lifetime

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"


EXPORT_SUFFIXES = {"csv": "csv", "json": "json", "jsonl": "json", "parquet": "parquet", "pq": "parquet"}
"""File suffix -> export format."""


def export_format(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The export format: ``fmt`` if given, else the suffix's; a suffix that says otherwise is refused."""
    suffix = Path(path).suffix.lstrip(".").lower()
    implied = EXPORT_SUFFIXES.get(suffix)
    if fmt is None:
        if implied is None:
            raise ValueError(f"cannot tell the format of {path} from its suffix: name it .csv, .json or "
                             ".parquet, or pass --format")
        return implied
    fmt = EXPORT_SUFFIXES.get(fmt.lower(), fmt.lower())
    if fmt not in ("csv", "parquet", "json"):
        raise ValueError(f"export format must be csv, parquet or json, got {fmt!r}")
    if implied is not None and implied != fmt:
        raise ValueError(f"{path} ends in .{suffix} but the format asked is {fmt}: rename the file or drop --format")
    return fmt


def check_writable(path: Path) -> None:
    """A file can be written at ``path`` (its folder made if missing), or StoreError saying why not."""
    if path.is_dir():
        raise StoreError(f"{path} is a directory: name a file inside it, e.g. {path / 'results.csv'}")
    parent = path.parent
    blocker = next((p for p in (parent, *parent.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise StoreError(f"cannot write {path}: {blocker} is a file, not a folder; choose another --out")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(f"cannot create the folder {parent} ({e.strerror or e}); choose another --out") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise StoreError(f"cannot write {path}: the folder {parent} is read-only; choose another --out")


def describe_schema() -> str:
    """The runs table as a Markdown table (for docs and `harness` help)."""
    lines = ["| column | type | required | meaning |", "|---|---|---|---|"]
    for c in COLUMNS:
        lines.append(f"| {c.name} | {c.sqltype}{' (JSON)' if c.json else ''} | "
                     f"{'yes' if c.required else ''} | {c.description} |")
    return "\n".join(lines)
