"""The :class:`Store`: opening a file (or a read-only snapshot of it), WAL, transactions, add and query."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.store import schema
from harness.store.errors import DuplicateRunError, StoreError
from harness.store.export import check_writable, export_format, write_frame
from harness.store.provenance import APP_DIR, ENV_DB, default_path
from harness.store.rows import _decode, _where, prepare_row
from harness.store.schema import COLUMN_NAMES, COLUMNS, _ddl

BUSY_TIMEOUT_S = 60.0


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
                    [("schema_version", str(schema.SCHEMA_VERSION)), ("application", APP_DIR),
                     ("created_utc", datetime.now(timezone.utc).isoformat(timespec="seconds"))],
                )
                return schema.SCHEMA_VERSION
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
            if version > schema.SCHEMA_VERSION:
                raise StoreError(
                    f"results database {self.path} has schema version {version}, newer than this harness "
                    f"reads ({schema.SCHEMA_VERSION}); upgrade compute-harness or {self._hint()}"
                )
            if version < schema.SCHEMA_VERSION:
                self._migrate(version)
            have = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
            lacking = [c for c in COLUMN_NAMES if c not in have]
            if lacking:
                raise StoreError(
                    f"results database {self.path} lacks column(s) {', '.join(lacking)} of schema version "
                    f"{schema.SCHEMA_VERSION}; {self._hint()}"
                )
            return schema.SCHEMA_VERSION

    def _migrate(self, version: int) -> None:
        """Upgrade from ``version`` to SCHEMA_VERSION; runs inside the caller's transaction."""
        conn = self._conn
        assert conn is not None
        for target in range(version + 1, schema.SCHEMA_VERSION + 1):
            if target not in schema.MIGRATIONS:
                raise StoreError(
                    f"results database {self.path} has schema version {version} and this harness has no "
                    f"migration to version {target}; {self._hint()}"
                )
            for sql in schema.MIGRATIONS[target]:
                conn.execute(sql)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(schema.SCHEMA_VERSION),))

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
        write_frame(df, path, fmt)
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
