"""`harness.bench`: measure any PyTorch module from Python, with the rows `harness bench` stores.

    import harness
    rows = harness.bench(model, (input_ids,), precision="bf16", steps=10)
    rows[0]["utilisation"], rows[0]["seconds_median"], rows[0]["flop_per_step"]

`model` is a module with its inputs (fixed shapes), or a source spec the CLI takes: a zoo name,
`FILE.py:FUNCTION`, `package.module:FUNCTION` or `hf:PATH/config.json`, at one or more batches.
Each configuration is counted on the meta device, timed on `device`, set against the datasheet
peak and the measured matmul ceiling; the rows are exactly what `harness bench` would store
(provenance, `run_key`, `utc` and `source` included). `db` stores them too, as repeats where the
configuration is already there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal

import torch
import torch.nn as nn

from harness.measure import precision as P
from harness.measure.bench import measure
from harness.measure.devices import resolve_device
from harness.measure.runner import BenchConfig, ModuleWorkload, SourceWorkload, Workload, batch_of


def bench(
    model: nn.Module | str,
    inputs: tuple | torch.Tensor | None = None,
    *,
    precision: str | Sequence[str] | None = None,
    steps: int = 10,
    warmup: int = 3,
    phase: Literal["train", "inference"] = "train",
    device: str | torch.device | None = None,
    batch: int | Sequence[int] | None = None,
    seq: int | None = None,
    compile: bool = False,
    checkpointing: bool = False,
    name: str | None = None,
    overrides: Sequence[str] = (),
    db: str | None = None,
) -> list[dict[str, Any]]:
    """Measure `model` and return one row per configuration (precision x batch).

    model, inputs: a module and the tuple it is called with (`model(*inputs)`); a training step
    reduces the output's first tensor to a loss (an HF model given `labels` returns its loss
    first). The training steps update the module's weights: pass a copy to keep them. Or a
    source spec (zoo name, FILE.py:FUNC, pkg.mod:FUNC, hf:config.json with `overrides`) and
    `batch` / `seq`. device: default the module's own device, else the first accelerator
    present (`auto`). precision: fp32 | tf32 | bf16 | fp16, or several (default fp32 on a CPU,
    bf16 elsewhere). Raises ValueError (one line) for what cannot be run.
    """
    if steps < 1 or warmup < 0:
        raise ValueError(f"steps must be at least 1 and warmup at least 0, not steps={steps}, warmup={warmup}")
    if checkpointing and phase == "inference":
        raise ValueError("checkpointing recomputes activations in the backward; inference has none")
    work, batches, dev = _workload(model, inputs, batch, seq, device, overrides, name)
    names = [precision] if isinstance(precision, str) else list(precision or [])
    names = names or ["fp32" if dev.type == "cpu" else "bf16"]
    for p in names:
        P.get(p, dev)
    base = BenchConfig(work.name, batches[0], seq, phase, names[0], compile, checkpointing, str(dev), warmup, steps)
    configs = [replace(base, precision=p, batch=b) for p in names for b in batches]
    rows = list(measure(configs, workload=work))
    if db is not None:
        from harness.store import Store

        with Store(db) as store:
            rows = [store.rows(run_id=store.add(row, repeat=True))[0] for row in rows]
    return rows


def _workload(model: nn.Module | str, inputs: Any, batch: int | Sequence[int] | None, seq: int | None,
              device: str | torch.device | None, overrides: Sequence[str],
              name: str | None) -> tuple[Workload, list[int], torch.device]:
    batches = [batch] if isinstance(batch, int) else list(batch or [])
    if isinstance(model, str):
        from harness.sources import resolve

        if inputs is not None:
            raise ValueError("a source spec builds its own inputs: drop `inputs`, or pass a module")
        spec = resolve(model, overrides)
        if not batches:
            batches = [_default_batch(spec)]
        for b in batches:
            spec.load(b, seq, "meta")  # a bad batch or seq fails here, in one line
        dev = resolve_device(str(device) if device is not None else "auto")
        return SourceWorkload(spec), batches, dev
    if not isinstance(model, nn.Module):
        raise ValueError(f"bench measures a torch.nn.Module or a source spec, not {type(model).__name__}")
    if inputs is None:
        raise ValueError("pass the inputs the module is called with: harness.bench(model, (x,))")
    if batches or seq is not None:
        raise ValueError("a module's batch and seq are its inputs' shapes: drop `batch` and `seq`")
    if overrides:
        raise ValueError("overrides change an hf: config; a module is already built: drop `overrides`")
    example = inputs if isinstance(inputs, tuple) else (inputs,)
    if device is None:
        first = next(iter(model.parameters()), None)
        dev = first.device if first is not None else resolve_device("auto")
    else:
        dev = resolve_device(str(device))
    cls = type(model)
    label = name or cls.__name__
    work = ModuleWorkload(model, example, label, None, f"module:{cls.__module__}.{cls.__qualname__}")
    return work, [batch_of(example)], dev


def _default_batch(spec: Any) -> int:
    if spec.kind == "zoo":
        import models

        return models.get(spec.name).default_batch
    return 1
