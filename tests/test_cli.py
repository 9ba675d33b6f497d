"""The `harness count` command: outputs, and one-line errors with exit code 2 for bad input."""

import csv
import io
import json

import pytest
import torch
from typer.testing import CliRunner

from harness.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


@pytest.mark.parametrize(
    "args, needle",
    [
        (("count", "gpt-9000"), "unknown model 'gpt-9000'; choose one of:"),
        (("count", "gpt2-small", "--batch", "0"), "batch must be at least 1"),
        (("count", "gpt2-small", "--seq", "1025"), "sequence length from 1 to 1024"),
        (("count", "small-cnn", "--seq", "8"), "takes no sequence length"),
        (("count", "gpt2-small", "--device", "tpu"), "unknown device 'tpu'; choose one of: meta, cpu, cuda"),
        (("count", "gpt2-small", "--counters", "thop"), "unknown counter 'thop'; choose one of: own, all, fvcore"),
        (("count", "gpt2-small", "--phase", "eval"), "unknown phase 'eval'; choose one of: forward, train"),
        (("count", "gpt2-small", "--format", "xml"), "unknown format 'xml'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, needle):
    r = invoke(*args)
    assert r.exit_code == 2
    assert needle in r.output
    assert len(r.output.strip().splitlines()) == 1
    assert "Traceback" not in r.output


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_missing_cuda_is_a_clear_error():
    r = invoke("count", "gpt2-small", "--device", "cuda")
    assert r.exit_code == 2 and "not available" in r.output


def test_json_has_the_documented_keys():
    r = invoke("count", "gpt2-small", "--format", "json", "--phase", "train")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    for key in ("total_flop", "by_category", "by_phase", "by_module", "uncounted"):
        assert key in out
    assert out["total_flop"] == sum(out["by_phase"].values())
    assert out["by_phase"]["backward"] > out["by_phase"]["forward"]
    assert "counters" not in out


def test_json_with_counters_holds_flop_counter_mode():
    r = invoke("count", "small-cnn", "--device", "cpu", "--counters", "flopcountermode", "--format", "json")
    assert r.exit_code == 0, r.output
    (row,) = json.loads(r.output)["counters"]
    assert row["counter"] == "flopcountermode"
    assert row["flop"] < row["ours"]  # it leaves out normalisation, ReLU and pooling
    assert any("normalisation" in line for line in row["explanation"])


def test_csv_is_a_long_table():
    r = invoke("count", "lstm-lm", "--format", "csv")
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.output)))
    assert {"model", "table", "key", "flop", "note"} <= set(rows[0])
    recurrent = [row for row in rows if row["table"] == "forward" and row["key"] == "recurrent"]
    assert int(recurrent[0]["flop"]) > 0


def test_table_names_the_convention():
    r = invoke("count", "gpt2-small")
    assert r.exit_code == 0, r.output
    assert "total (full attention)" in r.output and "total (causal attention)" in r.output
