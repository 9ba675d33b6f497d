"""The ``runs`` table as data: :data:`COLUMNS`, the schema version and its migrations, the DDL.

:data:`COLUMNS` is the whole ``runs`` table: name, SQL type, meaning, and whether a row must give it.
The DDL (:func:`_ddl`), the validation (:mod:`harness.store.rows`) and the docs (:func:`describe_schema`)
are all generated from it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

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


def describe_schema() -> str:
    """The runs table as a Markdown table (for docs and `harness` help)."""
    lines = ["| column | type | required | meaning |", "|---|---|---|---|"]
    for c in COLUMNS:
        lines.append(f"| {c.name} | {c.sqltype}{' (JSON)' if c.json else ''} | "
                     f"{'yes' if c.required else ''} | {c.description} |")
    return "\n".join(lines)
