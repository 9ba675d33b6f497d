"""`harness bench`: configurations in, stored rows out.

For each configuration: the FLOP are counted on the meta device, the step is timed on the
device, the utilisation is set against the datasheet peak of the precision (from the peak
table) and against the matmul ceiling measured here in the same precision. Batch sweeps double
the batch until the device runs out of memory, record that row, and stop. Rows already
measured (same configuration, same device) are skipped when a sweep is run again.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import torch

from harness.measure import precision as P
from harness.measure.ceiling import matmul_ceiling
from harness.measure.runner import BenchConfig, BenchResult, run


class DeviceError(ValueError):
    """A device name this machine cannot honour."""


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError("device 'cuda' is not available on this machine; use --device cpu or auto")
        return torch.device("cuda")
    raise DeviceError(f"unknown device {name!r}; choose one of: auto, cpu, cuda")


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return cpu_name()


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo, else what platform says."""
    import platform

    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


def datasheet_peak(device: torch.device, precision: P.Precision) -> tuple[float | None, str]:
    """The dense peak of this device in this precision, and a word on where it came from."""
    if device.type == "cpu":
        return None, "CPU: no datasheet peak; the measured ceiling is the reference"
    from harness.hardware.table import PrecisionUnsupported, UnknownHardware, resolve

    name = device_name(device)
    try:
        acc = resolve(name)
    except UnknownHardware as e:
        warnings.warn(f"no datasheet peak: {e}", stacklevel=2)
        return None, f"{name}: not in the peak table"
    try:
        return acc.peak(precision.peak_key), f"{acc.name} {precision.peak_key} dense, per chip ({acc.source})"
    except PrecisionUnsupported as e:
        return None, str(e)


@dataclass
class Ceilings:
    """Matmul ceilings measured once per precision per run."""

    device: torch.device
    found: dict[str, float]

    def get(self, precision: P.Precision) -> float:
        if precision.name not in self.found:
            self.found[precision.name] = matmul_ceiling(self.device, precision).per_s
        return self.found[precision.name]


def sweep(base: BenchConfig, max_batch: int) -> Iterator[BenchConfig]:
    """Batch 1, 2, 4, ... up to max_batch; the caller stops at the first out-of-memory."""
    batch = 1
    while batch <= max_batch:
        yield replace(base, batch=batch)
        batch *= 2


def to_row(result: BenchResult, provenance: dict[str, Any], family: str | None) -> dict[str, Any]:
    """A stored row: the configuration, the counts, the timings, the utilisation, provenance."""
    cfg, flop, s = result.config, result.flop, result.samples
    row: dict[str, Any] = {
        "model": cfg.model,
        "family": family,
        "batch": cfg.batch,
        "seq": cfg.seq,
        "phase": cfg.phase,
        "precision": cfg.precision,
        "compile": int(cfg.compile),
        "checkpointing": int(cfg.checkpointing),
        "world_size": 1,
        "strategy": "single",
        "status": result.status,
        "error": result.error,
        "peak_flop_per_s": result.peak_flop_per_s,
        "ceiling_flop_per_s": result.ceiling_flop_per_s,
        **provenance,
    }
    if flop is not None:
        row |= {
            "flop_per_step": flop.model,
            "hardware_flop_per_step": flop.hardware,
            "flop_forward": flop.forward,
            "flop_backward": flop.backward,
            "flop_optimizer": flop.optimizer,
        }
    if s is not None:
        row |= {
            "seconds_median": s.median,
            "seconds_iqr": s.iqr,
            "seconds_cv": s.cv,
            "seconds_samples": json.dumps(list(s.seconds)),
            "seconds_forward": s.phase_median("forward"),
            "seconds_backward": s.phase_median("backward"),
            "seconds_optimizer": s.phase_median("optimizer"),
            "flop_per_s": result.flop_per_s,
            "utilisation": result.utilisation,
            "utilisation_ceiling": result.utilisation_ceiling,
            "hfu": result.hfu,
            "backward_forward_time": result.backward_forward_time,
            "backward_forward_flop": result.backward_forward_flop,
        }
    return row | {k: v for k, v in result.telemetry.items()}


def measure(
    configs: Iterable[BenchConfig],
    *,
    store: Any = None,
    resume: bool = True,
    stop_on_oom: bool = False,
    on_result: Callable[[BenchResult], None] | None = None,
    on_start: Callable[[BenchConfig], None] | None = None,
) -> list[BenchResult]:
    """Measure every configuration; write each finished row at once (an interrupt loses none)."""
    import models
    from harness.hardware.telemetry import Sampler
    from harness.store import provenance, run_key_for

    results: list[BenchResult] = []
    ceilings: dict[str, Ceilings] = {}
    for cfg in configs:
        device = torch.device(cfg.device)
        prov = provenance(device)
        key = run_key_for({**cfg.key_fields(), "world_size": 1, "strategy": "single", **prov})
        if store is not None and resume and store.has_ok(key):
            continue
        if on_start:
            on_start(cfg)
        precision = P.get(cfg.precision, device)
        peak, _ = datasheet_peak(device, precision)
        ceiling = ceilings.setdefault(cfg.device, Ceilings(device, {})).get(precision)
        sampler = (lambda: Sampler(device.index or 0)) if device.type == "cuda" else None
        result = run(cfg, peak, ceiling, sampler)
        results.append(result)
        if store is not None:
            entry = models.get(cfg.model)
            # measuring again (resume off) replaces the configuration's earlier ok row
            store.add(to_row(result, prov, entry.family) | {"run_key": key}, replace=not resume)
        if on_result:
            on_result(result)
        if stop_on_oom and result.status == "oom":
            break
    return results
