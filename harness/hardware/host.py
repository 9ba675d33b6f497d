"""What this machine is: the CPU's model name and the GPU driver's version. No torch here."""

from __future__ import annotations

import platform

CPUINFO_KEYS = ("model name", "Hardware", "Processor", "cpu model")
"""The /proc/cpuinfo fields that name the CPU, in order of preference (x86, then ARM and others)."""


def cpu_name(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The CPU model from /proc/cpuinfo, else what `platform` says, else 'unknown cpu'."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            fields = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in f) if v.strip()}
    except OSError:
        fields = {}
    for key in CPUINFO_KEYS:
        if fields.get(key):
            return fields[key]
    return platform.processor() or platform.machine() or "unknown cpu"


def driver_version() -> str | None:
    """The NVIDIA driver version through NVML (nvidia-ml-py), or None where NVML is missing."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
        version = pynvml.nvmlSystemGetDriverVersion()
    except Exception:  # noqa: BLE001 - no driver, no library, no permission: no version
        return None
    finally:
        shutdown = getattr(pynvml, "nvmlShutdown", None)
        if shutdown is not None:
            try:
                shutdown()
            except Exception:  # noqa: BLE001
                pass
    return version.decode() if isinstance(version, bytes) else str(version)
