"""`harness count` under bad input: one line on stderr naming the fix, exit code 2, no traceback."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app

FIXTURES = Path(__file__).parent / "fixtures"
USER = FIXTURES / "user_model.py"
HF = FIXTURES / "hf"


@pytest.fixture(scope="module")
def no_architectures(tmp_path_factory):
    p = tmp_path_factory.mktemp("hf") / "config.json"
    p.write_text('{"model_type": "llama", "hidden_size": 64}')
    return str(p)


CASES = [
    # names and sources
    (("count", "gpt-9000"), "unknown model 'gpt-9000'"),
    (("count", "missing.py:build"), "no such file 'missing.py'"),
    (("count", f"{USER}:nothing"), "has no function 'nothing'"),
    (("count", f"{USER}:broken"), "raised RuntimeError: no weights here"),
    (("count", f"{USER}:wrong_shape"), "must return (module, inputs)"),
    (("count", f"{USER}:inputs_not_tuple"), "must return inputs as a tuple"),
    (("count", "no_such_package.mod:build"), "cannot import 'no_such_package.mod'"),
    (("count", f"{USER}:reads_values"), "must be counted with --device cpu"),
    (("count", "hf:/nowhere/config.json"), "no config file at '/nowhere/config.json'"),
    (("count", "NO_ARCH"), "names no architectures"),
    (("count", f"hf:{HF / 'llama.json'}", "--set", "num_hidden_layers"), "--set takes key=value"),
    (("count", f"hf:{HF / 'llama.json'}", "--set", "no_such_field=1"), "has no field 'no_such_field'"),
    (("count", "gpt2-small", "--set", "n_layer=2"), "--set changes fields of an hf: config"),
    # sizes
    (("count", "gpt2-small", "--batch", "1000000000000"), "--batch 1000000000000 is too large to count"),
    (("count", "gpt2-small", "--batch", "99999999999999999999999"), "--batch 99999999999999999999999 is too large"),
    (("count", "gpt2-small", "--seq", "100000000000000"), "--seq 100000000000000 is too large to count"),
    (("count", "gpt2-small", "--batch", "0"), "batch must be at least 1"),
    (("count", "gpt2-small", "--batch", "-3"), "batch must be at least 1"),
    (("count", "gpt2-small", "--seq", "0"), "sequence length must be at least 1, not 0"),
    (("count", "gpt2-small", "--seq", "1025"), "sequence length from 1 to 1024"),
    (("count", f"hf:{HF / 'gpt2.json'}", "--seq", "65"), "sequence length from 1 to 64"),
    (("count", f"hf:{HF / 'vit.json'}", "--seq", "8"), "takes images, not a sequence length"),
    (("count", "small-cnn", "--seq", "8"), "takes no sequence length"),
    (("count", "gpt3-175b", "--device", "cpu"), "count it on the meta device (the default) instead"),
    # flags
    (("count", "gpt2-small", "--phase", "forward", "--optimizer", "sgd"), "only a training step has"),
    (("count", "gpt2-small", "--optimizer", "adam"), "add --phase train or drop --optimizer"),
    (("count", "gpt2-small", "--phase", "train", "--optimizer", "lion"), "unknown optimizer 'lion'"),
    (("count", "gpt2-small", "--attention", "triangle"), "unknown attention convention 'triangle'"),
    (("count", "gpt2-small", "--device", "tpu"), "unknown device 'tpu'"),
    (("count", "gpt2-small", "--counters", "thop"), "unknown counter 'thop'"),
    (("count", "gpt2-small", "--format", "xml"), "unknown format 'xml'"),
]


@pytest.mark.parametrize("args, needle", CASES, ids=[" ".join(a[1:])[-60:] for a, _ in CASES])
def test_bad_count_input_is_one_line_and_exit_2(args, needle, no_architectures):
    args = tuple(f"hf:{no_architectures}" if a == "NO_ARCH" else a for a in args)
    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == 2, r.output
    assert needle in r.output
    assert len(r.output.strip().splitlines()) == 1
    assert "Traceback" not in r.output
