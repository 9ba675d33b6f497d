"""Bad input to bench, peak and results: one line on stderr naming the fix, exit code 2, nothing written.

Also the two things a user does to a running bench: start a second one on the same database, and
press Ctrl-C. Both keep every finished row.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.store import Store

ROOT = Path(__file__).resolve().parents[1]
FAST = ("--device", "cpu", "--steps", "1", "--warmup", "0")


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """A harness database with one measured row (measured once for the whole module)."""
    db = tmp_path_factory.mktemp("measured") / "ours.sqlite"
    r = invoke("bench", "lenet-5", "--batch", "1", *FAST, "--db", str(db))
    assert r.exit_code == 0, r.output
    return db


@pytest.fixture
def files(tmp_path, measured):
    """A plain file, a foreign SQLite database and a copy of the harness database with one row."""
    plain = tmp_path / "plain.txt"
    plain.write_text("not a folder\n")
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as c:
        c.execute("CREATE TABLE people (name TEXT)")
    ours = tmp_path / "ours.sqlite"
    shutil.copy(measured, ours)
    return {"tmp": tmp_path, "plain": plain, "foreign": foreign, "ours": ours}


CASES = [
    # sizes
    (("bench", "lenet-5", "--batch", ""), "--batch is empty"),
    (("bench", "lenet-5", "--batch", ","), "--batch is empty"),
    (("bench", "lenet-5", "--batch", "0"), "--batch must be at least 1, not 0"),
    (("bench", "lenet-5", "--batch", "-3"), "--batch must be at least 1, not -3"),
    (("bench", "lenet-5", "--batch", "1000000000000"), "--batch must be at most 2,147,483,647"),
    (("bench", "lenet-5", "--batch", "99999999999999999999999"), "--batch must be at most"),
    (("bench", "lenet-5", "--batch", "2.5"), "whole numbers separated by commas"),
    (("bench", "lenet-5", "--sweep", "--max-batch", "0"), "--max-batch must be at least 1, not 0"),
    (("bench", "lenet-5", "--sweep", "--max-batch", "-4"), "--max-batch must be at least 1, not -4"),
    (("bench", "gpt2-small", "--seq", "0", "--device", "cpu"), "sequence length"),
    (("bench", "lenet-5", "--seq", "8", "--device", "cpu"), "takes no sequence length"),
    (("bench", "gpt3-175b", "--device", "cpu", "--no-db"), "more than the"),
    # flags that contradict each other
    (("bench", "lenet-5", "--sweep", "--batch", "8"), "--sweep chooses the batches itself"),
    (("bench", "lenet-5", "--max-batch", "8"), "--max-batch only bounds a --sweep"),
    (("bench", "lenet-5", "--no-db", "--db", "{tmp}/x.db"), "--no-db stores nothing, --db names where"),
    (("bench", "lenet-5", "--no-db", "--again"), "drop --again"),
    (("bench", "gpt2-small", "--phase", "inference", "--checkpointing"), "inference has none"),
    (("bench", "lenet-5", "--steps", "0"), "--steps must be at least 1"),
    (("bench", "lenet-5", "--warmup", "-1"), "--warmup at least 0"),
    (("bench", "lenet-5", "--phase", "eval"), "unknown phase 'eval'"),
    (("bench", "lenet-5", "--format", "xml"), "unknown format 'xml'"),
    (("bench", "lenet-5", "--nproc", "2", "--sweep"), "--nproc runs one training configuration"),
    (("bench", "lenet-5", "--nproc", "0"), "--nproc must be at least 1"),
    (("bench", "lenet-5", "--nproc", "2", "--strategy", "zero3"), "unknown strategy 'zero3'"),
    # names and devices
    (("bench", "no-such-model"), "unknown model 'no-such-model'"),
    (("bench", "lenet-5", "--device", "tpu"), "unknown device 'tpu'"),
    (("bench", "lenet-5", "--device", "xla"), "device 'xla' is not available here"),
    (("bench", "lenet-5", "--device", "cpu", "--precision", "tf32"), "on the CPU choose fp32 or bf16"),
    (("bench", "lenet-5", "--device", "cpu", "--precision", "fp8"), "unknown precision 'fp8'"),
    (("bench", "nope.py:build"), "no such file"),
    (("bench", "lenet-5", "--set", "n_layer=2"), "--set changes fields of an hf: config"),
    # databases
    (("bench", "lenet-5", *FAST, "--db", "{plain}/x.db"), "cannot create the folder"),
    (("bench", "lenet-5", *FAST, "--db", "{tmp}"), "is a directory"),
    (("bench", "lenet-5", *FAST, "--db", "{foreign}"), "not a harness results database"),
    (("bench", "lenet-5", *FAST, "--db", "{plain}"), "not a SQLite results database"),
    (("results", "--db", "{tmp}/missing/dir/x.db"), "no results database at"),
    (("results", "--db", "{foreign}"), "left untouched"),
    # output paths
    (("results", "--db", "{ours}", "--out", "{plain}/r.csv"), "is a file, not a folder"),
    (("results", "--db", "{ours}", "--format", "json", "--out", "{tmp}"), "is a directory"),
    (("results", "--db", "{ours}", "--out", "{tmp}/x.parquet", "--format", "csv"), "ends in .parquet"),
    (("results", "--db", "{ours}", "--out", "{tmp}/x.json", "--format", "parquet"), "ends in .json"),
    (("results", "--db", "{ours}", "--out", "{tmp}/x.txt"), "cannot tell the format"),
    (("results", "--db", "{ours}", "--format", "parquet"), "parquet needs a file"),
    (("results", "--db", "{ours}", "--format", "xlsx"), "unknown format 'xlsx'"),
    # peak
    (("peak", "--device", "tpu"), "unknown device 'tpu'"),
    (("peak", "--device", "cpu", "--precision", "fp16"), "GPU precision"),
    (("peak", "--format", "csv"), "unknown format 'csv'"),
]


@pytest.mark.parametrize("args, message", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_input_is_one_line_and_exit_2(files, args, message):
    args = tuple(a.format(**files) for a in args)
    before = sorted(p.name for p in files["tmp"].iterdir())
    foreign = files["foreign"].read_bytes()
    r = invoke(*args)
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    assert message in lines[0]
    assert sorted(p.name for p in files["tmp"].iterdir()) == before  # nothing created, nothing half-written
    assert files["foreign"].read_bytes() == foreign  # a refused file is not modified (no WAL switch)
    with Store(files["ours"]) as store:
        assert store.count() == 1


def test_results_takes_the_format_from_the_suffix(files):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    for name, read in (("r.parquet", pd.read_parquet), ("r.json", pd.read_json), ("r.csv", pd.read_csv)):
        out = files["tmp"] / name
        r = invoke("results", "--db", str(files["ours"]), "--out", str(out))
        assert r.exit_code == 0, r.output
        assert len(read(out)) == 1 and list(read(out)["model"]) == ["lenet-5"]


def test_a_second_run_shows_the_stored_rows_and_how_to_measure_again(files):
    r = invoke("bench", "lenet-5", "--batch", "1", *FAST, "--db", str(files["ours"]), "--format", "json")
    assert r.exit_code == 0, r.output
    assert "already in the database" in r.output and "--again" in r.output
    with Store(files["ours"]) as store:
        (stored,) = store.rows()
    assert stored["run_id"] in r.output  # the stored row is what is shown
    again = invoke("bench", "lenet-5", "--batch", "1", *FAST, "--db", str(files["ours"]), "--again")
    assert again.exit_code == 0, again.output
    with Store(files["ours"]) as store:
        assert [row["repeat"] for row in store.rows()] == [0, 1]  # measured again: a repeat, both kept


def _bench(db: Path, batches: str, steps: str = "1") -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "bench", "lenet-5", "--device", "cpu", "--batch", batches,
         "--steps", steps, "--warmup", "0", "--db", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(db.parent))


def test_two_benches_on_one_database_keep_every_row(tmp_path):
    """Same configurations at once: both runs finish, every measurement lands (repeats kept)."""
    db = tmp_path / "shared.sqlite"
    Store(db).close()
    a, b = _bench(db, "1,2"), _bench(db, "1,2")
    reported = 0
    for p in (a, b):
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert "Traceback" not in err
        found = re.search(r"stored (\d+) row\(s\)", err)
        reported += int(found.group(1)) if found else 0  # a run that found both stored measured none
    with Store(db) as store:
        rows = store.rows()
    assert len(rows) == reported >= 2  # every row either run measured landed; none refused or lost
    assert {r["batch"] for r in rows} == {1, 2} and all(r["status"] == "ok" for r in rows)
    by_key: dict[str, list[int]] = {}
    for r in rows:
        by_key.setdefault(r["run_key"], []).append(r["repeat"])
    assert all(sorted(v) == list(range(len(v))) for v in by_key.values())  # repeats numbered 0, 1, ...


def test_ctrl_c_keeps_the_finished_rows_and_names_them(tmp_path):
    db = tmp_path / "interrupted.sqlite"
    p = _bench(db, "1,2,4,8,16,32,64,128", steps="3")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:  # wait until the first row is stored
        time.sleep(0.5)
        if db.exists():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
                    if c.execute("SELECT COUNT(*) FROM runs").fetchone()[0] >= 1:
                        break
            except sqlite3.Error:
                pass
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert "Traceback" not in err
    with Store(db) as store:
        rows = store.rows()
    assert 1 <= len(rows) < 8
    line = next(ln for ln in err.splitlines() if ln.startswith("interrupted:"))
    assert f"{len(rows)} finished row(s) stored in {db}" in line
    for r in rows:
        assert f"lenet-5 batch {r['batch']} fp32 train" in line
