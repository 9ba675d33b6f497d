"""NVML telemetry: summaries from samples, and a clean fallback where NVML is missing."""

import sys
import types
import warnings

import pytest

from harness.hardware import telemetry as T


def _fake_nvml(values):
    """A stand-in pynvml whose readings walk through `values` (one dict per sample)."""
    state = {"i": 0, "energy": 1_000_000.0}
    m = types.ModuleType("pynvml")
    m.NVML_CLOCK_SM, m.NVML_TEMPERATURE_GPU = 1, 0
    m.nvmlInit = lambda: None
    m.nvmlSystemGetDriverVersion = lambda: "580.1"
    m.nvmlDeviceGetHandleByIndex = lambda i: "h"

    def cur(key):
        return values[min(state["i"], len(values) - 1)][key]

    def clock(h, kind):
        state["i"] += 1  # one sample read per clock query
        return cur("clock")

    def energy(h):
        state["energy"] += 5000.0  # +5 J per read
        return state["energy"]

    m.nvmlDeviceGetClockInfo = clock
    m.nvmlDeviceGetPowerUsage = lambda h: cur("power_mw")
    m.nvmlDeviceGetTemperature = lambda h, k: cur("temp")
    m.nvmlDeviceGetUtilizationRates = lambda h: types.SimpleNamespace(gpu=cur("util"))
    m.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(used=cur("mem"))
    m.nvmlDeviceGetTotalEnergyConsumption = energy
    return m


def test_summary_from_samples(monkeypatch):
    readings = [dict(clock=1980, power_mw=600_000, temp=60, util=98, mem=10e9),
                dict(clock=1900, power_mw=700_000, temp=70, util=100, mem=20e9)]
    monkeypatch.setitem(sys.modules, "pynvml", _fake_nvml(readings))
    s = T.Sampler(interval_s=0.001)
    with s:
        while len(s.samples) < 3:
            pass
    summary = s.summary()
    assert summary["power_watts"] in (600.0, 650.0, 700.0)  # median of 600 / 700 W samples
    assert summary["temperature_c"] == 70.0 and summary["memory_bytes"] == 20e9  # maxima
    assert summary["energy_joules"] == pytest.approx(5.0)  # the counter read at start and stop
    assert T.driver_version() == "580.1"


def test_missing_nvml_warns_once_and_measures_nothing(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import fails
    monkeypatch.setattr(T, "_WARNED", False)
    with pytest.warns(UserWarning, match="telemetry off"):
        with T.Sampler() as s:
            pass
    assert s.summary() == {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second time: silent
        with T.Sampler() as s2:
            pass
    assert s2.summary() == {}
