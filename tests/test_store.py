"""The results database: round trip, validation, resume, WAL and two writers, bad files, exports, paths."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sqlite3
import sys
from pathlib import Path

import pytest

from harness import store as st
from harness.store import Store, StoreError

PROV = {
    "device_name": "Test CPU",
    "device_kind": "cpu",
    "driver": None,
    "torch_version": "2.13.0",
    "cuda_version": None,
    "hostname": "testhost",
    "project_commit": "abc1234",
    "utc": "2025-01-01T00:00:00+00:00",
    "python_version": "3.11.7",
}


def make_row(**over):
    row = {
        **PROV,
        "model": "gpt2-small",
        "family": "transformer",
        "batch": 8,
        "seq": 1024,
        "phase": "train",
        "precision": "bf16",
        "compile": True,
        "status": "ok",
        "flop_per_step": 6 * 124_000_000 * 8 * 1024,
        "flop_forward": 2 * 124_000_000 * 8 * 1024,
        "seconds_median": 0.125,
        "seconds_iqr": 0.002,
        "seconds_samples": [0.124, 0.125, 0.127],
        "utilisation": 0.41,
        "memory_bytes": 3_000_000_000,
    }
    row.update(over)
    return row


@pytest.fixture
def db(tmp_path):
    with Store(tmp_path / "r.sqlite") as s:
        yield s


def test_round_trip_and_extras(db):
    row = make_row(optimizer="adamw", notes={"a": 1})
    run_id = db.add(row)
    [back] = db.rows()
    assert back["run_id"] == run_id
    for key in ("model", "family", "batch", "seq", "phase", "precision", "flop_per_step", "flop_forward",
                "seconds_median", "seconds_iqr", "utilisation", "memory_bytes", "status", *PROV):
        assert back[key] == row[key], key
    assert back["compile"] == 1 and back["checkpointing"] == 0
    assert back["world_size"] == 1 and back["strategy"] == "single"
    assert back["seconds_samples"] == [0.124, 0.125, 0.127]
    assert back["extra"] == {"optimizer": "adamw", "notes": {"a": 1}}
    assert back["schema_version"] == st.SCHEMA_VERSION
    assert back["run_key"] == st.run_key_for(row)
    assert back["hfu"] is None and back["error"] is None

    df = db.frame()
    assert len(df) == 1 and list(df.columns) == list(st.COLUMN_NAMES)
    assert df.loc[0, "flop_per_step"] == row["flop_per_step"]
    assert json.loads(df.loc[0, "extra"]) == {"optimizer": "adamw", "notes": {"a": 1}}
    assert len(db.frame(model="gpt2-small", precision=["bf16", "fp16"])) == 1
    assert len(db.frame(model="other")) == 0 and db.count(seq=None) == 0


def test_missing_provenance_raises_naming_fields(db):
    row = make_row()
    del row["hostname"], row["utc"]
    with pytest.raises(ValueError, match="hostname, utc"):
        db.add(row)
    with pytest.raises(ValueError, match="model"):
        db.add({k: v for k, v in make_row().items() if k != "model"})
    assert db.count() == 0


def test_invalid_values_write_nothing(db):
    for bad in (dict(phase="eval"), dict(status="fine"), dict(batch="8"), dict(batch=8.5),
                dict(flop_per_step=2**64), dict(seconds_median=None)):
        with pytest.raises(ValueError):
            db.add(make_row(**bad))
    assert db.count() == 0


def test_has_ok_and_resume_semantics(db):
    ok = make_row()
    oom = make_row(batch=64, status="oom", error="CUDA out of memory", seconds_median=None)
    db.add(oom)
    db.add(oom)  # failures may repeat
    assert not db.has_ok(st.run_key_for(oom))
    db.add(ok)
    key = st.run_key_for(ok)
    assert db.has_ok(key) and db.ok_keys() == {key}
    with pytest.raises(st.DuplicateRunError):
        db.add(make_row(seconds_median=0.2))
    db.add(make_row(seconds_median=0.2), replace=True)
    assert db.count(status="ok") == 1 and db.rows(status="ok")[0]["seconds_median"] == 0.2
    assert db.count() == 3


def test_run_key_deterministic():
    a = st.run_key(model="m", batch=8, compile=True, seq=None)
    assert a == st.run_key(compile=1, batch=8.0, model="m")
    assert a != st.run_key(model="m", batch=16, compile=True)
    # the key is the first 16 hex digits of the SHA-256 of the canonical JSON (sorted keys, None dropped)
    import hashlib
    blob = '{"batch":8,"compile":1,"model":"m"}'
    assert a == hashlib.sha256(blob.encode()).hexdigest()[:16]


def test_wal_mode_on(db):
    mode = db._connection().execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    with sqlite3.connect(db.path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert other.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(st.SCHEMA_VERSION)


def _writer(path: str, worker: int, n: int, barrier) -> None:
    barrier.wait()
    with Store(path) as s:  # both processes also race to create the file
        for i in range(n):
            s.add(make_row(batch=i + 1, extra={"worker": worker}, run_id=f"{worker}-{i}",
                           status="ok" if worker == 0 else "error", seconds_median=0.01))


def test_two_processes_write_at_once(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(path, w, 200, barrier)) for w in (0, 1)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    with Store(path) as s:
        assert s.count() == 400
        assert s.count(status="ok") == 200 and s.count(status="error") == 200
        assert len({r["run_id"] for r in s.rows()}) == 400


def _can_write_despite_chmod(path: Path) -> bool:
    try:
        with open(path, "ab"):
            return True
    except PermissionError:
        return False


def test_read_only_file(tmp_path):
    path = tmp_path / "ro.sqlite"
    Store(path).close()
    path.chmod(0o444)
    try:
        if _can_write_despite_chmod(path):
            pytest.skip("running as root: chmod does not stop writes")
        with pytest.raises(StoreError, match="read-only.*HARNESS_DB") as err:
            Store(path)
        assert "\n" not in str(err.value)
    finally:
        path.chmod(0o644)


def test_read_only_error_from_sqlite_is_store_error(tmp_path):
    """A write SQLite refuses as read-only (mode=ro works even for root) becomes a one-line StoreError."""
    path = tmp_path / "r.sqlite"
    s = Store(path)
    s._conn.close()
    s._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    with pytest.raises(StoreError, match="read-only"):
        s.add(make_row())
    s.close()
    with Store(path) as again:
        assert again.count() == 0


def test_directory_and_uncreatable_paths(tmp_path):
    with pytest.raises(StoreError, match="is a directory"):
        Store(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create the folder"):
        Store(blocker / "sub" / "r.sqlite")


def test_garbage_file(tmp_path):
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"this is not a database, just some text\n" * 200)
    with pytest.raises(StoreError, match="not a SQLite") as err:
        Store(path)
    assert "\n" not in str(err.value)


def test_other_sqlite_database_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as c:
        c.execute("CREATE TABLE people (name TEXT)")
    with pytest.raises(StoreError, match="not a harness results database"):
        Store(path)


def test_schema_from_the_future(tmp_path):
    path = tmp_path / "future.sqlite"
    Store(path).close()
    with sqlite3.connect(path) as c:
        c.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(st.SCHEMA_VERSION + 1),))
    with pytest.raises(StoreError, match="newer than this harness") as err:
        Store(path)
    assert "\n" not in str(err.value)


def test_older_schema_is_migrated(tmp_path, monkeypatch):
    path = tmp_path / "old.sqlite"
    with Store(path) as s:
        s.add(make_row())
    v, nxt = st.SCHEMA_VERSION, st.SCHEMA_VERSION + 1
    monkeypatch.setattr(st.schema, "SCHEMA_VERSION", nxt)
    monkeypatch.setattr(st.schema, "MIGRATIONS",
                        {**st.schema.MIGRATIONS, nxt: ["ALTER TABLE runs ADD COLUMN hbm_bandwidth REAL"]})
    with Store(path) as s:
        assert s.schema_version == nxt and s.count() == 1
        conn = s._connection()
        assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(nxt)
        assert "hbm_bandwidth" in {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
        assert s.rows()[0]["schema_version"] == v  # the row keeps the version it was written under
    # a missing migration is refused, and leaves the file as it was
    monkeypatch.setattr(st.schema, "SCHEMA_VERSION", nxt + 1)
    with pytest.raises(StoreError, match=f"no migration to version {nxt + 1}"):
        Store(path)
    with sqlite3.connect(path) as c:
        assert c.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(nxt)


def test_version_1_file_gains_source_and_repeats(tmp_path):
    """A file written by schema 1 (no source, one ok row per key) opens as schema 2, rows kept."""
    path = tmp_path / "v1.sqlite"
    with Store(path) as s:
        s.add(make_row())
    with sqlite3.connect(path) as c:  # turn it back into what schema 1 wrote
        c.execute("DROP INDEX runs_ok_key")
        c.execute("ALTER TABLE runs DROP COLUMN source")
        c.execute("ALTER TABLE runs DROP COLUMN repeat")
        c.execute("CREATE UNIQUE INDEX runs_ok_key ON runs(run_key) WHERE status = 'ok'")
        c.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with Store(path) as s:
        assert s.schema_version == 2
        (row,) = s.rows()
        assert row["source"] == f"zoo:{row['model']}" and row["repeat"] == 0
        s.add(make_row(seconds_median=0.3), repeat=True)  # the new index takes a repeat
        assert [r["repeat"] for r in s.rows()] == [0, 1]


def test_repeats_keep_every_sample(db):
    db.add(make_row(seconds_median=0.1))
    db.add(make_row(seconds_median=0.2), repeat=True)
    db.add(make_row(seconds_median=0.3), repeat=True)
    assert [(r["repeat"], r["seconds_median"]) for r in db.rows()] == [(0, 0.1), (1, 0.2), (2, 0.3)]
    db.add(make_row(seconds_median=0.4), replace=True)  # replace swaps every ok row of the key
    assert [(r["repeat"], r["seconds_median"]) for r in db.rows()] == [(0, 0.4)]


def test_foreign_sqlite_file_is_left_untouched(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as c:
        c.execute("CREATE TABLE people (name TEXT)")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="left untouched"):
        Store(path)
    assert path.read_bytes() == before  # still in rollback-journal mode: not switched to WAL
    with sqlite3.connect(path) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not (tmp_path / "other.sqlite-wal").exists()


def test_reading_a_missing_database_creates_nothing(tmp_path):
    path = tmp_path / "missing" / "dir" / "x.db"
    with pytest.raises(StoreError, match="no results database at"):
        Store(path, create=False)
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("name, fmt, message", [
    ("x.parquet", "csv", "ends in .parquet but the format asked is csv"),
    ("x.json", "parquet", "ends in .json"),
    ("x.txt", None, "cannot tell the format"),
    ("x.csv", "xlsx", "csv, parquet or json"),
])
def test_export_format_mismatch_refused(name, fmt, message):
    with pytest.raises(ValueError, match=message):
        st.export_format(name, fmt)


def test_export_format_from_the_suffix():
    assert [st.export_format(n) for n in ("a.csv", "a.JSON", "a.jsonl", "a.parquet", "a.pq")] == [
        "csv", "json", "json", "parquet", "parquet"]
    assert st.export_format("a.txt", "json") == "json"  # a suffix that says nothing does not object


def test_export_to_unwritable_targets(db, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="is a file, not a folder"):
        db.export(blocker / "r.csv")
    with pytest.raises(StoreError, match="is a directory"):
        db.export(tmp_path, "json")
    assert not [p for p in (tmp_path, tmp_path.parent) for q in p.iterdir() if q.name.endswith(".tmp")]
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores the mode bits
            pytest.skip("running as root: a read-only folder is still writable")
        with pytest.raises(StoreError, match="read-only"):
            db.export(locked / "r.csv")
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_export_round_trips_row_count(db, tmp_path, fmt):
    pd = pytest.importorskip("pandas")
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    for b in (1, 2, 4):
        db.add(make_row(batch=b, extra={"tag": b}))
    db.add(make_row(batch=128, status="oom", seconds_median=None, error="out of memory"))
    out = tmp_path / "exports" / f"runs.{fmt}"
    assert db.export(out) == 4
    back = {"csv": pd.read_csv, "json": pd.read_json, "parquet": pd.read_parquet}[fmt](out)
    assert len(back) == 4 and list(back["batch"]) == [1, 2, 4, 128]
    assert db.export(out, fmt, status="ok") == 3
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


def test_parquet_without_pyarrow_says_pip_install(db, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(StoreError, match="pip install pyarrow"):
        db.export(tmp_path / "x.parquet")
    with pytest.raises(ValueError, match="cannot tell the format"):
        db.export(tmp_path / "x.xlsx")


def test_default_path_honours_env(tmp_path, monkeypatch):
    monkeypatch.delenv("HARNESS_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert st.default_path() == tmp_path / "xdg" / "compute-harness" / "results.sqlite"
    monkeypatch.setenv("XDG_DATA_HOME", "")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert st.default_path() == tmp_path / "home" / ".local" / "share" / "compute-harness" / "results.sqlite"
    monkeypatch.setenv("HARNESS_DB", str(tmp_path / "env.sqlite"))
    assert st.default_path() == tmp_path / "env.sqlite"
    with Store() as s:
        s.add(make_row())
    assert (tmp_path / "env.sqlite").exists()
    with Store(tmp_path / "arg.sqlite") as s:  # an argument beats the environment
        assert s.path == tmp_path / "arg.sqlite" and s.count() == 0


def test_provenance_fills_the_required_fields(db):
    prov = st.provenance("cpu")
    assert prov["device_kind"] == "cpu" and prov["device_name"]
    assert prov["schema_version"] == st.SCHEMA_VERSION and prov["utc"].endswith("+00:00")
    assert prov["project_commit"]
    required = [c.name for c in st.COLUMNS if c.required and c.name in st.PROVENANCE]
    assert all(prov[k] is not None for k in required)
    row = {k: v for k, v in make_row().items() if k not in PROV}
    db.add({**prov, **row})
    assert db.rows()[0]["hostname"] == prov["hostname"]


def test_closed_store(tmp_path):
    s = Store(tmp_path / "c.sqlite")
    s.close()
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.has_ok("x")
    assert os.path.exists(tmp_path / "c.sqlite")


def test_add_many_is_all_or_nothing(db):
    ids = db.add_many([make_row(batch=1), make_row(batch=2)])
    assert len(ids) == 2 and db.count() == 2
    with pytest.raises(st.DuplicateRunError):
        db.add_many([make_row(batch=3), make_row(batch=1)])  # batch=1 already has an ok row
    assert db.count() == 2 and not db.has_ok(st.run_key_for(make_row(batch=3)))


def test_export_into_a_read_only_folder_is_refused_before_writing(db, tmp_path, monkeypatch):
    """The read-only folder simulated (root ignores mode bits): refused in one line, nothing left."""
    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access",
                        lambda p, mode: False if Path(p) == locked and mode & os.W_OK else real(p, mode))
    with pytest.raises(StoreError, match=f"the folder {locked} is read-only") as err:
        db.export(locked / "r.csv")
    assert "\n" not in str(err.value) and list(locked.iterdir()) == []



def test_reading_leaves_the_file_byte_for_byte_unchanged_even_at_an_older_schema(tmp_path):
    """A read (results, calibrate --db, report --db) neither switches the file to WAL nor upgrades it."""
    path = tmp_path / "v1.sqlite"
    with Store(path) as s:
        s.add(make_row())
    c = sqlite3.connect(path, isolation_level=None)  # schema 1, in the rollback journal of a copied file
    for sql in ("DROP INDEX runs_ok_key", "ALTER TABLE runs DROP COLUMN source", "ALTER TABLE runs DROP COLUMN repeat",
                "CREATE UNIQUE INDEX runs_ok_key ON runs(run_key) WHERE status = 'ok'",
                "UPDATE meta SET value = '1' WHERE key = 'schema_version'", "PRAGMA journal_mode = DELETE"):
        c.execute(sql)
    c.close()
    before = path.read_bytes()
    with Store(path, create=False) as s:
        assert s.schema_version == st.SCHEMA_VERSION and s.count() == 1  # upgraded in memory only
        assert s.rows()[0]["source"] == f"zoo:{make_row()['model']}"
        with pytest.raises(StoreError, match="reading only"):
            s.add(make_row(seconds_median=0.3), repeat=True)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v1.sqlite"]  # no -wal or -shm beside it
