"""Configurations in, rows out: what `harness bench` and `harness.bench` measure.

For each configuration: the FLOP are counted on the meta device, the step is timed on the
device, the utilisation is set against the datasheet peak of the precision (from the peak
table) and against the matmul ceiling measured here in the same precision. Batch sweeps double
the batch until the device runs out of memory, record that row, and stop.

:func:`measure` yields each finished row (the stored schema, `run_key` and `utc` included); it
never writes. The caller stores them (the CLI does, one by one, so an interrupt loses none), and
tells it which run keys to skip (the ones a database already holds).
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
from harness.measure.devices import DeviceError, device_name, resolve_device  # noqa: F401 - the device rules
from harness.measure.runner import BenchConfig, BenchResult, Workload, as_workload, run


def datasheet_peak(device: torch.device, precision: P.Precision) -> tuple[float | None, str]:
    """The dense peak of this device in this precision, and a word on where it came from."""
    if device.type == "cpu":
        return None, "CPU: no datasheet peak; the measured ceiling is the reference"
    from harness.hardware.devices import device_accelerator
    from harness.hardware.table import PrecisionUnsupported, UnknownHardware

    name = device_name(device)
    try:
        acc = device_accelerator(device.type, name)
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


def to_row(result: BenchResult, provenance: dict[str, Any], family: str | None,
           source: str | None = None, strategy: str = "single") -> dict[str, Any]:
    """A stored row: the configuration, the counts, the timings, the utilisation, provenance, run_key.

    The one row builder, for single-process and distributed runs alike (`strategy`, and
    `result.devices` as world_size); peaks and ceilings are stored per device.
    """
    from harness.store import run_key_for

    cfg, flop, s = result.config, result.flop, result.samples
    row: dict[str, Any] = {
        "model": cfg.model,
        "family": family,
        "source": source or f"zoo:{cfg.model}",
        "batch": cfg.batch,
        "seq": cfg.seq,
        "phase": cfg.phase,
        "precision": cfg.precision,
        "compile": int(cfg.compile),
        "checkpointing": int(cfg.checkpointing),
        "world_size": result.devices,
        "strategy": strategy,
        "status": result.status,
        "error": result.error,
        "peak_flop_per_s": result.peak_flop_per_s,
        "ceiling_flop_per_s": result.ceiling_flop_per_s,
        "steps": cfg.steps,
        "warmup": cfg.warmup,
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
    row |= dict(result.telemetry)
    return row | {"run_key": run_key_for(row)}


def run_key_of(cfg: BenchConfig, provenance: dict[str, Any], source: str | None = None) -> str:
    """The run_key a single-process row of `cfg` measured with this provenance gets."""
    from harness.store import run_key_for

    return run_key_for({**cfg.key_fields(), "world_size": 1, "strategy": "single", "source": source, **provenance})


def device_provenance(device: torch.device) -> dict[str, Any]:
    """The provenance columns of a measurement made now on `device` (its name as the peak table reads it)."""
    from harness.store import provenance

    return provenance(device, name=device_name(device))


def measure(
    configs: Iterable[BenchConfig],
    *,
    skip: Callable[[str], bool] | None = None,
    stop_on_oom: bool = False,
    workload: Workload | None = None,
    on_start: Callable[[BenchConfig], None] | None = None,
    on_skip: Callable[[BenchConfig, str], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Measure every configuration and yield its row as soon as it is finished.

    `skip(run_key)`: True leaves that configuration out (`on_skip` hears of it). `workload`: what
    to build (default: the zoo entry each configuration names); its `source` names it in the row.
    `stop_on_oom`: the first out-of-memory row ends the series (a sweep).
    """
    from harness.hardware.telemetry import Sampler

    ceilings: dict[str, Ceilings] = {}
    for cfg in configs:
        device = torch.device(cfg.device)
        prov = device_provenance(device)
        target = as_workload(workload if workload is not None else cfg.model)
        key = run_key_of(cfg, prov, target.source)
        if skip is not None and skip(key):
            if on_skip:
                on_skip(cfg, key)
            continue
        if on_start:
            on_start(cfg)
        precision = P.get(cfg.precision, device)
        peak, _ = datasheet_peak(device, precision)
        ceiling = ceilings.setdefault(cfg.device, Ceilings(device, {})).get(precision)
        sampler = (lambda: Sampler(device.index or 0)) if device.type == "cuda" else None
        result = run(cfg, peak, ceiling, sampler, workload=target)
        row = to_row(result, prov, target.family, target.source)
        assert row["run_key"] == key, "the run key skipped on and the run key stored must agree"
        yield row
        if stop_on_oom and result.status == "oom":
            break
