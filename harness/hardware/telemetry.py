"""GPU telemetry through NVML (nvidia-ml-py, imported as pynvml), sampled in a background thread.

`Sampler` records SM clock, power, temperature, GPU utilisation and memory used every
`interval_s`, and the board's energy counter at start and stop. Where NVML is missing (no
NVIDIA driver, a CPU run, the package absent) it warns once and `summary()` is empty: a run
never fails for want of telemetry.
"""

from __future__ import annotations

import statistics
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

from harness.hardware.host import driver_version  # noqa: F401 - one NVML driver lookup, re-exported

_WARNED = False


def nvml() -> Any | None:
    """The initialised pynvml module, or None (with one warning per process) where unavailable."""
    global _WARNED
    try:
        import pynvml

        pynvml.nvmlInit()
        return pynvml
    except Exception as e:  # noqa: BLE001 - any failure means: no telemetry
        if not _WARNED:
            warnings.warn(f"GPU telemetry off: NVML unavailable ({type(e).__name__}: {e})", stacklevel=3)
            _WARNED = True
        return None


@dataclass
class Sampler:
    """Samples one GPU's state in a thread while a `with` block runs."""

    device_index: int = 0
    interval_s: float = 0.05
    samples: list[dict[str, float]] = field(default_factory=list)
    energy_mj: tuple[float, float] | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _handle: Any = None
    _lib: Any = None

    def __enter__(self) -> Sampler:
        self._lib = nvml()
        if self._lib is None:
            return self
        self._handle = self._lib.nvmlDeviceGetHandleByIndex(self.device_index)
        start = self._energy()
        self.energy_mj = (start, start) if start is not None else None
        self._thread = threading.Thread(target=self._run, name="nvml-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        end = self._energy()
        if self.energy_mj is not None and end is not None:
            self.energy_mj = (self.energy_mj[0], end)

    def _energy(self) -> float | None:
        try:
            return float(self._lib.nvmlDeviceGetTotalEnergyConsumption(self._handle))
        except Exception:  # noqa: BLE001 - not every board has the counter
            return None

    def _sample(self) -> dict[str, float]:
        n, h = self._lib, self._handle
        return {
            "sm_clock_mhz": float(n.nvmlDeviceGetClockInfo(h, n.NVML_CLOCK_SM)),
            "power_watts": n.nvmlDeviceGetPowerUsage(h) / 1e3,
            "temperature_c": float(n.nvmlDeviceGetTemperature(h, n.NVML_TEMPERATURE_GPU)),
            "gpu_util": n.nvmlDeviceGetUtilizationRates(h).gpu / 100.0,
            "memory_bytes": float(n.nvmlDeviceGetMemoryInfo(h).used),
        }

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append(self._sample())
            except Exception:  # noqa: BLE001 - a failed read is a missing sample, not a failed run
                pass
            self._stop.wait(self.interval_s)

    def summary(self) -> dict[str, float]:
        """Medians of clock, power and utilisation; max temperature and memory; energy used."""
        if not self.samples:
            return {}

        def col(key: str) -> list[float]:
            return [s[key] for s in self.samples]

        out = {
            "sm_clock_mhz": statistics.median(col("sm_clock_mhz")),
            "power_watts": statistics.median(col("power_watts")),
            "gpu_util": statistics.median(col("gpu_util")),
            "temperature_c": max(col("temperature_c")),
            "memory_bytes": max(col("memory_bytes")),
        }
        if self.energy_mj is not None and self.energy_mj[1] > self.energy_mj[0]:
            out["energy_joules"] = (self.energy_mj[1] - self.energy_mj[0]) / 1e3
        return out
