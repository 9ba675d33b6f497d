"""Hostile input across every command: one line on stderr naming the fix, exit code 2, files left as they were.

Cases not already in the other bad-input suites: model sources whose code misbehaves, `--set` values
transformers rejects, empty flag values, flags that only mean something beside another, defaults
tables and claims files that parse but are wrong, outputs in read-only places, empty database files.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app

HF = Path(__file__).resolve().parent / "fixtures" / "hf"
FAST = ("--device", "cpu", "--steps", "2", "--warmup", "0")
HEADER = ["Model", "Domain", "Publication date", "Parameters", "Training compute (FLOP)",
          "Training dataset size (datapoints)", "Epochs", "Training time (hours)", "Training hardware",
          "Hardware quantity", "Hardware utilization (MFU)", "Numerical format", "Training compute estimation method"]
READ_ONLY = "/proc/sys"  # read-only even for root

MODELS = {
    "m_exit.py": "import sys\nsys.exit(0)\n",
    "m_raises.py": "def build(batch, seq, device):\n    raise ValueError('boom')\n",
    "m_syntax.py": "def build(:\n",
    "m_none.py": "def build(batch, seq, device):\n    return None\n",
    "m_forward_raises.py": (
        "import torch, torch.nn as nn\n"
        "class M(nn.Module):\n"
        "    def forward(self, x):\n"
        "        raise RuntimeError('fwd')\n"
        "def build(batch, seq, device):\n"
        "    return M(), (torch.zeros(batch, 2, device=device),)\n"),
    "m_str_out.py": (
        "import torch, torch.nn as nn\n"
        "class M(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__(); self.l = nn.Linear(2, 2)\n"
        "    def forward(self, x):\n"
        "        return 'text'\n"
        "def build(batch, seq, device):\n"
        "    return M().to(device), (torch.zeros(batch, 2, device=device),)\n"),
    "m_int_out.py": (
        "import torch, torch.nn as nn\n"
        "class M(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__(); self.l = nn.Linear(2, 2)\n"
        "    def forward(self, x):\n"
        "        return (x.long(),)\n"
        "def build(batch, seq, device):\n"
        "    return M().to(device), (torch.zeros(batch, 2, device=device),)\n"),
}


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def fill(args, files: dict[str, str]) -> list[str]:
    """Put the fixture paths in place of {name} (names hold dots, so not str.format)."""
    return [re.sub(r"\{([^{}]+)\}", lambda m: files.get(m.group(1), m.group(0)), a) for a in args]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    t = tmp_path_factory.mktemp("review")
    out = {"tmp": str(t), "ro": READ_ONLY}

    def put(name: str, text: str | bytes) -> None:
        p = t / name
        p.write_bytes(text) if isinstance(text, bytes) else p.write_text(text)
        out[name] = str(p)

    with (t / "good.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(12):
            w.writerow([f"LM {i}", "Language" if i % 2 else "Vision", f"{2010 + i}-03-01", f"{(1 + i) * 1e8}",
                        f"{10 ** (17 + 0.5 * i):.3g}", "1e9", "", "100", "NVIDIA A100", "64", "", "BF16",
                        "Operation counting"])
    out["good.csv"] = str(t / "good.csv")
    with (t / "calib.csv").open("w", newline="") as f:  # enough counted runs for calibrate to reach --db
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(8):
            w.writerow([f"LM {i}", "Language", "2022-01-01", "7e9", f"{(2 + i) * 1e21}", "", "", "100",
                        "NVIDIA A100", "64", "", "BF16", "Operation counting"])
    out["calib.csv"] = str(t / "calib.csv")
    for name, text in MODELS.items():
        put(name, text)
    put("plain.txt", "not a folder\n")
    put("empty.db", b"")
    put("claims_ragged.csv", "name,params,tokens\nA,1e9,1e12,extra,extra\n")
    for name, row in (("defaults_inverted.csv", "all,0.3,0.9,0.1,5,x"), ("defaults_zero.csv", "all,0,0,0,5,x"),
                      ("defaults_negative.csv", "all,-0.3,0.1,0.5,5,x")):
        put(name, f"group,utilisation,low,high,n,source\n{row}\n")
    put("hf_notjson.json", "{not json")
    put("hf_unknown_arch.json", json.dumps({"architectures": ["NoSuchForCausalLM"], "model_type": "llama"}))
    foreign = t / "foreign.sqlite"
    with sqlite3.connect(foreign) as c:
        c.execute("CREATE TABLE runs (id INTEGER)")  # a table named like ours, but not ours
    out["foreign.sqlite"] = str(foreign)
    (t / "folder").mkdir()
    out["folder"] = str(t / "folder")
    return out


LLAMA = f"hf:{HF / 'llama.json'}"
CASES = [
    # model sources whose code misbehaves (count and bench load them the same way)
    (("count", "{m_exit.py}:build"), "importing m_exit.py failed: SystemExit: 0"),
    (("bench", "{m_exit.py}:build", *FAST, "--no-db"), "importing m_exit.py failed: SystemExit"),
    (("count", "{m_str_out.py}:build", "--phase", "train"), "output holds no tensor"),
    (("count", "{m_int_out.py}:build", "--phase", "train"), "needs parameters or inputs that require a gradient"),
    (("count", "{m_forward_raises.py}:build"), "failed: RuntimeError: fwd"),
    (("bench", "{m_raises.py}:build", *FAST, "--no-db"), "raised ValueError: boom"),
    (("bench", "{m_syntax.py}:build", *FAST, "--no-db"), "SyntaxError: invalid syntax"),
    (("bench", "{m_none.py}:build", *FAST, "--no-db"), "must return (module, inputs), not NoneType"),
    (("count", "{folder}:build"), "is a folder: name the .py file, FILE.py:FUNCTION"),
    (("count", ":build"), "is not FILE.py:FUNCTION or package.module:FUNCTION"),
    (("count", "hf:"), "no config file at ''"),
    (("count", "hf:{folder}"), "no config file at"),
    (("bench", "hf:{hf_notjson.json}", *FAST, "--no-db"), "is not a JSON config"),
    (("bench", "hf:{hf_unknown_arch.json}", *FAST, "--no-db"), "has no model class 'NoSuchForCausalLM'"),
    # --set values transformers' config refuses
    (("count", LLAMA, "--set", "num_hidden_layers=abc"), "--set num_hidden_layers=\"abc\": Field 'num_hidden_layers' expected int"),
    (("count", LLAMA, "--set", "num_hidden_layers="), "--set num_hidden_layers=\"\": Field 'num_hidden_layers' expected int"),
    (("count", LLAMA, "--set", "hidden_size=1e9"), "expected int, got float"),
    (("count", LLAMA, "--set", "num_hidden_layers=1e400"), "expected int, got float (value: inf)"),
    (("count", LLAMA, "--set", "num_hidden_layers=-1"), "failed: ValueError"),
    # empty values that used to mean "the default" without a word
    (("count", "lenet-5", "--counters", ""), "--counters is empty"),
    (("count", "lenet-5", "--counters", ","), "--counters is empty"),
    (("bench", "lenet-5", *FAST, "--precision", "", "--no-db"), "--precision is empty"),
    (("bench", "lenet-5", *FAST, "--precision", ",", "--no-db"), "unknown precision ''"),
    (("bench", "lenet-5", *FAST, "--db", ""), "--db is empty"),
    (("bench", "lenet-5", *FAST, "--db", " "), "--db is empty"),
    (("trends", "--dataset", "{good.csv}", "--no-zoo", "--boots", "5", "--domain", ""), "--domain is empty"),
    (("trends", "--dataset", "{good.csv}", "--no-zoo", "--boots", "5", "--domain", ","), "--domain is empty"),
    (("trends", "--dataset", "{good.csv}", "--no-zoo", "--boots", "5", "--out", ""), "--out is empty"),
    (("report", "--dataset", "{good.csv}", "--out", ""), "--out is empty"),
    (("reconcile-dataset", "--dataset", "{good.csv}", "--only", ""), "--only is empty"),
    (("reconcile-dataset", "--dataset", "{good.csv}", "--only", ","), "--only is empty"),
    (("reconcile-dataset", "--dataset", "{good.csv}", "--out", ""), "--out is empty"),
    # flags that only mean something beside another
    (("trends", "--dataset", "{good.csv}", "--no-zoo", "--boots", "5", "--machine", "X"), "add --out DIR, or drop --machine"),
    (("calibrate", "--dataset", "{good.csv}", "--boots", "5", "--machine", "X"), "add --report PAGE.md, or drop --machine"),
    (("reconcile-dataset", "--dataset", "{good.csv}", "--format", "json", "--out", "{tmp}/r.csv"),
     "--out always writes CSV"),
    # sizes
    (("trends", "--dataset", "{good.csv}", "--no-zoo", "--boots", "99999999999999999999"), "--boots must be at most 100,000"),
    (("trends", "--dataset", "{good.csv}", "--no-zoo", "--boots", "5", "--since", "-5"), "a year from 1900 to 9999"),
    (("trends", "--dataset", "{good.csv}", "--no-zoo", "--boots", "5", "--large-scale-threshold", "inf"),
     "non-negative number of standard deviations"),
    (("trends", "--dataset", "{good.csv}", "--no-zoo", "--seed", "abc"), "--seed must be a whole number"),
    (("bench", "lenet-5", *FAST, "--nproc", "2", "--timeout", "-1"), "--timeout must be at least 1 second, not -1"),
    (("bench", "lenet-5", *FAST, "--timeout", "0", "--no-db"), "--timeout must be at least 1 second, not 0"),
    (("bench", "lenet-5", *FAST, "--batch", "0x10", "--no-db"), "whole numbers separated by commas, not '0x10'"),
    (("bench", "lenet-5", "--device", "meta", "--no-db"), "unknown device 'meta'"),
    # outputs in the wrong place
    (("reconcile-dataset", "--dataset", "{good.csv}", "--out", "{plain.txt}/x.csv"), "must be a .csv path in an existing folder"),
    (("trends", "--dataset", "{good.csv}", "--no-zoo", "--boots", "5", "--out", "{plain.txt}"), "a file is in the way"),
    (("trends", "--dataset", "{good.csv}", "--no-zoo", "--boots", "5", "--out", "{ro}/x"), "pass --out a folder you can write to"),
    (("calibrate", "--dataset", "{good.csv}", "--boots", "5", "--out", "{tmp}/table.json"), "the defaults table is CSV; name it .csv"),
    (("results", "--db", "{tmp}/none.sqlite", "--out", "{ro}/o.csv"), "the folder /proc/sys is read-only"),
    (("report", "--dataset", "{good.csv}", "--out", "{ro}/rep"), "cannot create the report folder"),
    # files that parse but hold nonsense
    (("estimate", "--dataset", "{good.csv}", "--defaults", "{defaults_inverted.csv}"),
     "group 'all' needs 0 < low <= utilisation <= high, not 0.9 <= 0.3 <= 0.1"),
    (("estimate", "--dataset", "{good.csv}", "--defaults", "{defaults_zero.csv}"), "not 0 <= 0 <= 0"),
    (("check", "--params", "1e9", "--defaults", "{defaults_negative.csv}"), "not 0.1 <= -0.3 <= 0.5"),
    (("check", "--file", "{claims_ragged.csv}"), "claims_ragged.csv line 2: 5 cells where the header has 3"),
    (("check", "--file", "/proc/self/status"), "not a claims CSV"),
    (("estimate", "--dataset", "/proc/self/status"), "is not an Epoch systems CSV: missing column(s)"),
    (("estimate", "--dataset", "/dev/null"), "is empty: expected a CSV"),
    (("check", "--params", "1e9", "--tokens", "1e12", "--hardware", "", "--count", "8", "--hours", "10"), "empty hardware name"),
    (("check", "--params", "1e9", "--tokens", "1e12", "--hardware", "NVIDIA A100", "--count", "8", "--hours", "10",
      "--peak", "1e40"), "peak 1e+40 is above 1e+17 FLOP/s per chip"),
    (("check", "--params", "1e9", "--tokens", "1e12", "--hardware", "NVIDIA A100", "--count", "8", "--hours", "10",
      "--claimed", "nan"), "claimed must be a positive number, not nan"),
    # databases
    (("report", "--dataset", "{good.csv}", "--out", "{tmp}/rep", "--db", "{folder}"), "is a directory"),
    (("bench", "lenet-5", *FAST, "--db", "{foreign.sqlite}"), "not a harness results database (tables: runs)"),
    (("bench", "lenet-5", *FAST, "--db", "/proc/self/status"), "is read-only"),
    (("results", "--db", "/dev/null"), "no results database at /dev/null"),
    # sizes without a bound, lists that repeat, a counted table that is not one
    (("bench", "lenet-5", "--device", "cpu", "--steps", "100001", "--no-db"), "at most 100,000 steps each"),
    (("bench", "lenet-5", "--device", "cpu", "--warmup", "99999999999999", "--no-db"), "at most 100,000 steps each"),
    (("bench", "lenet-5", *FAST, "--batch", "2,4,2", "--no-db"), "--batch lists 2 more than once"),
    (("calibrate", "--dataset", "{good.csv}", "--boots", "5", "--counted", "{folder}"), "is a folder: give the CSV"),
    (("calibrate", "--dataset", "{good.csv}", "--boots", "5", "--counted", "{good.csv}"),
     "lacks the column 'dataset_model'"),
    (("calibrate", "--dataset", "{good.csv}", "--boots", "5", "--counted", "{tmp}/missing.csv"), "no such file"),
]


@pytest.mark.parametrize("args, needle", CASES, ids=[" ".join(a)[:70] for a, _ in CASES])
def test_one_line_exit_2(files, args, needle):
    r = invoke(*fill(args, files))
    assert r.exit_code == 2, r.output
    assert needle in r.output, r.output
    assert len(r.output.strip().splitlines()) == 1, r.output
    assert "Traceback" not in r.output


@pytest.mark.parametrize("args", [
    ("results", "--db", "{empty.db}"),
    ("calibrate", "--dataset", "{calib.csv}", "--boots", "5", "--db", "{empty.db}", "--out", "{tmp}/d.csv"),
    ("report", "--dataset", "{good.csv}", "--out", "{tmp}/rep-empty", "--db", "{empty.db}"),
])
def test_an_empty_database_file_is_left_empty(files, args):
    """A 0-byte file given to a command that only reads is not turned into a database."""
    db = Path(files["empty.db"])
    r = invoke(*fill(args, files))
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert "Traceback" not in r.output
    assert db.stat().st_size == 0  # no schema written into it, no WAL beside it
    assert not Path(str(db) + "-wal").exists()


def test_a_refused_foreign_database_is_byte_for_byte_unchanged(files):
    db = Path(files["foreign.sqlite"])
    before = sha(db)
    for args in (("results", "--db", str(db)), ("bench", "lenet-5", *FAST, "--db", str(db))):
        r = invoke(*args)
        assert r.exit_code == 2 and "left untouched" in r.output, r.output
    assert sha(db) == before
    assert not Path(str(db) + "-wal").exists()


def test_a_forward_that_fails_is_an_error_row_not_a_traceback(files):
    """bench's memory check runs a meta forward first; a model that raises there is measured and its
    row says why."""
    r = invoke("bench", f"{files['m_forward_raises.py']}:build", *FAST, "--no-db", "--format", "json")
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert r.exit_code == 0, r.output
    assert "RuntimeError: fwd" in r.output


def test_reconcile_says_which_asked_systems_the_dataset_lacks(files):
    r = invoke("reconcile-dataset", "--dataset", files["good.csv"], "--only", "lenet-5", "--format", "csv")
    assert r.exit_code == 0, r.output
    assert f"not in {files['good.csv']} with a compute: lenet-5" in r.output


def test_reconcile_out_in_a_read_only_folder_is_one_error_line(files):
    r = invoke("reconcile-dataset", "--dataset", files["good.csv"], "--only", "lenet-5", "--out", f"{READ_ONLY}/x.csv")
    assert r.exit_code == 2, r.output
    assert r.output.strip().splitlines()[-1] == (
        f"error: cannot write {READ_ONLY}/x.csv: No such file or directory; "
        "pass --out a .csv path in a folder you can write to")
    assert "Traceback" not in r.output
