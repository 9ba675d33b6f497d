"""`hf:PATH/config.json`: a Hugging Face transformers model from its config, random weights, no network.

The class built is the first of the config's `architectures`. Inputs follow the model's
`main_input_name`: token ids (`input_ids`, in [0, vocab_size)), images (`pixel_values`,
[B, channels, image_size, image_size]), audio features (`input_features`, [B, mel bins, frames])
or raw audio (`input_values`); an encoder-decoder also gets `decoder_input_ids`. A training
step (`train=True`) passes `labels` where the class computes its own loss: the token ids
themselves for language-model heads (the model shifts them), class 0 for classifiers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from harness.sources import (
    HF_DEFAULT_SEQ,
    AttentionHint,
    Loaded,
    Source,
    SourceError,
    accepts,
    config_json,
    generator,
)

_LM_HEADS = ("CausalLM", "MaskedLM", "ConditionalGeneration", "Seq2SeqLM", "LMHeadModel", "ForPreTraining")
_CAUSAL_HEADS = ("CausalLM", "LMHeadModel")
_CLASSIFIERS = ("SequenceClassification", "ImageClassification", "AudioClassification")
_IMPLEMENTATIONS = ("attn_implementation", "experts_implementation")  # --set keys passed to the build
EAGER_NOTE = ("attention: the eager implementation runs plain matmuls, counted as matmul over the full square "
              "(no causal convention); --set attn_implementation=sdpa counts it as attention where the model allows")
_AUDIO_SAMPLES = 16000  # input_values models (wav2vec2 and kin): one second at 16 kHz unless --seq


def parse_override(text: str) -> tuple[str, Any]:
    """'num_hidden_layers=2' -> ('num_hidden_layers', 2); values are JSON, else plain strings."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise SourceError(f"--set takes key=value (e.g. num_hidden_layers=2), not {text!r}")
    raw = raw.strip()
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key, value


def resolve_hf(spec: str, overrides: Sequence[str]) -> Source:
    try:
        import transformers
    except ImportError:
        raise SourceError("hf: sources need transformers: pip install 'compute-harness[hf]'") from None
    path = spec[len("hf:") :]
    data = config_json(path)
    changes = dict(parse_override(o) for o in overrides)
    archs = data.get("architectures") or []
    if not archs or not isinstance(archs, list):
        raise SourceError(f"{path} names no architectures; add e.g. \"architectures\": [\"LlamaForCausalLM\"]")
    arch = str(archs[0])
    cls = getattr(transformers, arch, None)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise SourceError(f"transformers {transformers.__version__} has no model class {arch!r} (from {path})")
    implementations = {k: str(changes.pop(k)) for k in _IMPLEMENTATIONS if k in changes}
    config = _config(data, changes, path)
    changes |= implementations  # named in the source string too
    resolved = str(Path(path).expanduser().resolve())
    source = "hf:" + resolved + "".join(f" {k}={json.dumps(v)}" for k, v in sorted(changes.items()))

    def build(batch: int | None, seq: int | None, device: str, train: bool) -> Loaded:
        b = 1 if batch is None else batch
        names, inputs = _inputs(cls, config, b, seq, device, train)
        with torch.device(device):
            try:
                net = cls._from_config(config, dtype=torch.float32, **implementations)
            except Exception as e:  # noqa: BLE001 - model code: one line, never a traceback
                raise SourceError(f"building {arch} from {path} failed: {type(e).__name__}: {str(e).splitlines()[0][:300]}") from None
        _call_by_name(net, names)
        notes = (EAGER_NOTE,) if getattr(net.config, "_attn_implementation", None) == "eager" else ()
        return Loaded(source, arch, None, net, inputs, hint(config, cls), notes)

    return Source(spec, source, arch, "hf", None, build)


def _config(data: dict[str, Any], changes: dict[str, Any], path: str) -> Any:
    from transformers import AutoConfig

    model_type = data.get("model_type")
    if not model_type:
        raise SourceError(f"{path} has no model_type; add e.g. \"model_type\": \"llama\"")
    fields = {k: v for k, v in data.items() if k != "model_type"}
    try:
        config = AutoConfig.for_model(model_type, **fields)
    except (ValueError, KeyError, TypeError) as e:
        raise SourceError(f"{path}: {str(e).splitlines()[0][:300]}") from None
    for key, value in changes.items():
        if not hasattr(config, key):
            raise SourceError(f"--set {key}: {type(config).__name__} has no field {key!r}")
        try:
            setattr(config, key, value)
        except Exception as e:  # noqa: BLE001 - transformers validates fields its own way
            cause = getattr(e, "__cause__", None) or e
            raise SourceError(f"--set {key}={json.dumps(value)}: {(str(cause).splitlines() or [''])[0][:200]}") from None
    return config


def _vocab(config: Any) -> int:
    text = getattr(config, "text_config", None)
    vocab = getattr(config, "vocab_size", None) or getattr(text, "vocab_size", None)
    if not vocab:
        raise SourceError(f"{type(config).__name__} has no vocab_size to draw token ids from")
    return int(vocab)


def _max_seq(config: Any) -> int | None:
    for key in ("max_position_embeddings", "n_positions", "max_target_positions"):
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def _ids(config: Any, batch: int, seq: int, device: str) -> torch.Tensor:
    return torch.randint(0, _vocab(config), (batch, seq), generator=generator()).to(device)


def _token_seq(config: Any, seq: int | None) -> int:
    limit = _max_seq(config)
    if seq is None:
        return min(HF_DEFAULT_SEQ, limit or HF_DEFAULT_SEQ)
    if limit is not None and seq > limit and not getattr(config, "rope_scaling", None) and _uses_learned_positions(config):
        raise SourceError(f"{type(config).__name__} takes a sequence length from 1 to {limit}, not {seq}")
    return seq


def _uses_learned_positions(config: Any) -> bool:
    """Learned position tables (GPT-2, BERT, OPT) cannot index past their size; rotary ones can."""
    return getattr(config, "rope_theta", None) is None and "rope_parameters" not in config.to_dict()


def _inputs(cls: type, config: Any, batch: int, seq: int | None, device: str, train: bool) -> tuple[list[str], tuple]:
    """Argument names and values of one call, in the order the patched forward takes them."""
    main = getattr(cls, "main_input_name", "input_ids")
    names: list[str] = []
    values: list[torch.Tensor] = []
    ids = None
    if main == "input_ids":
        ids = _ids(config, batch, _token_seq(config, seq), device)
        names, values = [main], [ids]
    elif main == "pixel_values":
        if seq is not None:
            raise SourceError(f"{cls.__name__} takes images, not a sequence length; drop --seq")
        vision = getattr(config, "vision_config", config)
        side, channels = int(getattr(vision, "image_size", 224)), int(getattr(vision, "num_channels", 3))
        names, values = [main], [torch.randn((batch, channels, side, side), generator=generator()).to(device)]
    elif main == "input_features":
        frames = 2 * int(getattr(config, "max_source_positions", 1500))  # the encoder's conv stride is 2
        mels = int(getattr(config, "num_mel_bins", 80))
        names, values = [main], [torch.randn((batch, mels, frames), generator=generator()).to(device)]
    elif main == "input_values":
        samples = _AUDIO_SAMPLES if seq is None else seq
        names, values = [main], [torch.randn((batch, samples), generator=generator()).to(device)]
    else:
        raise SourceError(f"{cls.__name__} takes {main!r}, an input this harness cannot make; wrap it in FILE.py:FUNCTION")
    if getattr(config, "is_encoder_decoder", False):
        dec_seq = values[0].shape[1] if main == "input_ids" else _token_seq(config, seq)
        ids = _ids(config, batch, dec_seq, device)
        names.append("decoder_input_ids")
        values.append(ids)
    if train and accepts(cls.forward, "labels"):
        if any(h in cls.__name__ for h in _CLASSIFIERS):
            names.append("labels")
            values.append(torch.zeros(batch, dtype=torch.long).to(device))
        elif any(h in cls.__name__ for h in _LM_HEADS) and ids is not None:
            names.append("labels")
            values.append(ids)
    return names, tuple(values)


def _call_by_name(net: nn.Module, names: list[str]) -> None:
    """Make `net(*inputs)` pass the inputs by name, so `module(*inputs)` is one step.

    The model's own cache setting is kept: without a cache, transformers checks the position ids
    for packed sequences by reading their values, which the meta device does not hold.
    """
    inner = net.forward

    def forward(*args: Any) -> Any:
        return inner(**dict(zip(names, args)))

    net.forward = forward  # type: ignore[method-assign]


def hint(config: Any, cls: type) -> AttentionHint:
    """The attention a config declares: causal for decoder-only LMs, its sliding window if any.

    Configs that mix layer kinds (`layer_types`, e.g. Gemma 2's alternating local and global
    layers) declare no single window, so nothing is claimed for them.
    """
    causal = any(h in cls.__name__ for h in _CAUSAL_HEADS) and not getattr(config, "is_encoder_decoder", False)
    layer_types = set(getattr(config, "layer_types", None) or ())
    if len(layer_types) > 1:
        return AttentionHint()
    window = getattr(config, "sliding_window", None)
    if getattr(config, "use_sliding_window", True) is False:
        window = None
    return AttentionHint(causal=causal or None, window=int(window) if isinstance(window, int) and window > 0 else None)
