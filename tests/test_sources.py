"""Model sources: zoo names, FILE.py:FUNCTION, package.module:FUNCTION and hf:config.json."""

from pathlib import Path

import pytest

import models
from harness.counting.api import count_flops
from harness.sources import SourceError, load, resolve

FIXTURES = Path(__file__).parent / "fixtures"
HF = FIXTURES / "hf"
USER = FIXTURES / "user_model.py"


def test_a_zoo_name_is_its_entry():
    src = resolve("small-cnn")
    assert (src.kind, src.source, src.family) == ("zoo", "small-cnn", models.get("small-cnn").family)
    loaded = src.load(batch=2, device="meta")
    entry = models.get("small-cnn")
    assert count_flops(loaded.module, loaded.inputs).total == count_flops(entry.build("meta"), entry.inputs(2, None, "meta")).total


def test_a_file_function_is_called_with_batch_seq_device():
    loaded = load(f"{USER}:build", batch=3, seq=7, device="meta")
    assert loaded.source == f"{USER.resolve()}:build"
    assert loaded.name == "user_model.py:build"
    assert loaded.inputs[0].shape == (3, 7, 8) and loaded.inputs[0].is_meta
    assert count_flops(loaded.module, loaded.inputs).total == 2 * 3 * 7 * 8 * 4  # tokens x in x out x 2


def test_seq_is_none_when_not_given():
    loaded = load(f"{USER}:build", device="cpu")
    assert loaded.inputs[0].shape == (1, 5, 8)  # batch 1 by default; the function chose seq 5


def test_a_module_function_imports_from_the_path(monkeypatch):
    monkeypatch.syspath_prepend(str(FIXTURES))
    loaded = load("user_model:build", batch=2, seq=3, device="cpu")
    assert loaded.source == "user_model:build"
    assert count_flops(loaded.module, loaded.inputs).total == 2 * 2 * 3 * 8 * 4


@pytest.mark.parametrize(
    "spec, needle",
    [
        ("no-such-model", "unknown model 'no-such-model'"),
        ("missing.py:build", "no such file 'missing.py'"),
        (f"{USER}:nothing", "has no function 'nothing'"),
        (f"{USER}:broken", "raised RuntimeError: no weights here"),
        (f"{USER}:wrong_shape", "must return (module, inputs)"),
        (f"{USER}:inputs_not_tuple", "must return inputs as a tuple"),
        ("no_such_package.models:build", "cannot import 'no_such_package.models'"),
        (f"{USER}:", "is not FILE.py:FUNCTION"),
        ("hf:/nowhere/config.json", "no config file at '/nowhere/config.json'"),
        (f"hf:{USER}", "is not a JSON config"),
    ],
)
def test_a_source_that_cannot_load_says_why_in_one_line(spec, needle):
    with pytest.raises(SourceError) as e:
        load(spec, device="meta")
    assert needle in str(e.value)
    assert "\n" not in str(e.value)


def _config(tmp_path, text):
    p = tmp_path / "config.json"
    p.write_text(text)
    return f"hf:{p}"


@pytest.mark.parametrize(
    "text, overrides, needle",
    [
        ('{"model_type": "llama"}', (), "names no architectures"),
        ('{"architectures": ["NoSuchForCausalLM"], "model_type": "llama"}', (), "has no model class 'NoSuchForCausalLM'"),
        ('{"architectures": ["LlamaForCausalLM"]}', (), "has no model_type"),
        ('[1, 2]', (), "not an object of config fields"),
        ('{"architectures": ["LlamaForCausalLM"], "model_type": "llama"}', ("no_such_field=2",), "has no field 'no_such_field'"),
        ('{"architectures": ["LlamaForCausalLM"], "model_type": "llama"}', ("num_hidden_layers",), "--set takes key=value"),
    ],
)
def test_bad_hf_configs_say_why(tmp_path, text, overrides, needle):
    with pytest.raises(SourceError) as e:
        resolve(_config(tmp_path, text), overrides)
    assert needle in str(e.value)


def test_set_applies_only_to_hf_sources():
    with pytest.raises(SourceError, match="--set changes fields of an hf: config"):
        resolve("small-cnn", ["num_hidden_layers=2"])


def test_hf_llama_counts_exactly():
    loaded = load(f"hf:{HF / 'llama.json'}", batch=2, seq=16, device="cpu")
    r = count_flops(loaded.module, loaded.inputs)
    # per layer q 64x64, k 64x32, v 64x32 (2 KV heads of 16), o 64x64, MLP 3 x 64x128: 36,864 weights;
    # 2 layers + the 64x256 head: 90,112; x 2 FLOP x 32 tokens
    assert r.by_category["matmul"] == 2 * 32 * (2 * 36864 + 64 * 256) == 5_767_168
    # Q K^T and P V: 2 x B 2 x H 4 x 16 x 16 x (16 + 16) per layer, 2 layers
    assert r.by_category["attention"] == 2 * (2 * 2 * 4 * 16 * 16 * 32) == 262_144
    assert r.total_causal == r.total - 2 * 2 * 2 * 4 * (16 * 16 - 16 * 17 // 2) * 32  # is_causal: the triangle
    assert not r.uncounted


def test_hf_overrides_and_stable_source():
    spec = f"hf:{HF / 'llama.json'}"
    one = resolve(spec, ["num_hidden_layers=1"])
    assert one.source == f"hf:{(HF / 'llama.json').resolve()} num_hidden_layers=1"
    assert resolve(spec, ["num_hidden_layers=1"]).source == one.source
    r1 = count_flops(*_mi(one.load(batch=2, seq=16, device="meta")))
    r2 = count_flops(*_mi(resolve(spec).load(batch=2, seq=16, device="meta")))
    assert r2.by_category["matmul"] - r1.by_category["matmul"] == 2 * 32 * 36864  # one layer less


def _mi(loaded):
    return loaded.module, loaded.inputs


@pytest.mark.parametrize("name", ["llama", "mistral", "mixtral", "t5", "whisper"])
def test_hf_counts_the_same_on_meta_and_cpu(name):
    seq = None if name == "vit" else 16
    counts = {}
    for device in ("cpu", "meta"):
        loaded = load(f"hf:{HF / (name + '.json')}", batch=2, seq=seq, device=device, train=True)
        r = count_flops(loaded.module, loaded.inputs, phase="train", hint=loaded.attention)
        counts[device] = (r.total, r.total_causal)
    assert counts["cpu"] == counts["meta"]


def test_a_training_step_uses_the_models_own_loss():
    loaded = load(f"hf:{HF / 'llama.json'}", batch=2, seq=16, device="cpu", train=True)
    out = loaded.module(*loaded.inputs)
    assert out.loss is not None and out.loss.dim() == 0
    forward = count_flops(loaded.module, load(f"hf:{HF / 'llama.json'}", batch=2, seq=16, device="cpu").inputs)
    train_forward = count_flops(loaded.module, loaded.inputs).by_op
    assert "aten.nll_loss_forward.default" in train_forward and "aten.nll_loss_forward.default" not in forward.by_op


def test_hf_inputs_follow_the_model():
    vit = load(f"hf:{HF / 'vit.json'}", batch=2, device="meta")
    assert vit.inputs[0].shape == (2, 3, 32, 32)
    with pytest.raises(SourceError, match="takes images, not a sequence length"):
        load(f"hf:{HF / 'vit.json'}", seq=4, device="meta")
    t5 = load(f"hf:{HF / 't5.json'}", batch=2, seq=8, device="meta")
    assert [x.shape for x in t5.inputs] == [(2, 8), (2, 8)]  # input_ids, decoder_input_ids
    gpt2 = resolve(f"hf:{HF / 'gpt2.json'}")
    with pytest.raises(SourceError, match="from 1 to 64"):
        gpt2.load(seq=65, device="meta")  # learned positions end at n_positions
    assert gpt2.load(device="meta").inputs[0].shape == (1, 64)  # default: min(128, n_positions)


def test_declared_attention():
    assert load(f"hf:{HF / 'mistral.json'}", device="meta").attention.window == 8
    assert load(f"hf:{HF / 'gpt2.json'}", device="meta").attention.causal is True
    assert load(f"hf:{HF / 't5.json'}", device="meta").attention.causal is None


def test_implementations_are_chosen_with_set_and_eager_attention_says_so():
    spec = f"hf:{HF / 'llama.json'}"
    eager = resolve(spec, ["attn_implementation=eager"])
    assert eager.source.endswith('attn_implementation="eager"')
    loaded = eager.load(batch=2, seq=16, device="meta")
    assert loaded.module.config._attn_implementation == "eager"
    assert any("eager implementation" in n for n in loaded.notes)
    r = count_flops(loaded.module, loaded.inputs)
    assert r.by_category["attention"] == 0 and r.by_category["matmul"] == 5_767_168 + 262_144  # Q K^T, P V as matmul
    assert not resolve(spec).load(batch=2, seq=16, device="meta").notes


def test_eager_experts_on_meta_is_one_line_and_count_on_cpu():
    from harness.counting.api import CountError

    src = resolve(f"hf:{HF / 'mixtral.json'}", ["experts_implementation=eager"])
    meta = src.load(batch=2, seq=16, device="meta")
    with pytest.raises(CountError, match="aten.nonzero.default failed on the meta device.*--device cpu"):
        count_flops(meta.module, meta.inputs)
    cpu = src.load(batch=2, seq=16, device="cpu")
    assert count_flops(cpu.module, cpu.inputs).by_category["matmul"] == 7_372_800  # as the grouped kernel
