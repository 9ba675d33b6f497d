"""The training-run table: one record per zoo system, typed, read without torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

import models
from harness.estimate.runs import RunsError, load_runs, parse_runs, run_for


def test_every_zoo_system_has_one_run_and_every_run_a_zoo_system():
    systems = {name for name, e in models.REGISTRY.items() if e.facts is not None}
    assert set(load_runs()) == systems


def test_a_run_reads_its_figures():
    r = run_for("alexnet")
    assert (r.examples, r.epochs, r.batch_size, r.chip_count) == (1.2e6, 90, 128, 2)
    assert r.tokens_or_examples == pytest.approx(1.08e8)  # 1.2e6 images x 90 epochs
    assert "Krizhevsky" in r.source


def test_nested_parts_and_their_types():
    (r,) = parse_runs('[x]\ntokens = 1e9\n[x.moe]\nexperts = 8\ntop_k = 2\n'
                      '[x.fine_tune]\nbase_model = "y"\nincludes_base = false\n').values()
    assert (r.moe.experts, r.moe.top_k, r.fine_tune.includes_base) == (8, 2, False)


@pytest.mark.parametrize("text, match", [
    ("[x]\ntokenz = 1", "unknown key.*tokenz"),
    ("[x]\ntokens = -1", "positive number"),
    ("[x]\nbatch_size = 2.5", "whole number"),
    ('[x]\nsource = 3', "must be a string"),
    ("[x]\n[x.moe]\nexperts = 8", "top_k"),
    ("[x\n", "not valid TOML"),
])
def test_malformed_tables_name_the_problem(text, match):
    with pytest.raises(RunsError, match=match):
        parse_runs(text)


def test_unknown_name():
    with pytest.raises(RunsError, match="no training run recorded for 'nope'"):
        run_for("nope")


def test_read_without_torch():
    def torch_loaded(code: str) -> bool:
        code += "; import sys; print('torch' in sys.modules)"
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "True"

    if torch_loaded("import harness"):
        pytest.skip("the harness package itself imports torch eagerly")
    assert not torch_loaded("from harness.estimate.runs import load_runs; load_runs()")
