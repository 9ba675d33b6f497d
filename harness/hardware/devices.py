"""Which peak-table row a torch device is, from its device type and the name its runtime reports.

Pure: it takes the names, it never asks torch. Where each name comes from:

* ``cuda``: ``torch.cuda.get_device_name(i)`` ("NVIDIA H100 80GB HBM3"; on ROCm builds
  "AMD Instinct MI300X");
* ``mps``: torch reports no name; the chip is the host's ``sysctl -n machdep.cpu.brand_string``
  ("Apple M2 Pro"), whose GPU the mps device is;
* ``xpu``: ``torch.xpu.get_device_name(i)`` ("Intel(R) Data Center GPU Max 1550");
* ``xla``: the runtime's device kind ("TPU v4", "TPU v5 lite", "TPU v5", "TPU v6 lite", "TPU7x",
  as JAX's ``device_kind`` spells them);
* ``hpu`` (Intel Gaudi through habana_frameworks): ``torch.hpu.get_device_name()`` ("GAUDI2");
* ``cpu``: any name or none; a CPU not in the table is the generic "cpu" row, which has no peaks.

A name that resolves to a row of another kind or vendor than the device type allows (an "mps"
device named "A100") is refused with `UnknownHardware`, as is a missing name off the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.hardware.table import Accelerator, UnknownHardware, resolve

__all__ = ["DEVICE_TYPES", "DeviceType", "device_accelerator"]


@dataclass(frozen=True)
class DeviceType:
    """What a torch device type can be in the table: row kinds and vendors (None: any vendor)."""

    kinds: frozenset[str]
    vendors: frozenset[str] | None
    example: str  # a name of the kind this device type reports, for error messages


DEVICE_TYPES: dict[str, DeviceType] = {
    "cuda": DeviceType(frozenset({"gpu"}), frozenset({"NVIDIA", "AMD"}), "NVIDIA H100 80GB HBM3"),
    "mps": DeviceType(frozenset({"gpu"}), frozenset({"Apple"}), "Apple M2 Pro"),
    "xpu": DeviceType(frozenset({"gpu"}), frozenset({"Intel"}), "Intel(R) Data Center GPU Max 1550"),
    # torch_xla also drives CUDA/ROCm GPUs; then the device kind is the GPU's own name
    "xla": DeviceType(frozenset({"tpu", "gpu"}), frozenset({"Google", "NVIDIA", "AMD"}), "TPU v5 lite"),
    "hpu": DeviceType(frozenset({"npu"}), frozenset({"Intel"}), "GAUDI2"),
    "cpu": DeviceType(frozenset({"cpu"}), None, "AMD EPYC 7413"),
}


def device_accelerator(
    device_type: str, device_name: str | None, path: str | Path | None = None
) -> Accelerator:
    """The peak-table row of a device: `device_type` as torch spells it ("cuda", "cuda:1", "mps",
    "xpu", "xla", "hpu", "cpu"), `device_name` as its runtime reports it (see the module docstring).

    Raises `UnknownHardware` (a ValueError, one line) for an unknown device type, a missing name,
    a name that matches no row, or a row that this device type cannot be.
    """
    kind = str(device_type).strip().lower().partition(":")[0]
    allowed = DEVICE_TYPES.get(kind)
    if allowed is None:
        raise UnknownHardware(f"unknown device type {device_type!r}; known: {', '.join(DEVICE_TYPES)}")
    name = (device_name or "").strip()
    if kind == "cpu":
        try:
            row = resolve(name, path) if name else None
        except UnknownHardware:
            row = None
        return row if row is not None and row.kind == "cpu" else resolve("cpu", path)
    if not name:
        raise UnknownHardware(
            f"a {kind} device reports no name here; name the chip (e.g. {allowed.example!r}) to find its peak"
        )
    row = resolve(name, path)
    if row.kind not in allowed.kinds or (allowed.vendors is not None and row.vendor not in allowed.vendors):
        raise UnknownHardware(
            f"{kind} device {name!r} resolves to {row.name} ({row.vendor} {row.kind}), "
            f"which a {kind} device cannot be; name the chip the {kind} device runs on"
        )
    return row
