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

The package, one concern a module: :mod:`~harness.store.schema` (the ``runs`` table, DDL, migrations),
:mod:`~harness.store.rows` (validation and coercion of rows, filters), :mod:`~harness.store.provenance`
(run keys, provenance, the default path), :mod:`~harness.store.export` (export formats and writers),
:mod:`~harness.store.database` (the :class:`Store`), :mod:`~harness.store.errors`.
"""

from __future__ import annotations

from harness.store.database import BUSY_TIMEOUT_S, Store
from harness.store.errors import DuplicateRunError, StoreError
from harness.store.export import EXPORT_SUFFIXES, check_writable, export_format
from harness.store.provenance import (
    APP_DIR,
    DB_NAME,
    ENV_DB,
    default_path,
    project_commit,
    provenance,
    run_key,
    run_key_for,
)
from harness.store.rows import prepare_row
from harness.store.schema import (
    COLUMN_NAMES,
    COLUMNS,
    CONFIG_FIELDS,
    MIGRATIONS,
    PROVENANCE,
    SCHEMA_VERSION,
    Column,
    describe_schema,
)

__all__ = [
    "APP_DIR", "BUSY_TIMEOUT_S", "COLUMNS", "COLUMN_NAMES", "CONFIG_FIELDS", "DB_NAME", "ENV_DB",
    "EXPORT_SUFFIXES", "MIGRATIONS", "PROVENANCE", "SCHEMA_VERSION", "Column", "DuplicateRunError", "Store",
    "StoreError", "check_writable", "default_path", "describe_schema", "export_format", "prepare_row",
    "project_commit", "provenance", "run_key", "run_key_for",
]
