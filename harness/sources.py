"""Model sources: a spec string -> a built model and example inputs.

Four kinds of spec, the same for `count`, `bench` and the Python API:

* a zoo name (`gpt2-small`): the entry of `models.REGISTRY`;
* `FILE.py:FUNCTION` or `package.module:FUNCTION`: the user's own function, called as
  `FUNCTION(batch=B, seq=S, device=D)` (S is None when not given, D a device string such as
  "meta", "cpu" or "cuda") and returning `(module, inputs)`, inputs a tuple passed as `module(*inputs)`;
* `hf:PATH/config.json` (or the folder that holds it): the transformers class the config's
  `architectures` names, with random weights, built without the network; `overrides`
  (`key=value`, the CLI's `--set`) change config fields first.

A source that cannot be loaded raises `SourceError` with one line saying why and what to do.
`Source.source` is a stable string naming what was loaded (stored rows carry it).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn as nn

import models
from harness.counting.attention import AttentionHint
from models import ModelInputError

Kind = Literal["zoo", "python", "hf"]
HF_DEFAULT_SEQ = 128  # an hf: decoder's sequence length unless --seq (capped by the config's maximum)


class SourceError(ModelInputError):
    """A model source that cannot be loaded; the message is one line naming the fix."""


@dataclass(frozen=True)
class Loaded:
    """A built model and the inputs of one call, `module(*inputs)`."""

    source: str
    name: str
    family: str | None
    module: nn.Module
    inputs: tuple
    attention: AttentionHint = field(default_factory=AttentionHint)
    notes: tuple[str, ...] = ()  # what a count of this model must say (an attention it cannot price as such)


@dataclass(frozen=True)
class Source:
    """A resolved spec: what it names, and how to build it at a batch, sequence and device.

    `load(..., train=True)` gives inputs for a training step: an hf: model with its own loss
    then gets labels (the inputs themselves) and its output's first tensor is that loss.
    """

    spec: str
    source: str
    name: str
    kind: Kind
    family: str | None
    builder: Callable[[int | None, int | None, str, bool], Loaded] = field(repr=False, compare=False)

    def load(self, batch: int | None = None, seq: int | None = None, device: str = "cpu", train: bool = False) -> Loaded:
        if batch is not None and batch < 1:
            raise SourceError(f"batch must be at least 1, not {batch}")
        if seq is not None and seq < 1:
            raise SourceError(f"sequence length must be at least 1, not {seq}")
        return self.builder(batch, seq, str(device), train)


def resolve(spec: str, overrides: Sequence[str] = ()) -> Source:
    """The source a spec names; nothing is built yet. Raises SourceError."""
    spec = spec.strip()
    if not spec:
        raise SourceError("empty model source; give a zoo name, FILE.py:FUNCTION, package.module:FUNCTION or hf:config.json")
    if spec.startswith("hf:"):
        from harness import sources_hf

        return sources_hf.resolve_hf(spec, overrides)
    if overrides:
        raise SourceError("--set changes fields of an hf: config; this source is not one, drop --set")
    if ":" in spec:
        return _resolve_python(spec)
    return _resolve_zoo(spec)


def load(
    spec: str,
    batch: int | None = None,
    seq: int | None = None,
    device: str = "cpu",
    train: bool = False,
    overrides: Sequence[str] = (),
) -> Loaded:
    """`resolve(spec, overrides).load(batch, seq, device, train)`."""
    return resolve(spec, overrides).load(batch, seq, device, train)


# ---------------------------------------------------------------- zoo


def _resolve_zoo(name: str) -> Source:
    try:
        entry = models.get(name)
    except ModelInputError as e:
        raise SourceError(f"{e} (or a source: FILE.py:FUNCTION, package.module:FUNCTION, hf:config.json)") from None

    def build(batch: int | None, seq: int | None, device: str, train: bool) -> Loaded:
        inputs = entry.inputs(batch, seq, device)  # checks batch and seq before building
        return Loaded(entry.name, entry.name, entry.family, entry.build(device), inputs, _zoo_hint(entry))

    return Source(name, entry.name, entry.name, "zoo", entry.family, build)


def _zoo_hint(entry: models.Entry) -> AttentionHint:
    causal = getattr(entry.config, "causal", None)
    return AttentionHint(causal=causal if isinstance(causal, bool) else None)


# ---------------------------------------------------------------- FILE.py:FUNCTION, package.module:FUNCTION


def _resolve_python(spec: str) -> Source:
    where, _, fn_name = spec.rpartition(":")
    if not where or not fn_name.isidentifier():
        raise SourceError(f"model source {spec!r} is not FILE.py:FUNCTION or package.module:FUNCTION")
    if where.endswith(".py") or os.sep in where or "/" in where:
        path = Path(where).expanduser().resolve()
        if path.is_dir():
            raise SourceError(f"{where!r} in model source {spec!r} is a folder: name the .py file, FILE.py:FUNCTION")
        if not path.is_file():
            raise SourceError(f"no such file {where!r} in model source {spec!r}")
        module = _import_file(path, spec)
        source = f"{path}:{fn_name}"
    else:
        module = _import_module(where, spec)
        source = f"{where}:{fn_name}"
    fn = getattr(module, fn_name, None)
    if not callable(fn):
        raise SourceError(f"{where} has no function {fn_name!r}; define {fn_name}(batch, seq, device) -> (module, inputs)")
    name = f"{Path(where).name if where.endswith('.py') else where}:{fn_name}"

    def build(batch: int | None, seq: int | None, device: str, train: bool) -> Loaded:
        try:
            made = fn(batch=1 if batch is None else batch, seq=seq, device=device)
        except (Exception, SystemExit) as e:  # noqa: BLE001 - the user's code: one line, never a traceback
            raise SourceError(f"{name}(batch=..., seq=..., device={device!r}) raised {_one_line(e)}") from None
        net, inputs = _check_returned(made, name)
        return Loaded(source, name, None, net, inputs)

    return Source(spec, source, name, "python", None, build)


def _import_file(path: Path, spec: str) -> Any:
    mod_name = f"harness_source_{abs(hash(str(path)))}"
    loader_spec = importlib.util.spec_from_file_location(mod_name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise SourceError(f"cannot import {str(path)!r} as Python in model source {spec!r}")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[mod_name] = module
    try:
        loader_spec.loader.exec_module(module)
    except (Exception, SystemExit) as e:  # noqa: BLE001 - a sys.exit() at import is a failure too
        del sys.modules[mod_name]
        raise SourceError(f"importing {path.name} failed: {_one_line(e)}") from None
    return module


def _import_module(name: str, spec: str) -> Any:
    added = os.getcwd() not in sys.path
    if added:
        sys.path.insert(0, os.getcwd())  # as `python -m` would: a package in the current folder imports
    try:
        return importlib.import_module(name)
    except (Exception, SystemExit) as e:  # noqa: BLE001
        raise SourceError(f"cannot import {name!r} for model source {spec!r}: {_one_line(e)}") from None
    finally:
        if added:
            sys.path.remove(os.getcwd())


def _check_returned(made: Any, name: str) -> tuple[nn.Module, tuple]:
    if not (isinstance(made, tuple) and len(made) == 2):
        raise SourceError(f"{name} must return (module, inputs), not {type(made).__name__}")
    net, inputs = made
    if not isinstance(net, nn.Module):
        raise SourceError(f"{name} must return (module, inputs) with an nn.Module first, not {type(net).__name__}")
    if isinstance(inputs, list):
        inputs = tuple(inputs)
    if not isinstance(inputs, tuple):
        raise SourceError(f"{name} must return inputs as a tuple (module(*inputs)), not {type(inputs).__name__}")
    return net, inputs


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:300]}" if text else type(e).__name__


def accepts(fn: Callable[..., Any], name: str) -> bool:
    """Whether `fn` takes a keyword argument `name` (directly or through **kwargs)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params


def config_json(path: str) -> dict[str, Any]:
    """The JSON object in `path` (a config.json or the folder holding one). Raises SourceError."""
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / "config.json"
    if not p.is_file():
        raise SourceError(f"no config file at {path!r}; give hf:PATH/config.json")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SourceError(f"{p} is not a JSON config: {_one_line(e)}") from None
    if not isinstance(data, dict):
        raise SourceError(f"{p} holds JSON but not an object of config fields")
    return data


def generator() -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(0)
    return g
