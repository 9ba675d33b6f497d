"""Which torch devices this machine has, and what measuring on each one needs.

`--device` takes a torch device type: ``cuda`` (NVIDIA, and AMD under ROCm builds, which torch
exposes as cuda), ``mps`` (Apple GPUs), ``xpu`` (Intel GPUs), ``hpu`` (Intel Gaudi, through habana_frameworks),
``xla`` (TPUs and others through torch_xla, when installed), ``cpu``; or ``auto``, the first of
cuda, mps, xpu, hpu present, else cpu
(xla only when asked: torch_xla being installed does not mean a TPU is attached). A type may carry
an index, ``cuda:1``. Timing uses CUDA events where torch has them (cuda); on every other device a
mark synchronises the device and reads a clock (:func:`synchronize`).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import platform
import subprocess
from typing import Any

import torch

KINDS = ("cuda", "mps", "xpu", "hpu", "xla", "cpu")
AUTO_ORDER = ("cuda", "mps", "xpu", "hpu")  # what `auto` tries, in order, before the CPU


class DeviceError(ValueError):
    """A device name this machine cannot honour; the message says what to choose instead."""


def _xla_model() -> Any:
    return importlib.import_module("torch_xla.core.xla_model")


def available(kind: str) -> bool:
    """True if torch can run on a device of this type here."""
    if kind == "cpu":
        return True
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        mps = getattr(torch.backends, "mps", None)
        return bool(mps is not None and mps.is_available())
    if kind == "xpu":
        xpu = getattr(torch, "xpu", None)
        return bool(xpu is not None and xpu.is_available())
    if kind == "hpu":
        if importlib.util.find_spec("habana_frameworks") is None:
            return False
        importlib.import_module("habana_frameworks.torch.core")  # registers torch.hpu
        hpu = getattr(torch, "hpu", None)
        return bool(hpu is not None and hpu.is_available())
    if kind == "xla":
        return importlib.util.find_spec("torch_xla") is not None
    return False


def present() -> tuple[str, ...]:
    """The device types this machine has, in :data:`KINDS` order."""
    return tuple(k for k in KINDS if available(k))


def resolve_device(name: str) -> torch.device:
    """`auto`, a device type, or type:index -> a torch.device; DeviceError naming the choices."""
    if name == "auto":
        return torch.device(next((k for k in AUTO_ORDER if available(k)), "cpu"))
    kind, _, index = name.partition(":")
    if kind not in KINDS:
        raise DeviceError(f"unknown device {name!r}; choose one of: auto, {', '.join(KINDS)}")
    if index and not index.isdigit():
        raise DeviceError(f"device index must be a whole number, as in {kind}:0, not {name!r}")
    if not available(kind):
        hint = {"xla": "install torch_xla", "hpu": "install habana_frameworks"}.get(
            kind, "this torch build or machine has none")
        raise DeviceError(f"device {kind!r} is not available here ({hint}); present: "
                          f"{', '.join(present())}; use --device auto or one of those")
    if kind == "xla":
        return _xla_model().xla_device(int(index)) if index else _xla_model().xla_device()
    return torch.device(f"{kind}:{index}" if index else kind)


def has_events(device: torch.device) -> bool:
    """True where the step can be timed with device events, without a synchronisation per mark."""
    return device.type == "cuda"


def synchronize(device: torch.device) -> None:
    """Wait until the device has finished the work queued so far (no-op on the CPU)."""
    kind = device.type
    if kind == "cuda":
        torch.cuda.synchronize(device)
    elif kind == "mps":
        torch.mps.synchronize()
    elif kind == "xpu":
        torch.xpu.synchronize(device)
    elif kind == "hpu":
        torch.hpu.synchronize()
    elif kind == "xla":
        xm = _xla_model()
        xm.mark_step()  # run the graph traced so far
        xm.wait_device_ops()


def empty_cache(device: torch.device) -> None:
    """Give cached device memory back between configurations."""
    kind = device.type
    if kind == "cuda":
        torch.cuda.empty_cache()
    elif kind == "mps":
        torch.mps.empty_cache()
    elif kind == "xpu":
        torch.xpu.empty_cache()


def device_name(device: torch.device) -> str:
    """The name the peak table is searched by: the GPU's product name, the Apple chip, the CPU model."""
    from harness.hardware.host import cpu_name

    kind = device.type
    if kind == "cuda":
        return torch.cuda.get_device_name(device)
    if kind == "xpu":
        return torch.xpu.get_device_name(device)
    if kind == "hpu":
        return torch.hpu.get_device_name()
    if kind == "mps":
        return apple_chip() or "Apple GPU (mps)"
    if kind == "xla":
        return xla_device_kind(device)
    return cpu_name()


def xla_device_kind(device: torch.device) -> str:
    """The XLA device's kind ("TPU v4"), from torch_xla's TPU version where it has one."""
    hw = str(_xla_model().xla_device_hw(device))
    if hw != "TPU":
        return hw
    try:
        version = importlib.import_module("torch_xla.tpu").version()
    except Exception:  # noqa: BLE001 - an older torch_xla: say what the environment says
        version = None
    accelerator = os.environ.get("TPU_ACCELERATOR_TYPE", "")  # e.g. v5litepod-8 on Cloud TPU VMs
    lite = " lite" if "lite" in accelerator or accelerator.startswith("v6e") else ""
    return f"TPU v{version}{lite}" if version else f"TPU {accelerator}".strip()


def apple_chip() -> str | None:
    """The Apple chip's name ('Apple M2 Max') from sysctl, or None off macOS."""
    if platform.system() != "Darwin":
        return None
    try:
        out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True,
                             timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out or None


OOM_TEXT = (
    "out of memory",  # CUDA, ROCm, MPS ("MPS backend out of memory"), XPU
    "can't allocate memory",  # the CPU allocator: "DefaultCPUAllocator: can't allocate memory"
    "resource_exhausted",  # XLA
)


def is_oom(e: BaseException) -> bool:
    """An allocation failure on any device (then a sweep stops), as opposed to any other error."""
    if isinstance(e, (torch.cuda.OutOfMemoryError, MemoryError)):
        return True
    text = str(e).lower()
    return any(t in text for t in OOM_TEXT)
