"""The step runner: one configuration of one model, counted, timed and set against the peak.

Utilisation = counted model FLOP per step / (seconds per step x peak FLOP/s of the precision),
reported against the datasheet peak and against the ceiling measured on this device. With
activation checkpointing, HFU uses the hardware FLOP (recomputed forward included) instead.
A utilisation above 1 is an error to explain, never a result: the row says so in `error`
(:func:`check_utilisation`, the one place that rule lives).

What is measured is a :class:`Workload`: anything that builds a module and its inputs on a
device: a zoo entry, a `harness.sources` spec (FILE.py:FUNC, hf:config.json), or a module and
inputs the caller already has.
"""

from __future__ import annotations

import copy
import gc
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Literal, Protocol

import torch
import torch.nn as nn
from torch.utils.checkpoint import checkpoint

from harness.counting.api import count_flops
from harness.counting.engine import regions_reentered
from harness.counting.outputs import first_tensor
from harness.measure import precision as P
from harness.measure.devices import empty_cache, is_oom
from harness.measure.timing import Mark, Sampler, Samples, measure_step

OPTIMIZER = "adamw"  # the optimizer every training step runs (and its FLOP are counted for)


@dataclass(frozen=True)
class BenchConfig:
    model: str
    batch: int
    seq: int | None = None
    phase: Literal["train", "inference"] = "train"
    precision: str = "fp32"
    compile: bool = False
    checkpointing: bool = False
    device: str = "cpu"
    warmup: int = 3
    steps: int = 10

    def key_fields(self) -> dict[str, Any]:
        """The fields that identify a measurement (warm-up and step counts do not)."""
        return {k: getattr(self, k) for k in ("model", "batch", "seq", "phase", "precision", "compile", "checkpointing")}


@dataclass(frozen=True)
class StepFlop:
    model: int  # model FLOP per step (no recomputation)
    hardware: int  # executed FLOP per step (activation recomputation included)
    forward: int
    backward: int
    optimizer: int


@dataclass(frozen=True)
class BenchResult:
    config: BenchConfig
    status: Literal["ok", "oom", "error"]
    flop: StepFlop | None = None
    samples: Samples | None = None
    telemetry: dict[str, float] = field(default_factory=dict)
    peak_flop_per_s: float | None = None
    ceiling_flop_per_s: float | None = None
    error: str | None = None
    devices: int = 1  # a data-parallel group: flop counts the group's step, the peaks are per device

    @property
    def seconds(self) -> float | None:
        return self.samples.median if self.samples else None

    @property
    def flop_per_s(self) -> float | None:
        return self.flop.model / self.seconds if self.flop and self.seconds else None

    def _of_devices(self, per_device: float | None) -> float | None:
        return per_device * self.devices if per_device else None

    @property
    def utilisation(self) -> float | None:
        """MFU: model FLOP/s / (devices x datasheet peak of one device in the precision used)."""
        return _ratio(self.flop_per_s, self._of_devices(self.peak_flop_per_s))

    @property
    def utilisation_ceiling(self) -> float | None:
        """MFU against (devices x the matmul ceiling measured on one device in this precision)."""
        return _ratio(self.flop_per_s, self._of_devices(self.ceiling_flop_per_s))

    @property
    def hfu(self) -> float | None:
        """Hardware FLOP utilisation: recomputed forward FLOP included; None without recompute."""
        if not self.config.checkpointing or not self.flop or not self.seconds:
            return None
        return _ratio(self.flop.hardware / self.seconds, self._of_devices(self.peak_flop_per_s or self.ceiling_flop_per_s))

    @property
    def backward_forward_time(self) -> float | None:
        if not self.samples:
            return None
        f, b = self.samples.phase_median("forward"), self.samples.phase_median("backward")
        return b / f if f and b else None

    @property
    def backward_forward_flop(self) -> float | None:
        return self.flop.backward / self.flop.forward if self.flop and self.flop.forward and self.flop.backward else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


class Workload(Protocol):
    """What a step runs: `make(batch, seq, device, train)` builds the module and its inputs there.

    :class:`ZooWorkload` (a zoo entry), :class:`SourceWorkload` (any `harness.sources` spec) and
    :class:`ModuleWorkload` (a module the caller already has) are the three kinds.
    """

    name: str
    family: str | None
    source: str

    def make(self, batch: int | None, seq: int | None, device: str | torch.device,
             train: bool) -> tuple[nn.Module, tuple]: ...


@dataclass(frozen=True)
class ZooWorkload:
    """A zoo entry (`models.Entry`): its builder and its inputs at any batch and sequence."""

    entry: Any

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def family(self) -> str | None:
        return self.entry.family

    @property
    def source(self) -> str:
        return f"zoo:{self.entry.name}"

    def make(self, batch: int | None, seq: int | None, device: str | torch.device,
             train: bool) -> tuple[nn.Module, tuple]:
        inputs = self.entry.inputs(batch, seq, device)  # checks batch and seq before building
        return self.entry.build(device), inputs


@dataclass(frozen=True)
class SourceWorkload:
    """A resolved `harness.sources.Source` (FILE.py:FUNC, pkg.mod:FUNC, hf:config.json)."""

    spec: Any  # harness.sources.Source

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def family(self) -> str | None:
        return self.spec.family

    @property
    def source(self) -> str:
        return f"zoo:{self.spec.name}" if self.spec.kind == "zoo" else self.spec.source

    def make(self, batch: int | None, seq: int | None, device: str | torch.device,
             train: bool) -> tuple[nn.Module, tuple]:
        loaded = self.spec.load(batch, seq, str(device), train=train)
        return loaded.module, loaded.inputs


@dataclass(frozen=True)
class ModuleWorkload:
    """A module and inputs the caller already has (fixed shapes: `batch` and `seq` are not used).

    On meta it is a meta-device copy, for counting; elsewhere the module itself, moved there.
    `source` is what a stored row names (default: `module:ClassName`).
    """

    module: nn.Module
    example: tuple
    name: str
    family: str | None = None
    source: str = ""

    def make(self, batch: int | None, seq: int | None, device: str | torch.device,
             train: bool) -> tuple[nn.Module, tuple]:
        meta = torch.device(device).type == "meta"
        net = copy.deepcopy(self.module).to("meta") if meta else self.module.to(device)
        return net, tuple(x.to(device) if isinstance(x, torch.Tensor) else x for x in self.example)


def as_workload(what: Any) -> Workload:
    """A workload as is; a zoo entry (`models.Entry`) or zoo name wrapped as one."""
    if isinstance(what, str):
        import models

        return ZooWorkload(models.get(what))
    return what if hasattr(what, "make") else ZooWorkload(what)


def batch_of(inputs: tuple) -> int:
    """The leading dimension of the first tensor input (1 when no input is a tensor)."""
    first = next((x for x in inputs if isinstance(x, torch.Tensor) and x.dim() > 0), None)
    return int(first.shape[0]) if first is not None else 1


def apply_checkpointing(model: nn.Module) -> int:
    """Recompute every repeated block (each member of an nn.ModuleList) in the backward.

    Returns the number of blocks wrapped; a model with no ModuleList cannot be checkpointed.
    """
    blocks = [m for lst in model.modules() if isinstance(lst, nn.ModuleList) for m in lst]
    if not blocks:
        raise ValueError("this model has no repeated blocks (nn.ModuleList) to checkpoint; drop --checkpointing")
    for block in blocks:
        block.forward = partial(checkpoint, _recounted(block.forward), use_reentrant=False)
    return len(blocks)


def _recounted(forward: Callable[..., Any]) -> Callable[..., Any]:
    """The block's forward, with the counter's region mode back on when autograd recomputes it."""

    def run(*args: Any, **kwargs: Any) -> Any:
        with regions_reentered():
            return forward(*args, **kwargs)

    return run


def count_step(entry: Any, cfg: BenchConfig) -> StepFlop:
    """Model and hardware FLOP of one step, counted on the meta device. `entry`: a workload or zoo entry."""
    work = as_workload(entry)
    train = cfg.phase == "train"
    net, inputs = work.make(cfg.batch, cfg.seq, "meta", train)
    if not train:
        r = count_flops(net.eval(), inputs)  # as it runs: eval mode, no dropout
        return StepFlop(r.total, r.total, r.total, 0, 0)
    r = count_flops(net, inputs, phase="train", optimizer=OPTIMIZER)
    hardware = r.total
    if cfg.checkpointing:
        net, inputs = work.make(cfg.batch, cfg.seq, "meta", train)
        apply_checkpointing(net)
        hardware = count_flops(net, inputs, phase="train", optimizer=OPTIMIZER).total
    return StepFlop(r.total, hardware, r.by_phase["forward"], r.by_phase["backward"], r.by_phase["optimizer"])


def make_step(model: nn.Module, inputs: tuple, cfg: BenchConfig, device: torch.device) -> Callable[[Mark], None]:
    precision = P.get(cfg.precision, device)
    if cfg.phase == "inference":
        model.eval()

        def infer(mark: Mark) -> None:
            mark("start")
            with torch.inference_mode(), P.active(precision, device):
                model(*inputs)
            mark("forward")

        return infer

    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    scaler = torch.amp.GradScaler(device.type) if cfg.precision == "fp16" else None

    def train(mark: Mark) -> None:
        mark("start")
        with P.active(precision, device):
            loss = first_tensor(model(*inputs)).float().sum()
        mark("forward")
        if scaler is not None:
            scaler.scale(loss).backward()
        else:
            loss.backward()
        mark("backward")
        if scaler is not None:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()
        opt.zero_grad(set_to_none=True)
        mark("optimizer")

    return train


def check_utilisation(result: BenchResult) -> BenchResult:
    """A utilisation above 1 against either peak turns the row into an error saying so."""
    for name, u in (("datasheet", result.utilisation), ("measured ceiling", result.utilisation_ceiling)):
        if u is not None and u > 1:
            return replace(result, status="error", error=f"utilisation {u:.2f} > 1 against the {name} peak: "
                           "the FLOP count or the peak is wrong for this run")
    return result


def error_line(e: BaseException) -> str:
    """An exception as one line for a row's `error` column."""
    return f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0][:300]}"


def run(
    cfg: BenchConfig,
    peak_flop_per_s: float | None,
    ceiling_flop_per_s: float | None,
    sampler_factory: Callable[[], Sampler | None] | None = None,
    flop: StepFlop | None = None,
    workload: Workload | None = None,
) -> BenchResult:
    """Measure one configuration; an out-of-memory or a failure becomes a row, not a crash.

    `workload`: what to build (default: the zoo entry named `cfg.model`).
    """
    work = as_workload(workload if workload is not None else cfg.model)
    device = torch.device(cfg.device)
    base = BenchResult(cfg, "ok", peak_flop_per_s=peak_flop_per_s, ceiling_flop_per_s=ceiling_flop_per_s)
    model = inputs = step = None
    try:
        flop = flop or count_step(work, cfg)
        torch.manual_seed(0)
        model, inputs = work.make(cfg.batch, cfg.seq, device, cfg.phase == "train")
        if cfg.checkpointing:
            apply_checkpointing(model)
        if cfg.compile:
            model = torch.compile(model)
        step = make_step(model, inputs, cfg, device)
        sampler = sampler_factory() if sampler_factory else None
        samples, telemetry = measure_step(step, device, cfg.warmup, cfg.steps, sampler)
        return check_utilisation(replace(base, flop=flop, samples=samples, telemetry=telemetry))
    except Exception as e:  # noqa: BLE001 - every configuration ends as a row
        status: Literal["oom", "error"] = "oom" if is_oom(e) else "error"
        return replace(base, status=status, flop=flop, error=error_line(e))
    finally:
        del model, inputs, step
        gc.collect()
        empty_cache(device)
